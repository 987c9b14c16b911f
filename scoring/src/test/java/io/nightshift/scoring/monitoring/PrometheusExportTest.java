package io.nightshift.scoring.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.NightshiftException;
import io.nightshift.core.UseCase;
import java.sql.Date;
import java.time.Instant;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The Prometheus text of a monitoring run, and its push to a Pushgateway (MockWebServer speaking its API). */
class PrometheusExportTest {
  static final LocalDate D = LocalDate.of(2024, 3, 1);

  static Monitor.Result result() {
    StructType stats = new StructType().add("rows", "long").add("mean", "double");
    StructType accuracy =
        new StructType().add("horizon_days", "int").add("n", "long").add("wape", "double").add("coverage_p10_p90", "double")
            .add("recall", "double");
    Date d = Date.valueOf(D);
    return new Monitor.Result(
        UseCase.DEMAND,
        D,
        new GenericRowWithSchema(new Object[] {42L, 3.5}, stats),
        List.of(
            new GenericRowWithSchema(new Object[] {1, 10L, 0.25, 0.8, null}, accuracy),
            new GenericRowWithSchema(new Object[] {7, 10L, 0.5, 0.7, null}, accuracy)),
        List.of(
            new GenericRowWithSchema(new Object[] {"demand", d, "3", "rmean_28", 0.31, 0.2, "alert"}, Monitor.DRIFT),
            new GenericRowWithSchema(new Object[] {"demand", d, "3", "odd\"name", 0.0, 0.0, "ok"}, Monitor.DRIFT)),
        List.of(new GenericRowWithSchema(new Object[] {"demand", d, "drift", "rmean_28", 0.31, 0.25, "3"}, Monitor.SIGNALS)),
        List.of());
  }

  @Test
  void realizedAccuracyOfSeveralModelVersionsIsOneSeriesPerVersionAndHorizon() {
    StructType accuracy =
        new StructType().add("model_version", "string").add("horizon_days", "int").add("n", "long").add("wape", "double");
    Monitor.Result r = result();
    Monitor.Result twoVersions = new Monitor.Result(r.useCase(), r.date(), r.stats(),
        List.of(new GenericRowWithSchema(new Object[] {"2", 1, 10L, 0.9}, accuracy),
            new GenericRowWithSchema(new Object[] {"3", 1, 10L, 0.25}, accuracy)),
        r.drift(), r.signals(), r.plots());
    String text = PrometheusMetrics.render(twoVersions, Instant.ofEpochSecond(1_709_300_000L));
    // the same labels twice would be a duplicate series, which the Pushgateway rejects
    assertThat(text)
        .contains("nightshift_realized_wape{horizon_days=\"1\",model_version=\"2\"} 0.9\n")
        .contains("nightshift_realized_wape{horizon_days=\"1\",model_version=\"3\"} 0.25\n");
  }

  @Test
  void rendersGaugesWithLabelsAndSkipsMetricsWithoutValues() {
    String text = PrometheusMetrics.render(result(), Instant.ofEpochSecond(1_709_300_000L));
    assertThat(text)
        .contains("# TYPE nightshift_predictions gauge\nnightshift_predictions 42\n")
        .contains("nightshift_prediction_mean 3.5\n")
        .contains("nightshift_monitor_date_seconds 1709251200\n") // 2024-03-01T00:00Z
        .contains("nightshift_monitor_last_success_timestamp_seconds 1709300000\n")
        .contains("nightshift_retraining_signals 1\n")
        .contains("nightshift_feature_psi{column=\"rmean_28\"} 0.31\n")
        .contains("nightshift_feature_psi{column=\"odd\\\"name\"} 0.0\n")
        .contains("nightshift_realized_wape{horizon_days=\"1\"} 0.25\n")
        .contains("nightshift_realized_wape{horizon_days=\"7\"} 0.5\n")
        .contains("nightshift_realized_coverage_p10_p90{horizon_days=\"7\"} 0.7\n")
        .doesNotContain("nightshift_realized_recall") // all null: no series rather than NaN
        .doesNotContain("nightshift_realized_pinball"); // not in the table
    // every sample line belongs to a declared metric
    for (String line : text.split("\n")) {
      if (!line.startsWith("#")) {
        String name = line.split("[{ ]")[0];
        assertThat(text).contains("# TYPE " + name + " gauge");
      }
    }
  }

  @Test
  void pushReplacesTheGroupWithPut() throws Exception {
    try (MockWebServer server = new MockWebServer()) {
      server.enqueue(new MockResponse().setResponseCode(200));
      new Pushgateway(server.url("/").toString())
          .push(Pushgateway.grouping("nightshift_monitor", Map.of("use_case", "demand")), "x 1\n");
      RecordedRequest r = server.takeRequest();
      assertThat(r.getMethod()).isEqualTo("PUT");
      assertThat(r.getPath()).isEqualTo("/metrics/job/nightshift_monitor/use_case/demand");
      assertThat(r.getHeader("Content-Type")).startsWith("text/plain; version=0.0.4");
      assertThat(r.getBody().readUtf8()).isEqualTo("x 1\n");
    }
  }

  @Test
  void labelValuesAPathCannotCarryUseBase64() {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("warehouse", "s3a://bucket/wh");
    labels.put("empty", "");
    String path = new Pushgateway("http://127.0.0.1:9091").url(Pushgateway.grouping("j", labels)).encodedPath();
    assertThat(path).isEqualTo("/metrics/job/j/warehouse@base64/czNhOi8vYnVja2V0L3do/empty@base64/=");
  }

  @Test
  void dotAndDotDotValuesUseBase64SoTheyAreNotReadAsPathSteps() throws Exception {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("dot", ".");
    labels.put("dots", "..");
    labels.put("use_case", "demand");
    try (MockWebServer server = new MockWebServer()) {
      server.enqueue(new MockResponse().setResponseCode(200));
      new Pushgateway(server.url("/").toString()).push(Pushgateway.grouping("j", labels), "x 1\n");
      // "." would vanish from the path and ".." remove the segment before it; base64url of "." is Lg==, of ".." Li4=
      assertThat(server.takeRequest().getPath())
          .isEqualTo("/metrics/job/j/dot@base64/Lg==/dots@base64/Li4=/use_case/demand");
    }
  }

  @Test
  void rejectedPushNamesTheStatusAndTheGatewaysMessage() throws Exception {
    try (MockWebServer server = new MockWebServer()) {
      server.enqueue(new MockResponse().setResponseCode(400).setBody("text format parsing error in line 1"));
      assertThatThrownBy(() -> new Pushgateway(server.url("/").toString()).push(Map.of("job", "j"), "bad"))
          .isInstanceOf(NightshiftException.class)
          .hasMessageContaining("answered 400")
          .hasMessageContaining("text format parsing error in line 1");
    }
  }

  @Test
  void unreachableGatewayAndBadUrlSayHowToFixThem() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port;
    assertThatThrownBy(() -> new Pushgateway(url).push(Map.of("job", "j"), "x 1\n"))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("Cannot reach the Pushgateway")
        .hasMessageContaining("NIGHTSHIFT_PUSHGATEWAY_URL");
    assertThatThrownBy(() -> new Pushgateway("pushgateway:9091"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--pushgateway");
  }
}
