package io.nightshift.featurestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.QualityGateException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.maintenance.MachineFeatures;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.featurestore.quality.QualityGate;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class QualityGateTest {
  static final LocalDate AS_OF = LocalDate.of(2023, 6, 30);
  static SparkSession spark;
  static Warehouse warehouse;

  @BeforeAll
  static void build() {
    spark = SparkTestSession.get();
    warehouse = new Warehouse(SparkTestSession.tempDir("gate").toString());
    SyntheticData.generate(
        spark, warehouse, new GeneratorConfig(3, LocalDate.of(2023, 1, 1), AS_OF, 2, 2, 3, 14));
    DemandFeatures.build(spark, warehouse, AS_OF);
  }

  @Test
  void passesOnCleanFeatures() {
    QualityGate.Report report = QualityGate.enforce(spark, warehouse, UseCase.DEMAND, AS_OF);
    assertThat(report.passed()).isTrue();
    assertThat(report.checks()).anyMatch(c -> c.metric().startsWith("rows_to_score") && c.actual() == 2 * 2 * 7);
  }

  @Test
  void failsNamingColumnMetricExpectedAndActual() {
    Dataset<Row> table = spark.read().format("delta").load(warehouse.features(UseCase.DEMAND));
    Dataset<Row> corrupted = table.union(table.where("date = '2023-05-01'")); // 4 duplicated keys
    Warehouse w = new Warehouse(SparkTestSession.tempDir("gate-bad").toString());
    DeltaTables.overwrite(corrupted, w.features(UseCase.DEMAND));
    assertThatThrownBy(() -> QualityGate.enforce(spark, w, UseCase.DEMAND, AS_OF))
        .isInstanceOf(QualityGateException.class)
        .hasMessageContaining("FAIL store,item,date")
        .hasMessageContaining("duplicate_rows")
        .hasMessageContaining("actual 4")
        // the expected value too, on the same line: "FAIL column metric expected 0 actual 4"
        .hasMessageFindingMatch("FAIL store,item,date +duplicate_rows +expected 0 +actual 4");
  }

  @Test
  void failsWhenNothingToScoreForTheDate() {
    QualityGate.Report report = QualityGate.evaluate(spark, warehouse, UseCase.DEMAND, AS_OF.plusDays(30));
    assertThat(report.passed()).isFalse();
    // nothing to score, and the table ends before the as-of date (freshness)
    assertThat(report.failures())
        .extracting(QualityGate.Check::metric)
        .containsExactlyInAnyOrder("rows_to_score(2023-07-30)", "age_days");
    // the report says which dates the table has (35 days of warm-up after 2023-01-01, seven forecast days after
    // AS_OF), after the date and before it
    String covered = "(the table has date 2023-02-05..2023-07-07: build it as of ";
    assertThat(report.render()).contains("rows_to_score(2023-07-30)").contains(covered + "2023-07-30, or pick a date");
    QualityGate.Report early = QualityGate.evaluate(spark, warehouse, UseCase.DEMAND, LocalDate.of(2023, 1, 15));
    assertThat(early.failures()).extracting(QualityGate.Check::detail).contains(
        covered.substring(1) + "2023-01-15, or pick a date the table covers");
  }

  @Test
  void lateSalesFailFreshnessNamingTheNewestSalesDay() {
    // upstream sales are a day late: they end the day before the as-of date, the price plan runs two weeks ahead
    Warehouse late = new Warehouse(SparkTestSession.tempDir("gate-late").toString());
    SyntheticData.generate(
        spark, late, new GeneratorConfig(3, LocalDate.of(2023, 1, 1), AS_OF.minusDays(1), 2, 2, 3, 15));
    DemandFeatures.build(spark, late, AS_OF);

    // the table still holds the seven forecast days after the as-of date, but its newest sales are a day old
    assertThatThrownBy(() -> QualityGate.enforce(spark, late, UseCase.DEMAND, AS_OF))
        .isInstanceOf(QualityGateException.class)
        .hasMessageFindingMatch("FAIL date +age_days +expected <= 0 +actual 1 \\(newest date with sales 2023-06-29\\)");

    // the machine gate measures its newest telemetry day, which is a day old too
    MachineFeatures.build(spark, late, AS_OF);
    QualityGate.Report machines = QualityGate.evaluate(spark, late, UseCase.MAINTENANCE, AS_OF);
    assertThat(machines.failures()).extracting(QualityGate.Check::metric).contains("age_days");
    assertThat(machines.render()).contains("newest date 2023-06-29");
  }

  @Test
  void salesThroughTheAsOfDateAreFresh() {
    QualityGate.Check fresh =
        QualityGate.evaluate(spark, warehouse, UseCase.DEMAND, AS_OF).checks().stream()
            .filter(c -> c.metric().equals("age_days"))
            .findFirst()
            .orElseThrow();
    assertThat(fresh.passed()).isTrue();
    assertThat(fresh.actual()).isZero();
    assertThat(fresh.toString()).endsWith("(newest date with sales 2023-06-30)");
  }

  @Test
  void missingFeatureTableIsAnInputError() {
    Warehouse empty = new Warehouse(SparkTestSession.tempDir("gate-empty").toString());
    assertThatThrownBy(() -> QualityGate.evaluate(spark, empty, UseCase.MAINTENANCE, AS_OF))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("features/machine_daily")
        .hasMessageContaining("nightshift features build --as-of 2023-06-30");
  }
}
