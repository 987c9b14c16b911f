package io.nightshift.featurestore.demand;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.dayofmonth;
import static org.apache.spark.sql.functions.dayofweek;
import static org.apache.spark.sql.functions.dayofyear;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lag;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.month;
import static org.apache.spark.sql.functions.sequence;
import static org.apache.spark.sql.functions.stddev_samp;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.weekofyear;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.Holidays;
import io.nightshift.featurestore.RawData;
import io.nightshift.featurestore.SparkColumns;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Daily demand features per store and item.
 *
 * <p>Every feature of the row for date {@code d} uses sales up to {@code d - 7} only, plus the calendar and the
 * price/promotion plan of {@code d} (both known in advance). So a build as of {@code D} (sales known through
 * {@code D}) yields rows up to {@code D + 7}: the next seven days can be forecast directly from one night's features.
 * The label {@code sales} is null for days after {@code D}.
 */
public final class DemandFeatures {
  private static final Logger LOG = LoggerFactory.getLogger(DemandFeatures.class);

  /** Days between the newest sales a row may use and the row's date; also the forecast horizon. */
  public static final int HORIZON_DAYS = 7;

  /** Days of history before a series' first row (the longest window reaches back 34 days). */
  public static final int WARMUP_DAYS = 35;

  /**
   * How many days the newest raw sales may lag behind the as-of date of a build. A forecast day's newest sales input
   * is a week old ({@code lag_7}): with sales more than a week late no forecast day has it, and a mistyped year would
   * build years of rows without sales.
   */
  public static final int MAX_SALES_DELAY_DAYS = HORIZON_DAYS;

  private static final List<String> CALENDAR_AND_IDS =
      List.of("store_id", "item_id", "day_of_week", "day_of_month", "month", "week_of_year", "day_of_year",
          "is_weekend", "is_holiday");

  public static final FeatureView VIEW = view();

  private static FeatureView view() {
    List<String> features =
          List.of(
              "store_id",
              "item_id",
              "lag_7",
              "lag_14",
              "lag_21",
              "lag_28",
              "rmean_7",
              "rmean_28",
              "rstd_28",
              "rmax_28",
              "dow_mean_4w",
              "price",
              "price_ratio_28",
              "on_promo",
              "day_of_week",
              "day_of_month",
              "month",
              "week_of_year",
              "day_of_year",
              "is_weekend",
              "is_holiday");
    return new FeatureView(
        "features/demand_daily",
        UseCase.DEMAND,
        List.of("store", "item"),
        "date",
        "sales",
        features,
        features.stream().filter(f -> !CALENDAR_AND_IDS.contains(f)).toList());
  }

  private DemandFeatures() {}

  /** Builds the table from the raw zone as of {@code asOf} and replaces {@code features/demand_daily}. */
  public static long build(SparkSession spark, Warehouse warehouse, LocalDate asOf) {
    Dataset<Row> features = compute(spark, warehouse, asOf);
    String path = warehouse.features(UseCase.DEMAND);
    DeltaTables.overwrite(features, path);
    long rows = spark.read().format("delta").load(path).count();
    LOG.info("Wrote {} rows to {} (as of {}, version {})", rows, path, asOf, DeltaTables.version(spark, path));
    return rows;
  }

  /** The feature rows as of {@code asOf}, without writing them. */
  public static Dataset<Row> compute(SparkSession spark, Warehouse warehouse, LocalDate asOf) {
    LocalDate lastRow = asOf.plusDays(HORIZON_DAYS);
    Dataset<Row> sales =
        RawData.read(spark, warehouse.rawSales(), "raw/sales", RawData.SALES)
            .where(col("date").leq(lit(Date.valueOf(asOf))));
    Dataset<Row> plan =
        RawData.read(spark, warehouse.rawPricePlan(), "raw/price_plan", RawData.PRICE_PLAN)
            .where(col("date").leq(lit(Date.valueOf(lastRow))));

    Row bounds = sales.agg(min("date"), max("date")).head();
    if (bounds.isNullAt(0)) {
      throw Errors.emptyPartition(
          "raw/sales", "dates up to " + asOf, "pick an --as-of date inside the sales history");
    }
    LocalDate first = bounds.getDate(0).toLocalDate();
    if (first.plusDays(WARMUP_DAYS).isAfter(asOf)) {
      throw Errors.invalidOption(
          "--as-of",
          asOf.toString(),
          "pick a date at least " + WARMUP_DAYS + " days after the first sales day (" + first + ")");
    }
    // Sales up to a week late still build (the quality gate then fails the night on freshness, naming the newest
    // sales day). Later than that, e.g. a mistyped year, nothing is written rather than rows without sales.
    LocalDate last = bounds.getDate(1).toLocalDate();
    if (asOf.isAfter(last.plusDays(MAX_SALES_DELAY_DAYS))) {
      throw Errors.invalidOption(
          "--as-of",
          asOf.toString(),
          "pick a date at most " + MAX_SALES_DELAY_DAYS + " days after the newest sales day in raw/sales (" + last
              + "), or land the missing sales first: no forecast day after " + asOf + " would have its week-old"
              + " sales (lag_7). Nothing was written");
    }
    return compute(spark, sales, plan, first, lastRow)
        .where(col("date").geq(lit(Date.valueOf(first.plusDays(WARMUP_DAYS)))));
  }

  /**
   * The feature rows of every store and item in {@code sales}, one per day from {@code from} through {@code to}, from
   * the given data instead of the raw zone: {@code sales} has {@code store, item, date, sales} (any numeric type; a day
   * without a row or with a null is unknown) and {@code plan} has {@code store, item, date, price, on_promo}. Windows
   * reaching before {@code from} see no sales, so the first {@link #WARMUP_DAYS} days have partial windows; rows
   * after that are exactly what a build over the same sales and plan would give. Sales dated after a row's
   * {@code date - 7} never reach its features, so sales given for later days only fill the label.
   *
   * <p>Recursive multi-horizon scoring calls this with the known history plus provisional (forecast) sales for the
   * days after the scored night, to get the features of the next seven days.
   */
  public static Dataset<Row> compute(
      SparkSession spark, Dataset<Row> sales, Dataset<Row> plan, LocalDate from, LocalDate to) {
    Dataset<Row> knownSales = sales.select("store", "item", "date", "sales");
    Dataset<Row> knownPlan = plan.select("store", "item", "date", "price", "on_promo");
    Dataset<Row> days =
        spark
            .range(1)
            .select(
                explode(
                        sequence(
                            lit(Date.valueOf(from)), lit(Date.valueOf(to)), expr("interval 1 day")))
                    .as("date"));
    Dataset<Row> grid = knownSales.select("store", "item").distinct().crossJoin(days);
    Dataset<Row> joined =
        grid.join(knownSales, SparkColumns.seq("store", "item", "date"), "left")
            .join(knownPlan, SparkColumns.seq("store", "item", "date"), "left")
            .join(holidays(spark, from, to), SparkColumns.seq("date"), "left");

    WindowSpec w = Window.partitionBy("store", "item").orderBy("date");
    WindowSpec sameWeekday = Window.partitionBy(col("store"), col("item"), dayofweek(col("date"))).orderBy("date");
    Column s = col("sales").cast(DataTypes.DoubleType);
    return joined.select(
        col("store"),
        col("item"),
        col("date"),
        s.as("sales"),
        col("store").cast("double").as("store_id"),
        col("item").cast("double").as("item_id"),
        lag(s, 7).over(w).as("lag_7"),
        lag(s, 14).over(w).as("lag_14"),
        lag(s, 21).over(w).as("lag_21"),
        lag(s, 28).over(w).as("lag_28"),
        avg(s).over(w.rowsBetween(-13, -7)).as("rmean_7"),
        avg(s).over(w.rowsBetween(-34, -7)).as("rmean_28"),
        stddev_samp(s).over(w.rowsBetween(-34, -7)).as("rstd_28"),
        max(s).over(w.rowsBetween(-34, -7)).as("rmax_28"),
        avg(s).over(sameWeekday.rowsBetween(-4, -1)).as("dow_mean_4w"),
        col("price"),
        col("price")
            .divide(avg(col("price")).over(w.rowsBetween(-34, -7)))
            .as("price_ratio_28"),
        col("on_promo").cast("double").as("on_promo"),
        dayofweek(col("date")).cast("double").as("day_of_week"),
        dayofmonth(col("date")).cast("double").as("day_of_month"),
        month(col("date")).cast("double").as("month"),
        weekofyear(col("date")).cast("double").as("week_of_year"),
        dayofyear(col("date")).cast("double").as("day_of_year"),
        when(dayofweek(col("date")).isin(1, 7), 1.0).otherwise(0.0).as("is_weekend"),
        when(col("holiday").isNotNull(), 1.0).otherwise(0.0).as("is_holiday"));
  }

  private static Dataset<Row> holidays(SparkSession spark, LocalDate from, LocalDate to) {
    List<Row> rows = new ArrayList<>();
    for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
      if (Holidays.isHoliday(d)) {
        rows.add(RowFactory.create(d.toString(), 1));
      }
    }
    StructType schema =
        new StructType().add("day", DataTypes.StringType).add("holiday", DataTypes.IntegerType);
    return spark.createDataFrame(rows, schema).select(to_date(col("day")).as("date"), col("holiday"));
  }
}
