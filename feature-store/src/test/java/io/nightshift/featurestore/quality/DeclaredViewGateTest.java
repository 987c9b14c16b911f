package io.nightshift.featurestore.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.QualityGateException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import java.util.List;
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
}
