package io.nightshift.featurestore;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.dayofweek;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SyntheticDataTest {
  static final GeneratorConfig CFG =
      new GeneratorConfig(7, LocalDate.of(2023, 1, 1), LocalDate.of(2023, 12, 31), 3, 4, 6, 14);
  static SparkSession spark;
  static Warehouse warehouse;
  static SyntheticData.Summary summary;

  @BeforeAll
  static void generate() {
    spark = SparkTestSession.get();
    warehouse = new Warehouse(SparkTestSession.tempDir("gen").toString());
    summary = SyntheticData.generate(spark, warehouse, CFG);
  }

  @Test
  void writesEverySeriesForEveryDay() {
    assertThat(summary.salesRows()).isEqualTo(3L * 4 * 365);
    Dataset<Row> sales = RawData.read(spark, warehouse.rawSales(), "raw/sales", RawData.SALES);
    assertThat(sales.count()).isEqualTo(3L * 4 * 365);
    assertThat(sales.where(col("sales").lt(0)).count()).isZero();
    // the price plan reaches 14 days past the end of history
    Dataset<Row> plan = RawData.read(spark, warehouse.rawPricePlan(), "raw/price_plan", RawData.PRICE_PLAN);
    assertThat(plan.agg(org.apache.spark.sql.functions.max("date")).head().getDate(0).toLocalDate())
        .isEqualTo(LocalDate.of(2024, 1, 14));
  }

  @Test
  void isDeterministicForASeed() {
    Warehouse again = new Warehouse(SparkTestSession.tempDir("gen2").toString());
    SyntheticData.generate(spark, again, CFG);
    // every raw dataset the generator writes, row for row (exceptAll keeps duplicates; both ways: same multiset)
    List<RawData.Source> raw =
        List.of(
            new RawData.Source("raw/sales", Warehouse::rawSales, RawData.SALES),
            new RawData.Source("raw/price_plan", Warehouse::rawPricePlan, RawData.PRICE_PLAN),
            new RawData.Source("raw/inventory", Warehouse::rawInventory, RawData.INVENTORY),
            new RawData.Source("raw/items", Warehouse::rawItems, RawData.ITEMS),
            new RawData.Source("raw/telemetry", Warehouse::rawTelemetry, RawData.TELEMETRY),
            new RawData.Source("raw/maintenance_log", Warehouse::rawMaintenanceLog, RawData.MAINTENANCE_LOG));
    for (RawData.Source source : raw) {
      Dataset<Row> a = RawData.read(spark, source.path().apply(warehouse), source.name(), source.schema());
      Dataset<Row> b = RawData.read(spark, source.path().apply(again), source.name(), source.schema());
      long rows = a.count();
      assertThat(rows).as(source.name()).isPositive();
      assertThat(b.count()).as(source.name()).isEqualTo(rows);
      assertThat(a.exceptAll(b).count()).as(source.name()).isZero();
      assertThat(b.exceptAll(a).count()).as(source.name()).isZero();
    }
  }

  @Test
  void salesHaveWeeklySeasonalityAndClosedHolidays() {
    Dataset<Row> sales = RawData.read(spark, warehouse.rawSales(), "raw/sales", RawData.SALES);
    List<Row> byDow =
        sales.groupBy(dayofweek(col("date")).as("dow")).agg(avg("sales").as("m")).orderBy("dow").collectAsList();
    double sunday = byDow.get(0).getDouble(1);
    double monday = byDow.get(1).getDouble(1);
    double saturday = byDow.get(6).getDouble(1);
    assertThat(saturday).isGreaterThan(monday * 1.15);
    assertThat(sunday).isGreaterThan(monday);
    assertThat(sales.where("date = '2023-12-25'").agg(org.apache.spark.sql.functions.sum("sales")).head().getLong(0))
        .isZero();
  }

  @Test
  void machinesDegradeBeforeFailures() {
    assertThat(summary.failures()).isGreaterThan(3);
    assertThat(summary.preventive()).isGreaterThan(0);
    Dataset<Row> telemetry = RawData.read(spark, warehouse.rawTelemetry(), "raw/telemetry", RawData.TELEMETRY);
    Dataset<Row> failures =
        RawData.read(spark, warehouse.rawMaintenanceLog(), "raw/maintenance_log", RawData.MAINTENANCE_LOG)
            .where("event_type = 'failure'")
            .select(col("machine_id"), col("date").as("failure_date"));
    Dataset<Row> joined =
        telemetry.join(failures, "machine_id")
            .where("datediff(failure_date, date) between 0 and 60");
    double nearFailure = joined.where("datediff(failure_date, date) <= 3").agg(avg("vibration")).head().getDouble(0);
    double farFromFailure =
        joined.where("datediff(failure_date, date) >= 45").agg(avg("vibration")).head().getDouble(0);
    assertThat(nearFailure).isGreaterThan(farFromFailure + 0.5);
  }

  @Test
  void badSettingsNameTheGenerateOptions() {
    LocalDate start = LocalDate.of(2023, 1, 1);
    LocalDate end = LocalDate.of(2023, 12, 31);
    assertThatThrownBy(() -> new GeneratorConfig(7, start, end, 3, 4, 6, -1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Invalid value for --plan-days: '-1'")
        .hasMessageContaining("use 0 or more days");
    assertThatThrownBy(() -> new GeneratorConfig(7, start, start.plusDays(30), 3, 4, 6, 14))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Invalid value for --end");
  }
}
