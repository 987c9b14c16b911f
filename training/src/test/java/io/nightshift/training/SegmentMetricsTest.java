package io.nightshift.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.testing.SparkTestSession;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Per-segment validation metrics on tiny hand-computed validation sets, with ANSI mode on (no division may throw). */
class SegmentMetricsTest {
  private static final SparkSession spark = SparkTestSession.get();
  private static final StructType SCHEMA =
      new StructType().add("store", "string").add("y", "double").add(XGBoostTrainer.SCORE, "double");

  private static <T> T ansi(Supplier<T> body) {
    String before = spark.conf().get("spark.sql.ansi.enabled", "false");
    spark.conf().set("spark.sql.ansi.enabled", "true");
    try {
      return body.get();
    } finally {
      spark.conf().set("spark.sql.ansi.enabled", before);
    }
  }

  private static Map<String, Double> of(List<SegmentMetrics> segments, String segment) {
    return segments.stream().filter(s -> s.segment().equals(segment)).findFirst().orElseThrow().metrics();
  }

  @Test
  void forecastsGetWapeRmseBiasMaeAndSmapePerSegment() {
    Dataset<Row> scored = spark.createDataFrame(List.of(
        RowFactory.create("a", 2.0, 3.0), RowFactory.create("a", 4.0, 1.0), // errors +1, -3
        RowFactory.create("z", 0.0, 0.0), RowFactory.create("z", 0.0, 1.0)), SCHEMA); // no sales: no WAPE or bias
    List<SegmentMetrics> s = ansi(() ->
        XGBoostTrainer.segmentMetrics(scored, "y", "store", Task.REGRESSION, Evaluation.DEFAULT));
    assertThat(s).extracting(SegmentMetrics::segment).containsExactly("a", "z");
    assertThat(s).extracting(SegmentMetrics::rows).containsExactly(2L, 2L);
    Map<String, Double> a = of(s, "a");
    assertThat(a).containsOnlyKeys("wape", "rmse", "bias", "mae", "smape");
    assertThat(a.get("wape")).isCloseTo(4 / 6.0, within(1e-12));
    assertThat(a.get("rmse")).isCloseTo(Math.sqrt(5), within(1e-12));
    assertThat(a.get("bias")).isCloseTo(-2 / 6.0, within(1e-12));
    assertThat(a.get("mae")).isCloseTo(2.0, within(1e-12));
    assertThat(a.get("smape")).isCloseTo(100 * (2 * 1 / 5.0 + 2 * 3 / 5.0) / 2, within(1e-9)); // 80
    Map<String, Double> z = of(s, "z");
    assertThat(z.get("wape")).isNaN();
    assertThat(z.get("bias")).isNaN();
    assertThat(z.get("rmse")).isCloseTo(Math.sqrt(0.5), within(1e-12));
    assertThat(z.get("mae")).isCloseTo(0.5, within(1e-12));
    assertThat(z.get("smape")).isCloseTo(100 * (0 + 2.0) / 2, within(1e-9)); // 0/0 counts as no error
  }

  @Test
  void failureModelsGetPrecisionRecallAndExpectedCostPerSegment() {
    Dataset<Row> scored = spark.createDataFrame(List.of(
        RowFactory.create("a", 1.0, 0.9), RowFactory.create("a", 1.0, 0.2), // one caught, one missed
        RowFactory.create("a", 0.0, 0.7), RowFactory.create("a", 0.0, 0.1), // one needless alert
        RowFactory.create("q", 0.0, 0.1), RowFactory.create("q", 0.0, 0.3)), SCHEMA); // no failure, no alert
    Evaluation costs = new Evaluation(1, 28, "store", 0.5, 100, 10, null);
    List<SegmentMetrics> s = ansi(() ->
        XGBoostTrainer.segmentMetrics(scored, "y", "store", Task.BINARY_CLASSIFICATION, costs));
    Map<String, Double> a = of(s, "a");
    assertThat(a).containsOnlyKeys("positives", "precision_at_alert", "recall_at_alert", "expected_cost");
    assertThat(a.get("positives")).isEqualTo(2.0);
    assertThat(a.get("precision_at_alert")).isCloseTo(0.5, within(1e-12));
    assertThat(a.get("recall_at_alert")).isCloseTo(0.5, within(1e-12));
    assertThat(a.get("expected_cost")).isCloseTo((100 * 1 + 10 * 1) / 4.0, within(1e-12)); // 27.5 per row
    Map<String, Double> q = of(s, "q");
    assertThat(q.get("positives")).isEqualTo(0.0);
    assertThat(q.get("precision_at_alert")).isNaN(); // no alert
    assertThat(q.get("recall_at_alert")).isNaN(); // no failure
    assertThat(q.get("expected_cost")).isEqualTo(0.0);
    // the same formula as the whole window's valid_expected_cost
    Dataset<Row> onlyA = scored.where("store = 'a'");
    assertThat(XGBoostTrainer.classificationMetrics(onlyA, "y", costs).get("valid_expected_cost"))
        .isCloseTo(a.get("expected_cost"), within(1e-12));
  }
}
