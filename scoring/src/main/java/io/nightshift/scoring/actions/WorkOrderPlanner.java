package io.nightshift.scoring.actions;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.scoring.Prepared;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Column;
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
 *
 * <p>{@link #planFromRul} does the same from a remaining-useful-life model's predictions ({@code predictions/<model>},
 * written by {@code ViewScorer}): assets expected to fail within a horizon, shortest predicted life first, into
 * {@code actions/rul_work_orders}.
 */
public final class WorkOrderPlanner {
  private static final Logger LOG = LoggerFactory.getLogger(WorkOrderPlanner.class);

  private WorkOrderPlanner() {}

  /**
   * The features pushing the risk up, as text ("vibration_mean_7d +0.84; temperature_trend +0.31"), from the SHAP
   * contributions scoring stored; null for predictions made without them.
   */
  public static Column reasons(Dataset<Row> risks) {
    String text = contributionText(risks, "> 0", " +");
    return text == null ? lit(null).cast("string") : expr(text);
  }

  /**
   * The features shortening a predicted remaining life, most first, as text ("s11_mean_10 -8.42; s4 -3.10"), from the
   * SHAP contributions scoring stored (negative ones); null when none of the kept contributions is negative or the
   * predictions were made without them.
   */
  public static Column lifeReasons(Dataset<Row> predictions) {
    String text = contributionText(predictions, "< 0", " ");
    return text == null ? lit(null).cast("string") : expr("nullif(" + text + ", '')");
  }

  /**
   * The SQL joining the stored contributions that satisfy {@code keep} (e.g. "> 0") as "feature{@code sign}value; ...",
   * in their stored order (largest absolute first); null when {@code predictions} has no contributions column.
   */
  private static String contributionText(Dataset<Row> predictions, String keep, String sign) {
    if (!Arrays.asList(predictions.columns()).contains("contributions")) {
      return null;
    }
    return "array_join(transform(filter(contributions, c -> c.contribution " + keep + "),"
        + " c -> concat(c.feature, '" + sign + "', format_number(c.contribution, 2))), '; ')";
  }

  private static void requireCrews(int crews) {
    if (crews < 0) {
      throw Errors.invalidOption("--crews", Integer.toString(crews), "use 0 or more work orders per day");
    }
  }

  /** The next-day schedule of ranked work orders: the first {@code crews} are scheduled, the rest are backlog. */
  private static List<Column> schedule(LocalDate date, int crews) {
    return List.of(
        when(col("rank").leq(crews), date_add(lit(Date.valueOf(date)), 1)).as("scheduled_date"),
        when(col("rank").leq(crews), "scheduled").otherwise("backlog").as("status"));
  }

  private record Written(long workOrders, long scheduled) {}

  /**
   * Reads back the work orders just committed to {@code table} (its rows matching {@code mine}), exports them by rank
   * as one CSV file to {@code export}, and counts them and the scheduled ones.
   */
  private static Written exportWritten(SparkSession spark, String table, Column mine, String export) {
    return exportWritten(spark, table, mine, null, export);
  }

  /** As above, exporting only {@code columns} (all of the table's when null), in their order. */
  private static Written exportWritten(SparkSession spark, String table, Column mine, String[] columns, String export) {
    Dataset<Row> written = spark.read().format("delta").load(table).where(mine);
    if (columns != null) {
      written = written.select(Arrays.stream(columns).map(org.apache.spark.sql.functions::col).toArray(Column[]::new));
    }
    written.orderBy("rank").coalesce(1).write().mode("overwrite").option("header", "true").csv(export);
    return new Written(written.count(), written.where(col("status").equalTo("scheduled")).count());
  }

  public record Result(long workOrders, long scheduled, String table, String export) {}

  /** What {@link #planFromRul} wrote: the model's work orders for the decision date. */
  public record RulResult(String model, long workOrders, long scheduled, double horizon, String table, String export) {}

  /** The columns a remaining-life work order adds to the model's entity keys and event time (lower case). */
  private static final Set<String> RUL_ORDER_COLUMNS = Set.of(
      "decision_date", "model_name", "rank", "asset", "predicted_rul", "predicted_end_of_life", "priority",
      "scheduled_date", "status", "reasons", "model_version");

  /**
   * Fails with an input error, before anything is written, unless {@code orders} can be written to the shared {@code
   * table} as Delta merges their schemas: a column of the same name (in any case) with a type the table's cannot take,
   * such as a predicted end of life that is a date for one model and a cycle count for another, would fail the write.
   */
  private static void requireSharable(SparkSession spark, String table, Dataset<Row> orders, String modelName) {
    if (!DeltaTables.exists(spark, table)) {
      return;
    }
    org.apache.spark.sql.types.StructType existing = spark.read().format("delta").load(table).schema();
    try {
      org.apache.spark.sql.delta.schema.SchemaMergingUtils.mergeSchemas(
          existing, orders.schema(), false, false, false, false);
    } catch (Exception e) { // Delta's AnalysisException, undeclared from Scala
      List<String> conflicting = new ArrayList<>();
      for (org.apache.spark.sql.types.StructField f : orders.schema().fields()) {
        for (org.apache.spark.sql.types.StructField t : existing.fields()) {
          if (t.name().equalsIgnoreCase(f.name()) && !t.dataType().equals(f.dataType())) {
            conflicting.add(f.name() + " is " + f.dataType().simpleString() + " for " + modelName + " but "
                + t.dataType().simpleString() + " in the table");
          }
        }
      }
      List<String> others = spark.read().format("delta").load(table).select("model_name").distinct()
          .where(col("model_name").notEqual(lit(modelName))).orderBy("model_name")
          .as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
      throw Errors.unusableRows("actions/rul_work_orders", table,
          "the work orders of " + modelName + " do not fit the table that the work orders of " + others
              + " are in: " + (conflicting.isEmpty() ? e.getMessage() : String.join("; ", conflicting)),
          "models that share actions/rul_work_orders need the same type for columns of the same name (entity keys,"
              + " event time and so predicted_end_of_life): give " + modelName + "'s feature view the types of the"
              + " others', or plan it with --warehouse set to a warehouse of its own");
    }
  }

  /** The columns of a remaining-life predictions table other than the entity keys and the event time. */
  private static final Set<String> RUL_PREDICTION_COLUMNS = Set.of(
      "score_date", "prediction", "predicted_end_of_life", "model_name", "model_version", "model_run_id",
      "feature_table_version", "margin", "bias", "contributions");

  /**
   * Fails with an input error unless {@code modelName} is a plain model name, {@code horizon} a positive, finite
   * remaining life and {@code crews} not negative. {@link #planFromRul} checks them first; a command that plans other
   * decisions before calls it up front, so bad settings stop it before anything is written.
   */
  public static void requireRulSettings(String modelName, double horizon, int crews) {
    if (modelName == null || modelName.isBlank() || modelName.contains("@") || modelName.contains("/")) {
      throw Errors.invalidOption("--rul-model", String.valueOf(modelName),
          "pass the registered model name whose predictions scoring wrote to predictions/NAME, without an alias or"
              + " version, e.g. --rul-model nightshift-cmapss-rul");
    }
    if (!(horizon > 0) || Double.isInfinite(horizon)) {
      throw Errors.invalidOption("--rul-horizon", Double.toString(horizon),
          "use a positive remaining life in the model's time unit (its view's event time, e.g. 30 cycles)");
    }
    requireCrews(crews);
  }

  /**
   * Plans work orders from the remaining-useful-life predictions that {@code score --model NAME@ALIAS} wrote to
   * {@code predictions/<modelName>} for score date {@code date}: every asset whose predicted remaining life is at
   * most {@code horizon} (in the view's time unit, e.g. cycles), ranked by shortest predicted life (ties by entity
   * key), with priority P1 (life at most a third of the horizon), P2 (two thirds) or P3, scheduled for the next day
   * up to {@code crews} work orders (the rest is backlog), and the features shortening the life as reasons. Written
   * to {@code actions/rul_work_orders}, replacing only the (decision date, model) rows in one transaction, and
   * exported as CSV to {@code exports/rul_work_orders/<model>/<date>}.
   *
   * <p>The asset is named by the entity key columns of the predictions table (the columns before the event time,
   * which comes just before {@code prediction}) and by {@code asset}, their values joined with "/". Models sharing the
   * table should use the same types for key and event-time columns of the same name.
   */
  public static RulResult planFromRul(
      SparkSession spark, Warehouse warehouse, LocalDate date, String modelName, double horizon, int crews) {
    return prepareFromRul(spark, warehouse, date, modelName, horizon, crews).write();
  }

  /**
   * As {@link #planFromRul}, in two steps: the settings and the predictions are checked now, the work orders are
   * written by {@link Prepared#write}.
   */
  public static Prepared<RulResult> prepareFromRul(
      SparkSession spark, Warehouse warehouse, LocalDate date, String modelName, double horizon, int crews) {
    requireRulSettings(modelName, horizon, crews);
    String name = "predictions/" + modelName;
    String score = "run 'nightshift score --date " + date + " --model " + modelName + "@champion' first";
    Dataset<Row> predictions = DeltaTables.read(spark, warehouse.path(name), name, score);
    List<String> columns = Arrays.asList(predictions.columns());
    if (!columns.contains("predicted_end_of_life")) {
      throw Errors.invalidOption("--rul-model", modelName,
          name + " has no predicted_end_of_life column, so " + modelName + " is not a remaining-useful-life model;"
              + " pass a model trained with task: rul_regression (e.g. nightshift-cmapss-rul)");
    }
    DeltaTables.requireColumns(predictions, name, List.of("score_date", "prediction", "model_version"));
    // ViewScorer writes score_date, the entity keys, the event time, then prediction
    List<String> ids = new ArrayList<>(columns.subList(0, columns.indexOf("prediction")));
    ids.removeIf(RUL_PREDICTION_COLUMNS::contains);
    if (ids.size() < 2) {
      throw Errors.missingColumns(name + " (entity keys and event time before prediction)",
          List.of("entity key", "event time"), columns);
    }
    List<String> keys = ids.subList(0, ids.size() - 1);
    String time = ids.get(ids.size() - 1);
    for (String id : ids) {
      if (RUL_ORDER_COLUMNS.contains(id.toLowerCase(java.util.Locale.ROOT))) {
        throw Errors.unusableRows(name, warehouse.path(name),
            "its entity key or event-time column '" + id + "' has the name of a work-order column "
                + RUL_ORDER_COLUMNS.stream().sorted().toList(),
            "rename the column in the model's feature view (e.g. " + id + "_id), rebuild the view, retrain and"
                + " score the model");
      }
    }
    Dataset<Row> night = predictions.where(col("score_date").equalTo(lit(Date.valueOf(date))));
    if (night.isEmpty()) {
      throw Errors.emptyPartition(name, "score date " + date, score);
    }

    // shortest predicted life first; scoring clamps the life at 0 and keeps the model's raw output in margin (ViewScorer),
    // so assets already past their predicted end of life go by how far past it they are, most overdue first
    List<Column> order = new ArrayList<>();
    if (columns.contains("margin")) {
      order.add(col("margin").asc());
    }
    order.add(col("prediction").asc());
    keys.forEach(k -> order.add(col(k).asc()));
    List<Column> out = new ArrayList<>();
    out.add(lit(Date.valueOf(date)).as("decision_date"));
    out.add(lit(modelName).as("model_name"));
    out.add(col("rank"));
    keys.forEach(k -> out.add(col(k)));
    out.add(concat_ws("/", keys.stream().map(k -> col(k).cast("string")).toArray(Column[]::new)).as("asset"));
    out.add(col(time));
    out.add(col("prediction").as("predicted_rul"));
    out.add(col("predicted_end_of_life"));
    out.add(when(col("prediction").leq(horizon / 3), "P1").when(col("prediction").leq(2 * horizon / 3), "P2")
        .otherwise("P3").as("priority"));
    out.addAll(schedule(date, crews));
    out.add(lifeReasons(night).as("reasons"));
    out.add(col("model_version"));
    Dataset<Row> orders =
        night
            .where(col("prediction").leq(horizon))
            .withColumn("rank", row_number().over(Window.partitionBy("score_date").orderBy(order.toArray(new Column[0]))))
            .select(out.toArray(new Column[0]))
            .orderBy("rank");

    String table = warehouse.rulWorkOrders();
    requireSharable(spark, table, orders, modelName);
    return () -> {
      Column mine =
          col("decision_date").equalTo(lit(Date.valueOf(date))).and(col("model_name").equalTo(lit(modelName)));
      DeltaTables.replaceWhere(orders, table,
          "decision_date = '" + date + "' AND model_name = '" + modelName.replace("'", "''") + "'",
          "decision_date", "model_name");
      String export = warehouse.exports("rul_work_orders/" + modelName + "/" + date);
      // this model's columns in its own order, whatever columns other models sharing the table have added
      Written w = exportWritten(spark, table, mine, orders.columns(), export);
      LOG.info("Planned {} work orders from {} (predicted remaining life <= {}, event time {}) for {} ({} scheduled for"
          + " the next day) -> {}", w.workOrders(), modelName, horizon, time, String.valueOf(date), w.scheduled(), export);
      return new RulResult(modelName, w.workOrders(), w.scheduled(), horizon, table, export);
    };
  }

  /**
   * Fails with an input error unless {@code threshold} is a probability in (0, 1) and {@code crews} not negative.
   * {@link #plan} checks them first; a command that plans other decisions before calls it up front, so bad settings
   * stop it before anything is written.
   */
  public static void requireSettings(double threshold, int crews) {
    if (!(threshold > 0 && threshold < 1)) {
      throw Errors.invalidOption("--risk-threshold", Double.toString(threshold), "use a probability in (0, 1)");
    }
    requireCrews(crews);
  }

  public static Result plan(SparkSession spark, Warehouse warehouse, LocalDate date, double threshold, int crews) {
    return prepare(spark, warehouse, date, threshold, crews).write();
  }

  /**
   * As {@link #plan}, in two steps: the settings and the night's risks are checked now, the work orders are written
   * by {@link Prepared#write}.
   */
  public static Prepared<Result> prepare(
      SparkSession spark, Warehouse warehouse, LocalDate date, double threshold, int crews) {
    requireSettings(threshold, crews);
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
    List<Column> out = new ArrayList<>();
    out.add(lit(Date.valueOf(date)).as("decision_date"));
    out.add(col("rank"));
    out.add(col("machine_id"));
    out.add(col("prediction").as("failure_risk_7d"));
    out.add(when(col("prediction").geq(0.8), "P1").when(col("prediction").geq(0.65), "P2").otherwise("P3").as("priority"));
    out.addAll(schedule(date, crews));
    out.add(reasons(risks).as("reasons"));
    out.add(col("model_version"));
    Dataset<Row> orders =
        risks
            .where(col("prediction").geq(threshold))
            .withColumn("rank", row_number().over(Window.partitionBy("score_date").orderBy(col("prediction").desc(), col("machine_id"))))
            .select(out.toArray(new Column[0]))
            .orderBy("rank");
    return () -> write(spark, warehouse, date, orders);
  }

  private static Result write(SparkSession spark, Warehouse warehouse, LocalDate date, Dataset<Row> orders) {
    String table = warehouse.workOrders();
    DeltaTables.replacePartition(orders, table, "decision_date", date.toString());
    String export = warehouse.exports("work_orders/" + date);
    Written w = exportWritten(spark, table, col("decision_date").equalTo(lit(Date.valueOf(date))), export);
    LOG.info("Planned {} work orders for {} ({} scheduled for the next day) -> {}", w.workOrders(), date, w.scheduled(), export);
    return new Result(w.workOrders(), w.scheduled(), table, export);
  }
}
