package io.nightshift.featurestore.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.QualityGateException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.testing.SparkTestSession;
import java.sql.Date;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class ExpectationSuiteTest {
  static final LocalDate D = LocalDate.of(2024, 3, 10);

  static Map<String, QualityGate.Check> byMetric(List<QualityGate.Check> checks) {
    return checks.stream().collect(Collectors.toMap(c -> c.column() + "/" + c.metric(), Function.identity()));
  }

  static final StructType SCHEMA =
      new StructType().add("id", "int").add("day", "date").add("x", "double").add("kind", "string");

  /** One expectation of each kind over {@link #SCHEMA}, with at least {@code minRows} rows. */
  static ExpectationSuite suite(long minRows) {
    return new ExpectationSuite(
        "t",
        List.of(
            new Expectation.NotNull("id", 0),
            new Expectation.NotNull("x", 0.25),
            new Expectation.Range("x", 0.0, 10.0),
            new Expectation.AllowedValues("kind", List.of("a", "b")),
            new Expectation.Unique(List.of("id", "day")),
            new Expectation.Freshness("day", 1),
            new Expectation.RowCount(minRows, 0.5)),
        SCHEMA);
  }

  /** The suite's aggregations as of {@link #D} over {@code table}, in one pass. */
  static Row aggregated(ExpectationSuite suite, Dataset<Row> table) {
    List<Column> aggs = suite.aggregations(D);
    return table.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).head();
  }

  @Test
  void everyExpectationIsOneAggregateOfOnePassWithExactValues() {
    SparkSession spark = SparkTestSession.get();
    List<Row> rows =
        List.of(
            RowFactory.create(1, Date.valueOf(D.minusDays(3)), 1.0, "a"),
            RowFactory.create(2, Date.valueOf(D.minusDays(2)), Double.NaN, "b"), // NaN counts as missing
            RowFactory.create(2, Date.valueOf(D.minusDays(2)), 15.0, "z"), // duplicate key, out of range, disallowed
            RowFactory.create(null, Date.valueOf(D.minusDays(2)), null, "a")); // null id, null x
    Dataset<Row> table = spark.createDataFrame(rows, SCHEMA);
    ExpectationSuite suite = suite(3);
    Row r = aggregated(suite, table);

    Map<String, QualityGate.Check> c = byMetric(suite.checks(r, 0, 8.0));
    assertThat(c.get("id/null_rows").actual()).isEqualTo(1);
    assertThat(c.get("id/null_rows").passed()).isFalse();
    assertThat(c.get("x/null_share").actual()).isCloseTo(0.5, within(1e-12)); // NaN and null of 4
    assertThat(c.get("x/null_share").passed()).isFalse();
    assertThat(c.get("x/out_of_range_rows").actual()).isEqualTo(1);
    assertThat(c.get("kind/disallowed_value_rows").actual()).isEqualTo(1);
    assertThat(c.get("id,day/duplicate_rows").actual()).isEqualTo(1);
    assertThat(c.get("day/age_days").actual()).isEqualTo(2);
    assertThat(c.get("day/age_days").passed()).isFalse();
    assertThat(c.get("*/row_count").passed()).isTrue(); // 4 >= 3
    assertThat(c.get("*/row_count_vs_history").actual()).isCloseTo(0.5, within(1e-12)); // 4 vs median 8
    assertThat(c.get("*/row_count_vs_history").passed()).isTrue();

    // quarantine picks the rows breaking a row-level expectation, with every reason
    List<Row> bad = suite.violating(table).orderBy("x").collectAsList();
    assertThat(bad).hasSize(2);
    assertThat(bad).extracting(b -> b.<String>getAs("quarantine_reason"))
        .containsExactlyInAnyOrder("id is null", "x outside [0.0, 10.0]; kind not in [a, b]");
  }

  @Test
  void anEmptyTableGivesChecksOfZeroRowsNotAnError() {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> empty = spark.createDataFrame(List.<Row>of(), SCHEMA);
    ExpectationSuite suite = suite(1);
    // sums over no rows are null in Spark
    Row r = aggregated(suite, empty);

    Map<String, QualityGate.Check> c = byMetric(suite.checks(r, 0, null));
    assertThat(c.get("id/null_rows").actual()).isZero();
    assertThat(c.get("id/null_rows").passed()).isTrue();
    assertThat(c.get("x/null_share").actual()).isZero();
    assertThat(c.get("x/out_of_range_rows").actual()).isZero();
    assertThat(c.get("kind/disallowed_value_rows").actual()).isZero();
    assertThat(c.get("id,day/duplicate_rows").actual()).isZero();
    assertThat(c.get("day/age_days").passed()).isFalse();
    assertThat(c.get("day/age_days").detail()).isEqualTo("no day");
    assertThat(c.get("*/row_count").actual()).isZero();
    assertThat(c.get("*/row_count").passed()).isFalse(); // 0 < 1
  }

  @Test
  void metricsAreRecordedPerBuildAndTheRowCountIsComparedWithTheirMedian() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("quality-history").toString());
    LocalDate asOf = LocalDate.of(2023, 6, 30);
    SyntheticData.generate(spark, w, new GeneratorConfig(3, LocalDate.of(2023, 1, 1), asOf, 2, 2, 3, 14));
    DemandFeatures.build(spark, w, asOf.minusDays(2));
    QualityGate.evaluate(spark, w, UseCase.DEMAND, asOf.minusDays(2));
    DemandFeatures.build(spark, w, asOf.minusDays(1));
    QualityGate.evaluate(spark, w, UseCase.DEMAND, asOf.minusDays(1));
    QualityGate.evaluate(spark, w, UseCase.DEMAND, asOf.minusDays(1)); // re-evaluation replaces, not appends
    Dataset<Row> metrics = spark.read().format("delta").load(w.monitoring("quality_metrics"));
    assertThat(metrics.where("metric = 'row_count'").count()).isEqualTo(2);
    double median =
        QualityMetrics.medianBefore(spark, w, DemandFeatures.VIEW.name(), "*", "row_count", asOf, 14);
    DemandFeatures.build(spark, w, asOf);
    long rows = spark.read().format("delta").load(w.features(UseCase.DEMAND)).count();
    // the two earlier builds had one and two days fewer rows for each of the 2 x 2 series; an even count's median
    // is the mean of its two middle values
    assertThat(metrics.where("metric = 'row_count'").orderBy("as_of").collectAsList())
        .extracting(r -> r.<Double>getAs("value"))
        .containsExactly((double) rows - 2 * 2 * 2, (double) rows - 2 * 2);
    assertThat(median).isEqualTo(rows - 6.0);

    QualityGate.Report normal = QualityGate.evaluate(spark, w, UseCase.DEMAND, asOf);
    assertThat(byMetric(normal.checks()).get("*/row_count_vs_history").passed()).isTrue();

    // a build that lost most of its rows is an anomaly against the history, named with the median
    Dataset<Row> table = spark.read().format("delta").load(w.features(UseCase.DEMAND));
    DeltaTables.overwrite(table.where("(store = 1 AND item = 1) OR date > '" + asOf.minusDays(20) + "'").localCheckpoint(),
        w.features(UseCase.DEMAND));
    assertThatThrownBy(() -> QualityGate.enforce(spark, w, UseCase.DEMAND, asOf))
        .isInstanceOf(QualityGateException.class)
        .hasMessageContaining("FAIL *")
        .hasMessageContaining("row_count_vs_history")
        .hasMessageContaining("of median");
  }

  @Test
  void quarantineMovesBadRowsAsideAndTheGatePassesOnTheRest() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("quarantine").toString());
    LocalDate asOf = LocalDate.of(2023, 6, 30);
    SyntheticData.generate(spark, w, new GeneratorConfig(4, LocalDate.of(2023, 1, 1), asOf, 2, 2, 3, 14));
    DemandFeatures.build(spark, w, asOf);
    String path = w.features(UseCase.DEMAND);
    Dataset<Row> table = spark.read().format("delta").load(path);
    long before = table.count();
    // a returns correction booked as negative sales on one day
    DeltaTables.overwrite(
        table.withColumn("sales",
                org.apache.spark.sql.functions.when(org.apache.spark.sql.functions.expr("date = '2023-05-02' AND store = 1"),
                    org.apache.spark.sql.functions.lit(-3)).otherwise(org.apache.spark.sql.functions.col("sales")))
            .localCheckpoint(),
        path);
    assertThat(QualityGate.evaluate(spark, w, UseCase.DEMAND, asOf).passed()).isFalse();

    long moved = QualityGate.quarantine(spark, w, UseCase.DEMAND, asOf);

    assertThat(moved).isEqualTo(2); // store 1 x 2 items
    assertThat(spark.read().format("delta").load(path).count()).isEqualTo(before - 2);
    Dataset<Row> q = spark.read().format("delta").load(w.quarantine(DemandFeatures.VIEW.name()));
    assertThat(q.count()).isEqualTo(2);
    assertThat(q.head().<String>getAs("quarantine_reason")).isEqualTo("sales outside [0.0, inf]");
    assertThat(Arrays.asList(q.columns())).contains("as_of", "store", "item", "date", "sales");
    assertThat(QualityGate.enforce(spark, w, UseCase.DEMAND, asOf).passed()).isTrue();
    // nothing left to move: the quarantined rows stay recorded
    assertThat(QualityGate.quarantine(spark, w, UseCase.DEMAND, asOf)).isZero();
    assertThat(spark.read().format("delta").load(w.quarantine(DemandFeatures.VIEW.name())).count()).isEqualTo(2);
  }
}
