package io.nightshift.scoring.monitoring;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.RawData;
import io.nightshift.featurestore.SparkColumns;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nightly monitoring of one use case: statistics of the night's predictions (compared with the previous night), and
 * the realized accuracy of earlier predictions whose outcome is now known (demand: actual sales by forecast horizon
 * over the last 28 days; maintenance: failures within seven days of nights at least seven days old). Written to
 * {@code monitoring/prediction_stats} and {@code monitoring/accuracy}, replacing the date's rows.
 */
public final class Monitor {
  private static final Logger LOG = LoggerFactory.getLogger(Monitor.class);
  static final int ACCURACY_WINDOW_DAYS = 28;

  private Monitor() {}

  public record Result(UseCase useCase, LocalDate date, Row stats, List<Row> accuracy) {
    public String headline() {
      String acc =
          accuracy.isEmpty()
              ? "no outcomes known yet"
              : useCase == UseCase.DEMAND
                  ? String.format(Locale.ROOT, "realized WAPE %.3f over %d forecasts", weighted("wape"), total())
                  : String.format(Locale.ROOT, "realized recall %.2f over %d scored machine-days", accuracy.get(0).<Double>getAs("recall"), total());
      return String.format(
          Locale.ROOT, "%d predictions, mean %.3f; %s", stats.<Long>getAs("rows"), stats.<Double>getAs("mean"), acc);
    }

    public String render() {
      String rows =
          accuracy.stream().map(Row::toString).collect(Collectors.joining("\n    "));
      return useCase.id() + " monitoring for " + date + ": " + headline() + (rows.isEmpty() ? "" : "\n    " + rows);
    }

    private long total() {
      return accuracy.stream().mapToLong(r -> r.<Long>getAs("n")).sum();
    }

    private double weighted(String metric) {
      double num = 0;
      long n = 0;
      for (Row r : accuracy) {
        Double v = r.getAs(metric);
        if (v != null && !v.isNaN()) {
          num += v * r.<Long>getAs("n");
          n += r.<Long>getAs("n");
        }
      }
      return n == 0 ? Double.NaN : num / n;
    }
  }

  public static Result run(SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate date) {
    String fix = "run 'nightshift score --date " + date + " --use-case " + useCase.id() + "' first";
    Dataset<Row> predictions =
        DeltaTables.read(spark, warehouse.predictions(useCase), "predictions/" + useCase.id(), fix);
    Column tonight = col("score_date").equalTo(lit(Date.valueOf(date)));
    if (predictions.where(tonight).isEmpty()) {
      throw Errors.emptyPartition("predictions/" + useCase.id(), "score date " + date, fix);
    }
    Row previous =
        predictions.where(col("score_date").lt(lit(Date.valueOf(date)))).agg(max("score_date")).head();
    Column prevMean =
        previous.isNullAt(0)
            ? lit(null).cast("double")
            : lit(predictions.where(col("score_date").equalTo(lit(previous.getDate(0)))).agg(avg("prediction")).head().getDouble(0));
    Dataset<Row> stats =
        predictions
            .where(tonight)
            .agg(
                count(lit(1)).as("rows"),
                avg("prediction").as("mean"),
                min("prediction").as("min"),
                expr("percentile_approx(prediction, 0.1)").as("p10"),
                expr("percentile_approx(prediction, 0.5)").as("p50"),
                expr("percentile_approx(prediction, 0.9)").as("p90"),
                max("prediction").as("max"))
            .select(
                lit(useCase.id()).as("use_case"),
                lit(Date.valueOf(date)).as("monitor_date"),
                col("*"),
                prevMean.as("previous_mean"));
    Dataset<Row> accuracy =
        useCase == UseCase.DEMAND ? demandAccuracy(spark, warehouse, predictions, date) : maintenanceAccuracy(spark, warehouse, predictions, date);
    String where = "use_case = '" + useCase.id() + "' AND monitor_date = '" + date + "'";
    DeltaTables.replaceWhere(stats, warehouse.monitoring("prediction_stats"), where, "use_case");
    DeltaTables.replaceWhere(accuracy, warehouse.monitoring("accuracy"), where, "use_case");
    Row s = spark.read().format("delta").load(warehouse.monitoring("prediction_stats")).where(where).head();
    List<Row> acc =
        spark.read().format("delta").load(warehouse.monitoring("accuracy")).where(where).orderBy("horizon_days").collectAsList();
    Result r = new Result(useCase, date, s, acc);
    LOG.info("Monitoring {} {}: {}", useCase.id(), date, r.headline());
    return r;
  }

  /** WAPE and bias by forecast horizon for target days in the last 28 days whose sales are known. */
  static Dataset<Row> demandAccuracy(SparkSession spark, Warehouse warehouse, Dataset<Row> predictions, LocalDate date) {
    Dataset<Row> actuals =
        RawData.read(spark, warehouse.rawSales(), "raw/sales", RawData.SALES)
            .where(col("date").leq(lit(Date.valueOf(date))))
            .select(col("store"), col("item"), col("date").as("target_date"), col("sales").cast("double").as("actual"));
    Dataset<Row> known =
        predictions
            .where(col("target_date").leq(lit(Date.valueOf(date)))
                .and(col("target_date").gt(lit(Date.valueOf(date.minusDays(ACCURACY_WINDOW_DAYS))))))
            .join(actuals, SparkColumns.seq("store", "item", "target_date"));
    Column err = col("prediction").minus(col("actual"));
    return known
        .groupBy("horizon_days")
        .agg(
            count(lit(1)).as("n"),
            sum(abs(err)).divide(sum(abs(col("actual")))).as("wape"),
            sum(err).divide(sum(abs(col("actual")))).as("bias"),
            lit(null).cast("double").as("precision"),
            lit(null).cast("double").as("recall"))
        .select(
            lit(UseCase.DEMAND.id()).as("use_case"), lit(Date.valueOf(date)).as("monitor_date"), col("horizon_days"),
            col("n"), col("wape"), col("bias"), col("precision"), col("recall"));
  }

  /** Precision and recall at 0.5 for nights whose seven-day outcome window has closed, within the last 28 days. */
  static Dataset<Row> maintenanceAccuracy(
      SparkSession spark, Warehouse warehouse, Dataset<Row> predictions, LocalDate date) {
    Dataset<Row> failures =
        RawData.read(spark, warehouse.rawMaintenanceLog(), "raw/maintenance_log", RawData.MAINTENANCE_LOG)
            .where(col("event_type").equalTo("failure").and(col("date").leq(lit(Date.valueOf(date)))))
            .select(col("machine_id"), col("date").as("failure_date"));
    Dataset<Row> closed =
        predictions.where(
            col("score_date").leq(lit(Date.valueOf(date.minusDays(7))))
                .and(col("score_date").gt(lit(Date.valueOf(date.minusDays(ACCURACY_WINDOW_DAYS))))));
    Dataset<Row> labeled =
        closed
            .join(failures, closed.col("machine_id").equalTo(failures.col("machine_id"))
                .and(datediff(failures.col("failure_date"), closed.col("score_date")).between(1, 7)), "left")
            .groupBy(closed.col("machine_id"), closed.col("score_date"), closed.col("prediction"))
            .agg(max(when(col("failure_date").isNotNull(), 1).otherwise(0)).as("failed"));
    Column flagged = col("prediction").geq(0.5);
    Column tp = sum(when(flagged.and(col("failed").equalTo(1)), 1).otherwise(0));
    return labeled
        .agg(
            count(lit(1)).as("n"),
            tp.divide(sum(when(flagged, 1).otherwise(0))).as("precision"),
            tp.divide(sum(col("failed"))).as("recall"))
        .where(col("n").gt(0))
        .select(
            lit(UseCase.MAINTENANCE.id()).as("use_case"), lit(Date.valueOf(date)).as("monitor_date"),
            lit(7).as("horizon_days"), col("n"), lit(null).cast("double").as("wape"), lit(null).cast("double").as("bias"),
            col("precision").cast("double").as("precision"), col("recall").cast("double").as("recall"));
  }
}
