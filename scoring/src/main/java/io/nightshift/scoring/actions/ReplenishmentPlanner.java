package io.nightshift.scoring.actions;

import static org.apache.spark.sql.functions.ceil;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.RawData;
import io.nightshift.featurestore.SparkColumns;
import io.nightshift.scoring.BatchScorer;
import io.nightshift.scoring.Prepared;
import io.nightshift.scoring.ScoringOptions;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a night's demand forecasts into replenishment order proposals per store and item:
 *
 * <pre>
 *   demand over lead time  = sum of daily forecasts for the item's lead time
 *   daily forecast std     = forecast_std: the calibrated P10-P90 spread / (2 * 1.2816) before the quantiles are
 *                            clipped at 0 ((P90 - P10) / (2 * 1.2816) for predictions scored before forecast_std,
 *                            the model's prediction_std for predictions without quantiles)
 *   safety stock           = z(service level) * sqrt(sum of daily forecast variances over the lead time)
 *   order quantity         = max(0, demand over lead time + safety stock - on hand - on order), rounded up to packs
 * </pre>
 *
 * The night's forecast must reach every item's lead time (see {@code nightshift score --horizon-days}); otherwise
 * planning stops with an input error naming the items, before anything is written. Written to
 * {@code actions/replenishment_orders} (the decision date's partition, replaced in one transaction) and
 * exported as CSV for the ordering system.
 */
public final class ReplenishmentPlanner {
  private static final Logger LOG = LoggerFactory.getLogger(ReplenishmentPlanner.class);

  private ReplenishmentPlanner() {}

  /** Proposals and how many of them order something. */
  public record Result(long proposals, long orders, double units, String table, String export) {}

  /**
   * Every forecast item needs exactly one {@code raw/items} row with a lead time and a pack size of at least 1: an
   * item without one would drop out of the plan, a pack size of 0 would give no order quantity, and a duplicate row
   * would count its forecast twice. Names up to five offending items per problem and the fix.
   */
  static void requireItemMaster(Dataset<Row> forecasts, Dataset<Row> items, String itemsPath) {
    Dataset<Row> master =
        items.groupBy("item").agg(
            count(lit(1)).as("rows"),
            min(col("pack_size")).as("min_pack"),
            sum(when(col("pack_size").isNull(), 1).otherwise(0)).as("null_pack"),
            min(col("lead_time_days")).as("min_lead"),
            sum(when(col("lead_time_days").isNull(), 1).otherwise(0)).as("null_lead"),
            max(col("lead_time_days")).as("max_lead"));
    List<Row> checked =
        forecasts.select("item").distinct().join(master, SparkColumns.seq("item"), "left").orderBy("item").collectAsList();
    List<String> problems = new ArrayList<>();
    java.util.function.Function<Row, String> item = ReplenishmentPlanner::item;
    problem(problems, checked, r -> r.isNullAt(1), "no row for item(s) %s", item);
    problem(problems, checked, r -> !r.isNullAt(1) && r.getLong(1) > 1, "more than one row for item(s) %s", item);
    problem(problems, checked,
        r -> !r.isNullAt(1) && (r.getLong(3) > 0 || r.isNullAt(2) || r.getInt(2) < 1),
        "pack_size missing or below 1 for item(s) %s", item);
    problem(problems, checked,
        r -> !r.isNullAt(1) && (r.getLong(5) > 0 || r.isNullAt(4) || r.getInt(4) < 1),
        "lead_time_days missing or below 1 for item(s) %s", item);
    // no forecast reaches further: such an item could never be planned, whatever the night is scored with
    problem(problems, checked,
        r -> !r.isNullAt(6) && r.getInt(6) > ScoringOptions.MAX_HORIZON_DAYS,
        "lead_time_days above " + ScoringOptions.MAX_HORIZON_DAYS + " for item(s) %s", item);
    if (!problems.isEmpty()) {
      throw Errors.unusableRows("raw/items", itemsPath, String.join("; ", problems),
          "give every forecast item exactly one row in raw/items with pack_size >= 1 and lead_time_days from 1 to "
              + ScoringOptions.MAX_HORIZON_DAYS + " (the longest forecast, --horizon-days " + ScoringOptions.MAX_HORIZON_DAYS
              + ")");
    }
  }

  /**
   * Every forecast store-item needs exactly one row in the night's stock snapshot, with {@code on_hand} and
   * {@code on_order} present and not negative: a missing row read as no stock would order the lead time's whole
   * demand again, and a duplicate would propose the store-item twice. Names up to five offending store-items per
   * problem and the fix.
   */
  static void requireStockSnapshot(Dataset<Row> forecasts, Dataset<Row> stock, String inventoryPath, LocalDate date) {
    Dataset<Row> snapshot =
        stock.groupBy("store", "item").agg(
            count(lit(1)).as("rows"),
            sum(when(col("on_hand").isNull().or(col("on_hand").lt(0)), 1).otherwise(0)).as("bad_on_hand"),
            sum(when(col("on_order").isNull().or(col("on_order").lt(0)), 1).otherwise(0)).as("bad_on_order"));
    List<Row> checked =
        forecasts.select("store", "item").distinct().join(snapshot, SparkColumns.seq("store", "item"), "left")
            .orderBy("store", "item").collectAsList();
    List<String> problems = new ArrayList<>();
    java.util.function.Function<Row, String> storeItem = r -> "store " + r.getInt(0) + " item " + r.getInt(1);
    problem(problems, checked, r -> r.isNullAt(2), "no row for %s", storeItem);
    problem(problems, checked, r -> !r.isNullAt(2) && r.getLong(2) > 1, "more than one row for %s", storeItem);
    problem(problems, checked, r -> !r.isNullAt(2) && r.getLong(3) > 0, "on_hand missing or negative for %s",
        storeItem);
    problem(problems, checked, r -> !r.isNullAt(2) && r.getLong(4) > 0, "on_order missing or negative for %s",
        storeItem);
    if (!problems.isEmpty()) {
      throw Errors.unusableRows("raw/inventory", inventoryPath, "snapshot of " + date + ": " + String.join("; ", problems),
          "land exactly one row per forecast store-item for " + date + " in raw/inventory, with on_hand >= 0 and"
              + " on_order >= 0 (0 when nothing is on order)");
    }
  }

  private static void problem(
      List<String> problems, List<Row> checked, java.util.function.Predicate<Row> bad, String format,
      java.util.function.Function<Row, String> name) {
    List<Row> bads = checked.stream().filter(bad).toList();
    if (!bads.isEmpty()) {
      problems.add(String.format(format, firstFive(bads, name)));
    }
  }

  /** The item of a row whose column 0 is the item, as error messages name it. */
  private static String item(Row r) {
    return String.valueOf(r.getInt(0));
  }

  /** The first five of {@code rows}, each named by {@code name}, as an error message names them. */
  private static String firstFive(List<Row> rows, java.util.function.Function<Row, String> name) {
    return rows.stream().limit(5).map(name).collect(Collectors.joining(", ")) + (rows.size() > 5 ? ", ..." : "");
  }

  /**
   * Fails with an input error unless {@code serviceLevel} is in (0.5, 1). {@link #plan} checks it first; a command
   * that plans other decisions calls it up front, so a bad setting stops it before anything is written.
   */
  public static void requireServiceLevel(double serviceLevel) {
    if (!(serviceLevel > 0.5 && serviceLevel < 1.0)) {
      throw Errors.invalidOption("--service-level", Double.toString(serviceLevel), "use a value in (0.5, 1), e.g. 0.95");
    }
  }

  public static Result plan(SparkSession spark, Warehouse warehouse, LocalDate date, double serviceLevel) {
    return prepare(spark, warehouse, date, serviceLevel).write();
  }

  /**
   * As {@link #plan}, in two steps: the setting and every input (forecasts, item master, stock snapshot) are checked
   * now, the proposals are written by {@link Prepared#write}.
   */
  public static Prepared<Result> prepare(SparkSession spark, Warehouse warehouse, LocalDate date, double serviceLevel) {
    requireServiceLevel(serviceLevel);
    double z = new NormalDistribution().inverseCumulativeProbability(serviceLevel);
    Column day = col("score_date").equalTo(lit(Date.valueOf(date)));
    // the inputs checked here are the ones written from: the forecasts at the Delta version read now, and the item
    // master and stock snapshot (CSV files, which have no versions) kept as read, so files landed between the checks
    // and the write cannot reach the proposals unchecked
    String predictions = warehouse.predictions(UseCase.DEMAND);
    DeltaTables.requireTable(spark, predictions, "predictions/demand",
        "run 'nightshift score --date " + date + " --use-case demand' first");
    Dataset<Row> forecasts =
        DeltaTables.readVersion(spark, predictions, "predictions/demand", DeltaTables.version(spark, predictions))
            .where(day);
    if (forecasts.isEmpty()) {
      throw Errors.emptyPartition(
          "predictions/demand", "score date " + date, "run 'nightshift score --date " + date + " --use-case demand' first");
    }
    // only the columns planning uses are parsed and kept, as a read without the pinning would
    Dataset<Row> items = RawData.read(spark, warehouse.rawItems(), "raw/items", RawData.ITEMS)
        .select("item", "pack_size", "lead_time_days")
        .localCheckpoint();
    Dataset<Row> stock =
        RawData.read(spark, warehouse.rawInventory(), "raw/inventory", RawData.INVENTORY)
            .where(col("date").equalTo(lit(Date.valueOf(date))))
            .select("store", "item", "on_hand", "on_order")
            .localCheckpoint();
    if (stock.isEmpty()) {
      throw Errors.emptyPartition(
          "raw/inventory", "date " + date, "land the stock-on-hand snapshot of " + date + " in raw/inventory");
    }

    // forecast_std is the quantiles' spread before they are clipped at 0: from the clipped P90 - P10 a slow mover's
    // std (P10 clipped to 0) would be understated by a third or more
    List<String> columns = Arrays.asList(forecasts.columns());
    boolean quantiles = columns.containsAll(List.of("forecast_p10", "forecast_p90"));
    Column clippedSpreadStd = col("forecast_p90").minus(col("forecast_p10")).divide(2 * BatchScorer.Z90);
    Column spreadStd =
        columns.contains("forecast_std") ? coalesce(col("forecast_std"), clippedSpreadStd) : clippedSpreadStd;
    Column dailyStd =
        quantiles
            ? coalesce(spreadStd, col("prediction_std"), lit(0.0))
            : coalesce(col("prediction_std"), lit(0.0));
    requireItemMaster(forecasts, items, warehouse.rawItems());
    requireStockSnapshot(forecasts, stock, warehouse.rawInventory(), date);
    // the forecast must cover every item's lead time: a shorter one would silently under-order
    Row reach = forecasts.agg(max("horizon_days")).head();
    int horizon = ((Number) reach.get(0)).intValue();
    List<Row> uncovered =
        forecasts.select("item").distinct().join(items, "item").where(col("lead_time_days").gt(horizon))
            .orderBy("item").select("item", "lead_time_days").collectAsList();
    if (!uncovered.isEmpty()) {
      int longest = uncovered.stream().mapToInt(r -> r.getInt(1)).max().getAsInt();
      throw Errors.emptyPartition(
          "predictions/demand",
          "horizons " + (horizon + 1) + ".." + longest + " of score date " + date + " (item(s) "
              + firstFive(uncovered, ReplenishmentPlanner::item) + " have lead times up to " + longest
              + " days; the night was forecast " + horizon + " days ahead)",
          "score the night with 'nightshift score --date " + date + " --use-case demand --horizon-days " + longest
              + "' first");
    }
    Dataset<Row> joined =
        forecasts.join(items, "item").where(col("horizon_days").leq(col("lead_time_days")));
    Dataset<Row> perItem =
        joined
            .groupBy("store", "item")
            .agg(
                first("lead_time_days").as("lead_time_days"),
                first("pack_size").as("pack_size"),
                sum("prediction").as("forecast_lead_time"),
                sqrt(sum(pow(dailyStd, 2))).as("lead_time_std"),
                first("model_version").as("model_version"));
    Column safety = lit(z).multiply(col("lead_time_std"));
    Dataset<Row> proposals =
        perItem
            .join(stock.select("store", "item", "on_hand", "on_order"), SparkColumns.seq("store", "item"))
            .withColumn("safety_stock", safety)
            .withColumn("order_up_to", col("forecast_lead_time").plus(col("safety_stock")))
            .withColumn(
                "shortfall",
                greatest(lit(0.0), col("order_up_to").minus(col("on_hand")).minus(col("on_order"))))
            .withColumn(
                "order_qty",
                when(col("shortfall").gt(0), ceil(col("shortfall").divide(col("pack_size"))).multiply(col("pack_size")))
                    .otherwise(lit(0L))
                    .cast("long"))
            .select(
                lit(Date.valueOf(date)).as("decision_date"),
                col("store"),
                col("item"),
                col("lead_time_days"),
                col("forecast_lead_time"),
                col("safety_stock"),
                col("on_hand"),
                col("on_order"),
                col("order_up_to"),
                col("pack_size"),
                col("order_qty"),
                lit(serviceLevel).as("service_level"),
                col("model_version"))
            .orderBy("store", "item");

    return () -> write(spark, warehouse, date, proposals);
  }

  private static Result write(SparkSession spark, Warehouse warehouse, LocalDate date, Dataset<Row> proposals) {
    String table = warehouse.replenishmentOrders();
    DeltaTables.replacePartition(proposals, table, "decision_date", date.toString());
    Dataset<Row> written = spark.read().format("delta").load(table).where(col("decision_date").equalTo(lit(Date.valueOf(date))));
    String export = warehouse.exports("replenishment_orders/" + date);
    written.where(col("order_qty").gt(0)).orderBy("store", "item").coalesce(1)
        .write().mode("overwrite").option("header", "true").csv(export);
    Row totals = written.agg(org.apache.spark.sql.functions.count(lit(1)),
        sum(when(col("order_qty").gt(0), 1).otherwise(0)), sum("order_qty")).head();
    Result r = new Result(totals.getLong(0), totals.getLong(1), totals.isNullAt(2) ? 0 : totals.getLong(2), table, export);
    LOG.info("Planned {} replenishment proposals for {} ({} orders, {} units) -> {}", r.proposals(), date, r.orders(), r.units(), export);
    return r;
  }
}
