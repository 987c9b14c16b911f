package io.nightshift.scoring;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.RawData;
import io.nightshift.featurestore.SparkColumns;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.predict.NativePredictor;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Demand forecasts beyond the seven days one night's feature rows cover, recursively in seven-day blocks.
 *
 * <p>Block 1 ({@code D+1..D+7}) is the direct forecast from the feature table. For block {@code b >= 2} the point
 * forecasts of the earlier blocks stand in for the unknown sales of {@code D+1..D+7(b-1)} (the expected value, so
 * rolling means stay unbiased; clipped at 0 like the published forecast), and the features of {@code D+7(b-1)+1 ..
 * D+7b} are recomputed with {@link DemandFeatures#compute(SparkSession, Dataset, Dataset, LocalDate, LocalDate)} over
 * the known sales up to {@code D} plus those provisional sales, and the price/promotion plan. Every feature of a
 * block-{@code b} row then uses sales of the previous block at the latest, exactly as the model was trained.
 *
 * <p>Inputs come from pinned data so that a replay is exact: the known sales and the plan through {@code D+7} from
 * the feature-table version being scored, the plan of {@code D+8..D+N} from {@code raw/price_plan} (a snapshot of it
 * is stored per night in {@code monitoring/scoring_price_plan} and named in the manifest; a replay reads the
 * snapshot).
 */
final class RecursiveForecast {
  private static final Logger LOG = LoggerFactory.getLogger(RecursiveForecast.class);
  static final int BLOCK_DAYS = DemandFeatures.HORIZON_DAYS;

  private RecursiveForecast() {}

  /**
   * The spread multiplier of forecasts {@code horizon} days ahead: 1 within the first block, {@code sqrt(h / 7)}
   * beyond it. A recursive forecast's error accumulates the errors of the provisional sales it feeds on, roughly as
   * a random walk over weeks, so its variance grows about linearly with the horizon in weeks (std x sqrt(2) after
   * two weeks, x2 after four).
   */
  static Column widening(Column horizonDays) {
    return when(horizonDays.gt(BLOCK_DAYS), sqrt(horizonDays.cast("double").divide(BLOCK_DAYS))).otherwise(lit(1.0));
  }

  /** The plan of {@code D+8..D+N} from {@code raw/price_plan}: store, item, date, price, on_promo (doubles). */
  static Dataset<Row> futurePlan(SparkSession spark, Warehouse warehouse, LocalDate date, int horizonDays) {
    return RawData.read(spark, warehouse.rawPricePlan(), "raw/price_plan", RawData.PRICE_PLAN)
        .where(col("date").between(lit(Date.valueOf(date.plusDays(BLOCK_DAYS + 1))), lit(Date.valueOf(date.plusDays(horizonDays)))))
        .select(col("store"), col("item"), col("date"), col("price").cast("double").as("price"),
            col("on_promo").cast("double").as("on_promo"));
  }

  /**
   * The data the recursive weeks need, in one checkpoint (so what is validated, used and snapshotted is the same):
   * per store, item and day from {@code D - 35} the known {@code sales} (through {@code D}; null after), and the
   * {@code price} and {@code on_promo} plan: through {@code D+7} from the feature table, after that from
   * {@code futurePlan}.
   */
  static Dataset<Row> inputs(Dataset<Row> table, Dataset<Row> futurePlan, LocalDate date) {
    LocalDate from = date.minusDays(DemandFeatures.WARMUP_DAYS);
    return table.where(col("date").between(lit(Date.valueOf(from)), lit(Date.valueOf(date.plusDays(BLOCK_DAYS)))))
        .select(
            col("store"), col("item"), col("date"),
            when(col("date").leq(lit(Date.valueOf(date))), col("sales").cast("double")).as("sales"),
            col("price").cast("double").as("price"), col("on_promo").cast("double").as("on_promo"))
        .unionByName(futurePlan.withColumn("sales", lit(null).cast("double")))
        .localCheckpoint();
  }

  /** The plan of the recursive days in {@code inputs}: what a night stores as its snapshot. */
  static Dataset<Row> plan(Dataset<Row> inputs, LocalDate date) {
    return inputs.where(col("date").gt(lit(Date.valueOf(date.plusDays(BLOCK_DAYS)))))
        .select("store", "item", "date", "price", "on_promo");
  }

  /**
   * Fails with an input error unless the feature table knows the sales of the scored night (the recursion starts
   * from them) and the plan has a price for every forecast series and day {@code D+8..D+N}.
   */
  static void validate(
      Dataset<Row> inputs, String tableName, Dataset<Row> series, LocalDate date, int horizonDays, String planName,
      String planPath) {
    if (inputs.where(col("date").equalTo(lit(Date.valueOf(date))).and(col("sales").isNotNull())).isEmpty()) {
      throw Errors.emptyPartition(
          tableName,
          "sales on " + date + " (a forecast beyond " + BLOCK_DAYS + " days continues from the sales of the scored night)",
          "build the features as of the scored night ('nightshift features build --as-of " + date
              + "'), or score with --horizon-days " + BLOCK_DAYS + " or less");
    }
    // one plan row per store, item and day: a second one would forecast that day twice and shift every later
    // window of the series by a row (the windows count rows)
    List<Row> repeated =
        plan(inputs, date).groupBy("store", "item", "date").count().where(col("count").gt(1))
            .orderBy("store", "item", "date").limit(5).collectAsList();
    if (!repeated.isEmpty()) {
      throw Errors.unusableRows(
          planName, planPath,
          "more than one row for store-item-day(s) " + repeated.stream()
              .map(r -> r.get(0) + "-" + r.get(1) + " on " + r.get(2) + " (" + r.getLong(3) + " rows)")
              .collect(java.util.stream.Collectors.joining(", ")),
          "keep one price/promotion row per store, item and day in " + planName + " (replace a revised plan's rows"
              + " rather than adding a second file beside them)");
    }
    int needed = horizonDays - BLOCK_DAYS;
    Dataset<Row> covered =
        plan(inputs, date).where(col("price").isNotNull()).groupBy("store", "item").agg(countDistinct("date").as("days"));
    Row r =
        series.join(covered, SparkColumns.seq("store", "item"), "left")
            .select(coalesce(col("days"), lit(0L)).as("days"))
            .agg(min("days"), count(when(col("days").lt(needed), 1)), count(lit(1)))
            .head();
    long shortSeries = r.getLong(1);
    if (shortSeries > 0) {
      long minDays = r.getLong(0);
      LocalDate from = date.plusDays(BLOCK_DAYS + 1);
      LocalDate to = date.plusDays(horizonDays);
      throw Errors.emptyPartition(
          planName,
          shortSeries + " of " + r.getLong(2) + " store-items on some of the days " + from + ".." + to
              + " (a " + horizonDays + "-day forecast needs each day's price and promotion; every store-item has at"
              + " least " + minDays + " of those " + needed + " days)",
          "land the price/promotion plan through " + to + " in raw/price_plan ('nightshift generate' writes"
              + " --plan-days days after --end), or score with --horizon-days " + (BLOCK_DAYS + minDays) + " or less");
    }
  }

  /**
   * The forecasts of {@code D+8..D+N} (store, item, target_date, prediction_base), block by block.
   *
   * @param inputs the known sales and the plan ({@link #inputs}), validated
   * @param block1 the direct forecasts of {@code D+1..D+7}: store, item, target_date, prediction_base (clipped at 0)
   */
  static Dataset<Row> extend(
      SparkSession spark, Dataset<Row> inputs, ModelMetadata meta, byte[] booster, LocalDate date, int horizonDays,
      Dataset<Row> block1) {
    LocalDate from = date.minusDays(DemandFeatures.WARMUP_DAYS);
    Dataset<Row> series = block1.select("store", "item").distinct();
    Dataset<Row> known = inputs.where(col("sales").isNotNull()).select("store", "item", "date", "sales");
    Dataset<Row> plan = inputs.select("store", "item", "date", "price", "on_promo");

    List<String> keys = meta.keys();
    List<Column> inputCols = new ArrayList<>();
    for (String k : keys) {
      inputCols.add(col(k));
    }
    inputCols.add(col("date").as("target_date"));
    for (String f : meta.features()) {
      inputCols.add(col(f).cast("double"));
    }
    List<Column> outCols = new ArrayList<>();
    for (String k : keys) {
      outCols.add(col(k));
    }
    outCols.add(col("target_date"));
    outCols.add(greatest(col("prediction"), lit(0.0)).as("prediction_base"));

    Dataset<Row> provisional = block1.select(col("store"), col("item"), col("target_date").as("date"),
        col("prediction_base").as("sales"));
    Dataset<Row> out = null;
    int blocks = (horizonDays + BLOCK_DAYS - 1) / BLOCK_DAYS;
    for (int b = 2; b <= blocks; b++) {
      LocalDate first = date.plusDays((long) BLOCK_DAYS * (b - 1) + 1);
      LocalDate last = date.plusDays(Math.min((long) BLOCK_DAYS * b, horizonDays));
      Dataset<Row> features =
          DemandFeatures.compute(spark, known.unionByName(provisional), plan, from, last)
              .where(col("date").between(lit(Date.valueOf(first)), lit(Date.valueOf(last))))
              .join(series, SparkColumns.seq("store", "item"), "left_semi");
      Dataset<Row> predicted =
          NativePredictor.predict(
                  features.select(inputCols.toArray(new Column[0])), keys.size() + 1, meta.features().size(), booster)
              .select(outCols.toArray(new Column[0]))
              .localCheckpoint();
      LOG.info("Recursive forecast block {} ({}..{}) for the night of {}", b, first, last, date);
      provisional = provisional.unionByName(
          predicted.select(col("store"), col("item"), col("target_date").as("date"), col("prediction_base").as("sales")));
      out = out == null ? predicted : out.unionByName(predicted);
    }
    return out;
  }
}
