package io.nightshift.featurestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.maintenance.MachineFeatures;
import io.nightshift.testing.SparkTestSession;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Feature values on small hand-made raw data, where every expected value can be worked out by hand. */
class FeatureBuildersTest {
  static final LocalDate START = LocalDate.of(2024, 1, 1);
  static final LocalDate AS_OF = LocalDate.of(2024, 3, 31);
  static SparkSession spark;
  static Warehouse warehouse;

  @BeforeAll
  static void writeRawData() {
    spark = SparkTestSession.get();
    warehouse = new Warehouse(SparkTestSession.tempDir("features").toString());
    // One series whose sales on day t (0-based) are t; the plan has price 2.0 and a promotion on Fridays.
    List<Row> sales = new ArrayList<>();
    List<Row> plan = new ArrayList<>();
    for (int t = 0; !START.plusDays(t).isAfter(AS_OF.plusDays(10)); t++) {
      LocalDate d = START.plusDays(t);
      if (!d.isAfter(AS_OF.plusDays(3))) { // sales after the as-of date exist but must not be used
        sales.add(RowFactory.create(Date.valueOf(d), 1, 1, t));
      }
      plan.add(RowFactory.create(Date.valueOf(d), 1, 1, 2.0, d.getDayOfWeek().getValue() == 5 ? 1 : 0));
    }
    RawData.write(spark.createDataFrame(sales, RawData.SALES), warehouse.rawSales());
    RawData.write(spark.createDataFrame(plan, RawData.PRICE_PLAN), warehouse.rawPricePlan());

    // Machine 1 reports every day and fails on day 40 and day 70; machine 2 had preventive maintenance on day 10.
    List<Row> telemetry = new ArrayList<>();
    List<Row> log = new ArrayList<>();
    for (int t = 0; !START.plusDays(t).isAfter(AS_OF); t++) {
      Date d = Date.valueOf(START.plusDays(t));
      telemetry.add(RowFactory.create(d, 1, "H", 70.0 + t % 7, 2.0, 100.0, 1500.0, 40.0, 1000.0 + 24 * t));
      telemetry.add(RowFactory.create(d, 2, "L", 60.0, 1.0, 100.0, 1500.0, 40.0, 500.0 + 24 * t));
    }
    log.add(RowFactory.create(Date.valueOf(START.plusDays(40)), 1, "failure", "bearing"));
    log.add(RowFactory.create(Date.valueOf(START.plusDays(70)), 1, "failure", "motor"));
    log.add(RowFactory.create(Date.valueOf(START.plusDays(10)), 2, "preventive", "inspection"));
    RawData.write(spark.createDataFrame(telemetry, RawData.TELEMETRY), warehouse.rawTelemetry());
    RawData.write(spark.createDataFrame(log, RawData.MAINTENANCE_LOG), warehouse.rawMaintenanceLog());
  }

  private static Row demandRow(Dataset<Row> f, LocalDate d) {
    return f.where("date = '" + d + "'").head();
  }

  @Test
  void demandLagsAndWindowsUseOnlySalesAWeekOld() {
    Dataset<Row> f = DemandFeatures.compute(spark, warehouse, AS_OF);
    LocalDate d = START.plusDays(60); // sales on that day = 60
    Row r = demandRow(f, d);
    assertThat(r.<Double>getAs("sales")).isEqualTo(60.0);
    assertThat(r.<Double>getAs("lag_7")).isEqualTo(53.0);
    assertThat(r.<Double>getAs("lag_28")).isEqualTo(32.0);
    assertThat(r.<Double>getAs("rmean_7")).isCloseTo((47 + 53) / 2.0, within(1e-9)); // days 47..53
    assertThat(r.<Double>getAs("rmean_28")).isCloseTo((26 + 53) / 2.0, within(1e-9)); // days 26..53
    assertThat(r.<Double>getAs("rmax_28")).isEqualTo(53.0);
    assertThat(r.<Double>getAs("dow_mean_4w")).isCloseTo((32 + 39 + 46 + 53) / 4.0, within(1e-9));
    assertThat(r.<Double>getAs("price_ratio_28")).isCloseTo(1.0, within(1e-9));
  }

  @Test
  void demandRowsReachSevenDaysPastAsOfWithoutLeakingLaterSales() {
    Dataset<Row> f = DemandFeatures.compute(spark, warehouse, AS_OF);
    assertThat(f.agg(org.apache.spark.sql.functions.max("date")).head().getDate(0).toLocalDate())
        .isEqualTo(AS_OF.plusDays(7));
    Row future = demandRow(f, AS_OF.plusDays(7));
    assertThat(future.isNullAt(future.fieldIndex("sales"))).isTrue();
    long asOfT = java.time.temporal.ChronoUnit.DAYS.between(START, AS_OF);
    assertThat(future.<Double>getAs("lag_7")).isEqualTo((double) asOfT); // the as-of day's own sales
    Row tomorrow = demandRow(f, AS_OF.plusDays(1));
    assertThat(tomorrow.isNullAt(tomorrow.fieldIndex("sales"))).isTrue(); // sales of AS_OF+1 exist but are future
    assertThat(tomorrow.<Double>getAs("on_promo"))
        .isEqualTo(AS_OF.plusDays(1).getDayOfWeek().getValue() == 5 ? 1.0 : 0.0);
    // the first row leaves 35 days of warm-up
    assertThat(f.agg(org.apache.spark.sql.functions.min("date")).head().getDate(0).toLocalDate())
        .isEqualTo(START.plusDays(35));
  }

  @Test
  void demandFeaturesFromGivenSalesAndPlanMatchTheBuildAndRollForwardOverProvisionalSales() {
    Dataset<Row> built = DemandFeatures.compute(spark, warehouse, AS_OF);
    Dataset<Row> plan = RawData.read(spark, warehouse.rawPricePlan(), "raw/price_plan", RawData.PRICE_PLAN);
    Dataset<Row> history =
        RawData.read(spark, warehouse.rawSales(), "raw/sales", RawData.SALES).where("date <= '" + AS_OF + "'");
    // the same sales and plan as datasets, from 35 days before the as-of date as RecursiveForecast computes them: the
    // rows from the as-of date on are the build's, every column
    Dataset<Row> given = DemandFeatures.compute(spark, history, plan, AS_OF.minusDays(35), AS_OF.plusDays(7));
    String known = "date >= '" + AS_OF + "'";
    List<Row> expected = built.where(known).collectAsList();
    assertThat(expected).hasSize(8);
    assertThat(given.columns()).containsExactly(built.columns());
    assertThat(given.where(known).collectAsList()).containsExactlyInAnyOrderElementsOf(expected);

    // provisional sales of 1000 for the seven days after the as-of date reach the next week's lags and windows
    List<Row> provisional = new ArrayList<>();
    for (int h = 1; h <= 7; h++) {
      provisional.add(RowFactory.create(Date.valueOf(AS_OF.plusDays(h)), 1, 1, 1000));
    }
    Dataset<Row> extended = history.union(spark.createDataFrame(provisional, RawData.SALES));
    Dataset<Row> next = DemandFeatures.compute(spark, extended, plan, AS_OF.minusDays(35), AS_OF.plusDays(14));
    long asOfT = java.time.temporal.ChronoUnit.DAYS.between(START, AS_OF);
    Row day8 = demandRow(next, AS_OF.plusDays(8));
    assertThat(day8.<Double>getAs("lag_7")).isEqualTo(1000.0);
    assertThat(day8.<Double>getAs("lag_14")).isEqualTo((double) asOfT - 6);
    assertThat(day8.<Double>getAs("rmean_7")).isCloseTo((6 * (asOfT - 2.5) + 1000) / 7.0, within(1e-9)); // AS_OF-5..AS_OF+1
    Row day14 = demandRow(next, AS_OF.plusDays(14));
    assertThat(day14.<Double>getAs("rmean_7")).isEqualTo(1000.0);
    Row day10 = demandRow(next, AS_OF.plusDays(10)); // the plan (through AS_OF+10) is joined as in a build
    assertThat(day10.<Double>getAs("on_promo")).isEqualTo(AS_OF.plusDays(10).getDayOfWeek().getValue() == 5 ? 1.0 : 0.0);
    assertThat(day10.<Double>getAs("price")).isEqualTo(2.0);
    // rows of the known week are unchanged by the provisional sales (their features end at AS_OF)
    assertThat(demandRow(next, AS_OF.plusDays(7)).<Double>getAs("rmean_28"))
        .isEqualTo(demandRow(built, AS_OF.plusDays(7)).<Double>getAs("rmean_28"));
  }

  @Test
  void machineLabelsLookSevenDaysAheadAndAreUnknownNearAsOf() {
    Dataset<Row> f = MachineFeatures.compute(spark, warehouse, AS_OF);
    assertThat(label(f, 1, 33)).isEqualTo(1.0); // failure on day 40 is 7 days ahead
    assertThat(label(f, 1, 32)).isEqualTo(0.0); // 8 days ahead
    assertThat(label(f, 1, 40)).isEqualTo(0.0); // the failure day itself looks ahead to the next one
    assertThat(label(f, 1, 63)).isEqualTo(1.0);
    long asOfT = java.time.temporal.ChronoUnit.DAYS.between(START, AS_OF);
    assertThat(label(f, 2, (int) asOfT - 7)).isEqualTo(0.0);
    assertThat(label(f, 2, (int) asOfT - 6)).isNull();
    // even a failure already seen does not label a row whose 7-day window is still open
    Warehouse late = new Warehouse(SparkTestSession.tempDir("late").toString());
    Dataset<Row> tele = spark.read().option("header", "true").csv(warehouse.rawTelemetry());
    tele.write().option("header", "true").csv(late.rawTelemetry());
    spark.createDataFrame(
            List.of(RowFactory.create(Date.valueOf(AS_OF.minusDays(1)), 1, "failure", "pump")), RawData.MAINTENANCE_LOG)
        .write().option("header", "true").csv(late.rawMaintenanceLog());
    Dataset<Row> g = MachineFeatures.compute(spark, late, AS_OF);
    assertThat(label(g, 1, (int) asOfT - 3)).isNull();
    assertThat(label(g, 1, (int) asOfT - 8)).isEqualTo(1.0);
    Row r = row(f, 2, 20);
    assertThat(r.<Double>getAs("days_since_maintenance")).isEqualTo(10.0);
    assertThat(row(f, 1, 80).<Double>getAs("failures_last_90d")).isEqualTo(2.0);
    assertThat(row(f, 1, 6).<Double>getAs("temperature_mean_7d")).isCloseTo(73.0, within(1e-9));
    assertThat(row(f, 1, 6).<Double>getAs("machine_type_code")).isEqualTo(2.0);
  }

  @Test
  void maintenanceEventsOnDaysWithoutTelemetryStillCount() {
    // the same raw data, but neither machine reported on its event days (down for the failure, the maintenance)
    Warehouse down = new Warehouse(SparkTestSession.tempDir("down").toString());
    spark.read().option("header", "true").csv(warehouse.rawTelemetry())
        .where("not ((machine_id = 1 and date in ('" + START.plusDays(40) + "', '" + START.plusDays(70) + "'))"
            + " or (machine_id = 2 and date = '" + START.plusDays(10) + "'))")
        .write().option("header", "true").csv(down.rawTelemetry());
    spark.read().option("header", "true").csv(warehouse.rawMaintenanceLog())
        .write().option("header", "true").csv(down.rawMaintenanceLog());
    Dataset<Row> f = MachineFeatures.compute(spark, down, AS_OF);
    assertThat(row(f, 1, 40)).isNull();
    assertThat(label(f, 1, 33)).isEqualTo(1.0);
    assertThat(label(f, 1, 39)).isEqualTo(1.0);
    assertThat(label(f, 1, 32)).isEqualTo(0.0);
    assertThat(label(f, 1, 63)).isEqualTo(1.0);
    assertThat(row(f, 1, 41).<Double>getAs("failures_last_90d")).isEqualTo(1.0);
    assertThat(row(f, 1, 80).<Double>getAs("failures_last_90d")).isEqualTo(2.0);
    assertThat(row(f, 1, 45).<Double>getAs("days_since_maintenance")).isEqualTo(5.0); // the repair after the failure
    assertThat(row(f, 2, 20).<Double>getAs("days_since_maintenance")).isEqualTo(10.0);
    assertThat(row(f, 1, 41).<Double>getAs("telemetry_days_7d")).isEqualTo(6.0); // days 35..41 less day 40
    assertThat(f.count()).isEqualTo(MachineFeatures.compute(spark, warehouse, AS_OF).count() - 3);
  }

  @Test
  void missingRawDataIsAnInputErrorNamingTheDataset() {
    Warehouse empty = new Warehouse(SparkTestSession.tempDir("empty").toString());
    assertThatThrownBy(() -> DemandFeatures.compute(spark, empty, AS_OF))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("raw/sales")
        .hasMessageContaining("nightshift generate");
  }

  @Test
  void anAsOfDateMoreThanAWeekAfterTheNewestSalesIsAnInputErrorAndWritesNothing() {
    // the sales end 3 days after AS_OF: a week after that still builds (late sales are the quality gate's to report)
    LocalDate newest = AS_OF.plusDays(3);
    assertThat(DemandFeatures.compute(spark, warehouse, newest.plusDays(7)).count()).isPositive();
    // a mistyped year (2025 for 2024) would build a year of rows without sales
    Warehouse w = new Warehouse(SparkTestSession.tempDir("late-as-of").toString());
    for (String raw : List.of("raw/sales", "raw/price_plan")) {
      spark.read().option("header", "true").csv(warehouse.path(raw)).write().option("header", "true").csv(w.path(raw));
    }
    for (LocalDate asOf : List.of(newest.plusDays(8), AS_OF.plusYears(1))) {
      assertThatThrownBy(() -> DemandFeatures.build(spark, w, asOf))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("Invalid value for --as-of: '" + asOf + "'")
          .hasMessageContaining("at most 7 days after the newest sales day in raw/sales (" + newest + ")")
          .hasMessageContaining("Nothing was written");
    }
    assertThat(DeltaTables.exists(spark, w.features(UseCase.DEMAND))).isFalse();
  }

  @Test
  void missingRawColumnIsAnInputErrorNamingTheColumn() {
    Warehouse w = new Warehouse(SparkTestSession.tempDir("badcols").toString());
    spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(START), 1, 1)),
            new org.apache.spark.sql.types.StructType().add("date", "date").add("store", "int").add("item", "int"))
        .write().option("header", "true").csv(w.rawSales());
    assertThatThrownBy(() -> DemandFeatures.compute(spark, w, AS_OF))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("missing required column(s) [sales]");
  }

  @Test
  void buildWritesDeltaAndRerunGivesSameTable() {
    Warehouse w = new Warehouse(SparkTestSession.tempDir("rerun").toString());
    for (String raw : List.of("raw/sales", "raw/price_plan")) {
      spark.read().option("header", "true").csv(warehouse.path(raw)).write().option("header", "true").csv(w.path(raw));
    }
    long first = DemandFeatures.build(spark, w, AS_OF);
    long second = DemandFeatures.build(spark, w, AS_OF);
    // each version read by time travel: two plain reads of the path count as one plan and share a cache
    String table = w.features(UseCase.DEMAND);
    Dataset<Row> v0 = DeltaTables.readVersion(spark, table, "demand_daily", 0);
    Dataset<Row> v1 = DeltaTables.readVersion(spark, table, "demand_daily", 1);
    assertThat(second).isEqualTo(first);
    assertThat(v0.count()).isEqualTo(first);
    assertThat(v0.exceptAll(v1).count()).isZero();
    assertThat(v1.exceptAll(v0).count()).isZero();
    assertThat(DeltaTables.version(spark, table)).isEqualTo(1L);
  }

  private static Row row(Dataset<Row> f, int machine, int day) {
    List<Row> rows = f.where("machine_id = " + machine + " and date = '" + START.plusDays(day) + "'").collectAsList();
    return rows.isEmpty() ? null : rows.get(0);
  }

  private static Double label(Dataset<Row> f, int machine, int day) {
    Row r = row(f, machine, day);
    return r.isNullAt(r.fieldIndex("failure_within_7d")) ? null : r.<Double>getAs("failure_within_7d");
  }
}
