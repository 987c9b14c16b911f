package io.nightshift.featurestore.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.QualityGateException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.views.ViewDefinition;
import io.nightshift.featurestore.views.ViewDefinition.Format;
import io.nightshift.featurestore.views.ViewDefinition.Function;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import io.nightshift.featurestore.views.ViewRegistry;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** The quality gate of views declared in YAML: built-in key checks plus the view's own expectations. */
class DeclaredViewGateTest {
  static final LocalDate AS_OF = LocalDate.of(2024, 1, 1);

  static FeatureView engines(List<Expectation> expectations) {
    return new FeatureView("engines", UseCase.MAINTENANCE, List.of("unit"), "cycle", "rul", List.of("s1"),
        List.of("s1"), "features/engines", TimeType.INTEGER, expectations);
  }

  static Warehouse table(SparkSession spark, String rows) {
    Warehouse w = new Warehouse(SparkTestSession.tempDir("declared-gate").toString());
    spark.sql("SELECT * FROM VALUES " + rows + " AS t(unit, cycle, s1, rul)")
        .write().format("delta").save(w.path("features/engines"));
    return w;
  }

  @Test
  void passingTableIsRecordedWithEveryCheck() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = table(spark, "(1, 1, 0.5, 2.0), (1, 2, 0.6, 1.0), (1, 3, 0.7, 0.0), (2, 1, 0.4, 0.0)");
    QualityGate.Report r =
        QualityGate.enforceView(spark, w, engines(List.of(new Expectation.Range("rul", 0.0, 125.0))), AS_OF);

    assertThat(r.passed()).isTrue();
    assertThat(r.checks()).extracting(QualityGate.Check::metric)
        .containsExactly("labeled_rows", "null_rows", "null_rows", "duplicate_rows", "out_of_range_rows");
    assertThat(r.checks().get(0).actual()).isEqualTo(4.0);
    Dataset<Row> recorded = spark.read().format("delta").load(w.monitoring("quality_metrics"));
    assertThat(recorded.where("table_name = 'engines'").count()).isEqualTo(5);
  }

  @Test
  void failingExpectationsStopWithTheColumnMetricExpectedAndActual() {
    SparkSession spark = SparkTestSession.get();
    // a duplicated (unit, cycle) and a negative remaining life
    Warehouse w = table(spark, "(1, 1, 0.5, 2.0), (1, 1, 0.6, 1.0), (2, 1, CAST(NULL AS DOUBLE), -4.0)");
    FeatureView view = engines(List.of(new Expectation.Range("rul", 0.0, 125.0), new Expectation.NotNull("s1", 0)));

    assertThatThrownBy(() -> QualityGate.enforceView(spark, w, view, AS_OF))
        .isInstanceOf(QualityGateException.class)
        .hasMessageContaining("Quality gate engines")
        .hasMessageContaining("FAIL unit,cycle")
        .hasMessageContaining("duplicate_rows")
        .hasMessageMatching("(?s).*FAIL rul\\s+out_of_range_rows\\s+expected 0 outside \\[0.0, 125.0\\]\\s+actual 1.*")
        .hasMessageMatching("(?s).*FAIL s1\\s+null_rows\\s+expected 0\\s+actual 1.*")
        .hasMessageContaining("expectations: section");
  }

  @Test
  void allowedValuesOfNumericColumnsAreComparedAsNumbers() {
    SparkSession spark = SparkTestSession.get();
    // the label is a double (0.0, 1.0) and the key an int; YAML gives the allowed values as the text "0", "1"
    String rows = "(1, 1, 0.5, 0.0), (1, 2, 0.6, 1.0), (2, 1, 0.4, 1.0)";
    List<Expectation> allowed =
        List.of(new Expectation.AllowedValues("rul", List.of("0", "1")),
            new Expectation.AllowedValues("unit", List.of("1", "2")));
    assertThat(QualityGate.enforceView(spark, table(spark, rows), engines(allowed), AS_OF).passed()).isTrue();
    Warehouse clean = table(spark, rows);
    assertThat(QualityGate.quarantineView(spark, clean, "engines", List.of("unit"), "cycle", allowed, AS_OF)).isZero();
    assertThat(spark.read().format("delta").load(clean.featureView("engines")).count()).isEqualTo(3);

    Warehouse two = table(spark, rows + ", (2, 2, 0.4, 2.0), (3, 1, 0.4, 0.0)");
    assertThatThrownBy(() -> QualityGate.enforceView(spark, two, engines(allowed), AS_OF))
        .isInstanceOf(QualityGateException.class)
        .hasMessageMatching("(?s).*FAIL rul\\s+disallowed_value_rows\\s+expected 0 outside \\[0, 1\\]\\s+actual 1.*")
        .hasMessageMatching("(?s).*FAIL unit\\s+disallowed_value_rows\\s+expected 0 outside \\[1, 2\\]\\s+actual 1.*");
    assertThat(QualityGate.quarantineView(spark, two, "engines", List.of("unit"), "cycle", allowed, AS_OF))
        .isEqualTo(2);

    List<Expectation> words = List.of(new Expectation.AllowedValues("rul", List.of("0", "low")));
    assertThatThrownBy(() -> QualityGate.enforceView(spark, table(spark, rows), engines(words), AS_OF))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("expectations.allowed_values.rul of engines")
        .hasMessageContaining("'low'")
        .hasMessageContaining("must be numbers");
  }

  @Test
  void badRowsCanBeQuarantinedInsteadOfFailingTheGate() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = table(spark, "(1, 1, 0.5, 2.0), (1, 2, 0.6, -1.0), (CAST(NULL AS INT), 3, 0.1, 4.0), (2, 1, 0.4, 0.0)");
    List<Expectation> declared = List.of(new Expectation.Range("rul", 0.0, 125.0));

    long moved = QualityGate.quarantineView(spark, w, "engines", List.of("unit"), "cycle", declared, AS_OF);

    assertThat(moved).isEqualTo(2);
    Dataset<Row> quarantined = spark.read().format("delta").load(w.quarantine("engines"));
    assertThat(quarantined.count()).isEqualTo(2);
    assertThat(quarantined.where("cycle = 2").head().<String>getAs("quarantine_reason")).contains("rul");
    assertThat(spark.read().format("delta").load(w.featureView("engines")).count()).isEqualTo(2);
    assertThat(QualityGate.enforceView(spark, w, engines(declared), AS_OF).passed()).isTrue();
  }

  /** 2 stores x 30 days of units from 2024-03-01, negative for store 1 on 2024-03-02 and 2024-03-20. */
  static ViewDefinition dailyUnits(SparkSession spark, Warehouse w, String badDayIndexes) {
    spark.sql("SELECT DATE'2024-03-01' + CAST(id / 2 AS INT) AS day, CAST(id % 2 AS INT) AS store,"
            + " IF(id % 2 = 1 AND CAST(id / 2 AS INT) IN (" + badDayIndexes + "), -5D, 1D) AS units FROM range(60)")
        .write().format("delta").mode("overwrite").save(w.path("raw/units"));
    Map<String, String> cols = new LinkedHashMap<>();
    cols.put("day", "date");
    cols.put("store", "int");
    cols.put("units", "double");
    return ViewDefinition.builder("daily_units")
        .entities("store")
        .eventTime("day", TimeType.DATE)
        .source(Format.DELTA, "raw/units", Map.of(), cols)
        .label("units")
        .aggregate("units", List.of(Function.SUM), List.of(3))
        .expect(new Expectation.Range("units", 0.0, null))
        .build();
  }

  static List<String> quarantinedDays(SparkSession spark, Warehouse w, String view) {
    return spark.read().format("delta").load(w.quarantine(view)).orderBy("day").collectAsList().stream()
        .map(r -> r.getAs("as_of") + " " + r.getAs("day") + " store " + r.getAs("store"))
        .toList();
  }

  @Test
  void quarantiningARangeRebuildKeepsTheRowsQuarantinedEarlierOutsideTheRange() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("quarantine-range").toString());
    ViewDefinition d = dailyUnits(spark, w, "1, 19");
    String file = "conf/features/daily_units.yaml";
    LocalDate asOf = LocalDate.of(2024, 3, 25);
    LocalDate from = LocalDate.of(2024, 3, 15);
    List<String> both = List.of("2024-03-25 2024-03-02 store 1", "2024-03-25 2024-03-20 store 1");

    // features build --view F --as-of 2024-03-25 --quarantine: both bad rows move
    ViewRegistry.Build first = ViewRegistry.buildMissing(spark, w, d, file, asOf);
    assertThat(QualityGate.quarantineView(spark, w, d.name(), d.entities(), d.eventTime(), d.expectations(), asOf,
        first.recomputed(d.eventTime()))).isEqualTo(2);
    assertThat(quarantinedDays(spark, w, d.name())).isEqualTo(both);

    // features build --view F --from 2024-03-15 --to 2024-03-25 --quarantine, twice (without and with what the
    // build recomputed): the rebuild brings back the 03-20 row only; the 03-02 row, in neither the range nor the
    // features, stays quarantined, and nothing doubles
    for (int run = 0; run < 2; run++) {
      ViewRegistry.Build range = ViewRegistry.buildRange(spark, w, d, file, from, asOf);
      long moved = run == 0
          ? QualityGate.quarantineView(spark, w, d.name(), d.entities(), d.eventTime(), d.expectations(), asOf)
          : QualityGate.quarantineView(spark, w, d.name(), d.entities(), d.eventTime(), d.expectations(), asOf,
              range.recomputed(d.eventTime()));
      assertThat(moved).isEqualTo(1);
      assertThat(quarantinedDays(spark, w, d.name())).isEqualTo(both);
      Dataset<Row> features = spark.read().format("delta").load(w.featureView(d.name()));
      assertThat(features.count()).isEqualTo(2 * 25 - 2);
      assertThat(features.where("units < 0").count()).isZero();
    }
    // nothing to move and no rebuild: the quarantine stays as it is
    assertThat(QualityGate.quarantineView(spark, w, d.name(), d.entities(), d.eventTime(), d.expectations(), asOf))
        .isZero();
    assertThat(quarantinedDays(spark, w, d.name())).isEqualTo(both);

    // the source of 03-20 is corrected: its rebuilt row is good and leaves the quarantine; the 03-02 row stays
    dailyUnits(spark, w, "1");
    ViewRegistry.Build corrected = ViewRegistry.buildRange(spark, w, d, file, from, asOf);
    assertThat(QualityGate.quarantineView(spark, w, d.name(), d.entities(), d.eventTime(), d.expectations(), asOf,
        corrected.recomputed(d.eventTime()))).isZero();
    assertThat(quarantinedDays(spark, w, d.name())).containsExactly("2024-03-25 2024-03-02 store 1");
    assertThat(spark.read().format("delta").load(w.featureView(d.name())).count()).isEqualTo(2 * 25 - 1);
  }

  @Test
  void anEmptyBuildIsAnInputErrorAndAnEmptyTableFailsTheGateWithAReport() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("empty-view").toString());
    ViewDefinition d = dailyUnits(spark, w, "1");
    String file = "conf/features/daily_units.yaml";

    // as of a date before the source starts (2024-03-01): nothing to build, nothing written
    assertThatThrownBy(() -> ViewRegistry.buildMissing(spark, w, d, file, LocalDate.of(2024, 2, 1)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("feature view daily_units")
        .hasMessageContaining(w.path("raw/units"))
        .hasMessageContaining("2024-02-01")
        .hasMessageContaining("Fix:");
    assertThat(DeltaTables.exists(spark, w.featureView(d.name()))).isFalse();

    // a table with no rows (e.g. all of them quarantined) fails the gate with a report, not a NullPointerException
    spark.sql("SELECT * FROM VALUES (1, 1, 0.5, 2.0) AS t(unit, cycle, s1, rul)").where("false")
        .write().format("delta").save(w.path("features/engines"));
    FeatureView view = engines(List.of(new Expectation.Range("rul", 0.0, 125.0)));
    assertThatThrownBy(() -> QualityGate.enforceView(spark, w, view, AS_OF))
        .isInstanceOf(QualityGateException.class)
        .hasMessageContaining("Quality gate engines")
        .hasMessageMatching("(?s).*FAIL rul\\s+labeled_rows\\s+expected > 0\\s+actual 0.*")
        .hasMessageMatching("(?s).*PASS unit\\s+null_rows\\s+expected 0\\s+actual 0.*");
  }
}
