package io.nightshift.scoring.actions;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import java.sql.Date;
import java.time.LocalDate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a night's failure risks into maintenance work orders: machines at or above the risk threshold, ranked by
 * risk, with a priority, and scheduled for the next day up to the crews' daily capacity (the rest is backlog).
 * Written to {@code actions/work_orders} (the decision date's partition, replaced in one transaction) and exported
 * as CSV.
 */
public final class WorkOrderPlanner {
  private static final Logger LOG = LoggerFactory.getLogger(WorkOrderPlanner.class);

  private WorkOrderPlanner() {}

  /**
   * The features pushing the risk up, as text ("vibration_mean_7d +0.84; temperature_trend +0.31"), from the SHAP
   * contributions scoring stored; null for predictions made without them.
   */
  public static org.apache.spark.sql.Column reasons(Dataset<Row> risks) {
    if (!java.util.Arrays.asList(risks.columns()).contains("contributions")) {
      return org.apache.spark.sql.functions.lit(null).cast("string");
    }
    return org.apache.spark.sql.functions.expr(
        "array_join(transform(filter(contributions, c -> c.contribution > 0),"
            + " c -> concat(c.feature, ' +', format_number(c.contribution, 2))), '; ')");
  }

  public record Result(long workOrders, long scheduled, String table, String export) {}

  public static Result plan(SparkSession spark, Warehouse warehouse, LocalDate date, double threshold, int crews) {
    if (!(threshold > 0 && threshold < 1)) {
      throw Errors.invalidOption("--risk-threshold", Double.toString(threshold), "use a probability in (0, 1)");
    }
    if (crews < 0) {
      throw Errors.invalidOption("--crews", Integer.toString(crews), "use 0 or more work orders per day");
    }
    Dataset<Row> risks =
        DeltaTables.read(
                spark, warehouse.predictions(UseCase.MAINTENANCE), "predictions/maintenance",
                "run 'nightshift score --date " + date + " --use-case maintenance' first")
            .where(col("score_date").equalTo(lit(Date.valueOf(date))));
    if (risks.isEmpty()) {
      throw Errors.emptyPartition(
          "predictions/maintenance", "score date " + date,
          "run 'nightshift score --date " + date + " --use-case maintenance' first");
    }
    Dataset<Row> orders =
        risks
            .where(col("prediction").geq(threshold))
            .withColumn("rank", row_number().over(Window.partitionBy("score_date").orderBy(col("prediction").desc(), col("machine_id"))))
            .select(
                lit(Date.valueOf(date)).as("decision_date"),
                col("rank"),
                col("machine_id"),
                col("prediction").as("failure_risk_7d"),
                when(col("prediction").geq(0.8), "P1").when(col("prediction").geq(0.65), "P2").otherwise("P3").as("priority"),
                when(col("rank").leq(crews), date_add(lit(Date.valueOf(date)), 1)).as("scheduled_date"),
                when(col("rank").leq(crews), "scheduled").otherwise("backlog").as("status"),
                reasons(risks).as("reasons"),
                col("model_version"))
            .orderBy("rank");
    String table = warehouse.workOrders();
    DeltaTables.replacePartition(orders, table, "decision_date", date.toString());
    Dataset<Row> written = spark.read().format("delta").load(table).where(col("decision_date").equalTo(lit(Date.valueOf(date))));
    String export = warehouse.exports("work_orders/" + date);
    written.orderBy("rank").coalesce(1).write().mode("overwrite").option("header", "true").csv(export);
    long n = written.count();
    long scheduled = written.where(col("status").equalTo("scheduled")).count();
    LOG.info("Planned {} work orders for {} ({} scheduled for the next day) -> {}", n, date, scheduled, export);
    return new Result(n, scheduled, table, export);
  }
}
