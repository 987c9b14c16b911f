package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.NightshiftException;
import io.nightshift.core.UseCase;
import io.nightshift.scoring.monitoring.Monitor;
import io.nightshift.scoring.monitoring.Pushgateway;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Date;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The monitoring job's metrics pushed to a real Prometheus Pushgateway ({@code scripts/pushgateway.sh}: the Debian
 * build of prometheus/pushgateway, on a free port), and read back from its {@code /metrics} page, as Prometheus would
 * scrape them: the text format and label escaping it accepts, a re-run of a night replacing its whole group, label
 * values that need the base64 path form, and the gateway's own rejection message reaching the user.
 */
class PushgatewayIT {
  static final LocalDate NIGHT = LocalDate.of(2024, 3, 1);
  static final StructType STATS = new StructType().add("rows", "long").add("mean", "double");
  static final StructType DRIFT =
      new StructType().add("column", "string").add("psi", "double").add("ks", "double").add("status", "string");
  static final StructType ACCURACY =
      new StructType().add("horizon_days", "int").add("n", "long").add("wape", "double").add("recall", "double");
  static final StructType SIGNAL = new StructType().add("kind", "string").add("subject", "string");
  static final OkHttpClient HTTP = new OkHttpClient();
  static Map<String, String> env;
  static Path logs;
  static String url;

  @BeforeAll
  static void startGateway() {
    logs = SparkTestSession.tempDir("pushgateway-it");
    env =
        Map.of(
            "NIGHTSHIFT_PUSHGATEWAY_HOME", logs.resolve("gateway").toString(),
            "NIGHTSHIFT_PUSHGATEWAY_PORT", Integer.toString(ExternalProcess.freePort()));
    url =
        ExternalProcess.startServer(
            "scripts/pushgateway.sh", logs, env, 600, "http://127.0.0.1:" + env.get("NIGHTSHIFT_PUSHGATEWAY_PORT"));
  }

  @AfterAll
  static void stopGateway() {
    if (env != null) {
      ExternalProcess.stopServer("scripts/pushgateway.sh", logs, env);
    }
  }

  static Monitor.Result result(UseCase useCase, long rows, double mean, List<Row> drift, List<Row> accuracy, int signals) {
    List<Row> raised =
        java.util.stream.IntStream.range(0, signals)
            .mapToObj(i -> (Row) new GenericRowWithSchema(new Object[] {"drift", "c" + i}, SIGNAL))
            .toList();
    return new Monitor.Result(
        useCase, NIGHT, new GenericRowWithSchema(new Object[] {rows, mean}, STATS), accuracy, drift, raised, List.of());
  }

  static Row drift(String column, double psi, double ks) {
    return new GenericRowWithSchema(new Object[] {column, psi, ks, psi > 0.25 ? "alert" : "ok"}, DRIFT);
  }

  static Row accuracy(int horizon, double wape) {
    return new GenericRowWithSchema(new Object[] {horizon, 100L, wape, null}, ACCURACY);
  }

  /** What Prometheus would scrape from the gateway: sample lines (no comments), without push-time series. */
  static List<String> scrape() throws IOException {
    try (Response r = HTTP.newCall(new Request.Builder().url(url + "/metrics").build()).execute()) {
      assertThat(r.code()).isEqualTo(200);
      return Arrays.stream(r.body().string().split("\n")).filter(l -> l.startsWith("nightshift_")).toList();
    }
  }

  /** The monitoring job's own push: its grouping key and rendered text, warnings to {@code err}. */
  static String pushAsMonitorDoes(Monitor.Result result) {
    StringWriter err = new StringWriter();
    MonitorCommand.push(new Pushgateway(url), result, result.date(), new PrintWriter(err, true));
    return err.toString();
  }

  @Test
  void monitoringMetricsArriveWithTheirLabelsAndARerunReplacesTheNightsGroup() throws IOException {
    String group = "instance=\"\",job=\"nightshift_monitor\",use_case=\"demand\"";
    Monitor.Result first =
        result(UseCase.DEMAND, 560, 3.25,
            List.of(drift("rmean_28", 0.31, 0.2), drift("price \"list\"", 0.01, 0.05)),
            List.of(accuracy(1, 0.25), accuracy(7, 0.5)), 1);
    assertThat(pushAsMonitorDoes(first)).isEmpty();
    assertThat(scrape())
        .contains(
            "nightshift_predictions{" + group + "} 560",
            "nightshift_prediction_mean{" + group + "} 3.25",
            "nightshift_retraining_signals{" + group + "} 1",
            "nightshift_feature_psi{column=\"rmean_28\"," + group + "} 0.31",
            "nightshift_feature_psi{column=\"price \\\"list\\\"\"," + group + "} 0.01",
            "nightshift_feature_ks{column=\"rmean_28\"," + group + "} 0.2",
            "nightshift_realized_wape{horizon_days=\"7\"," + group + "} 0.5",
            "nightshift_monitor_date_seconds{" + group + "} 1.7092512e+09")
        .noneMatch(l -> l.startsWith("nightshift_realized_recall")); // all null: no series

    // another use case is its own group: the demand re-run below leaves it alone
    assertThat(pushAsMonitorDoes(result(UseCase.MAINTENANCE, 40, 0.05, List.of(), List.of(), 0))).isEmpty();

    // the same night again, now without drift rows and outcomes: the gateway keeps only the new push's series
    assertThat(pushAsMonitorDoes(result(UseCase.DEMAND, 558, 3.0, List.of(), List.of(), 0))).isEmpty();
    List<String> after = scrape();
    assertThat(after)
        .contains(
            "nightshift_predictions{" + group + "} 558",
            "nightshift_retraining_signals{" + group + "} 0",
            "nightshift_predictions{instance=\"\",job=\"nightshift_monitor\",use_case=\"maintenance\"} 40")
        .noneMatch(l -> l.startsWith("nightshift_feature_psi{") && l.contains("use_case=\"demand\""))
        .noneMatch(l -> l.startsWith("nightshift_realized_wape{") && l.contains("use_case=\"demand\""));
  }

  @Test
  void labelValuesWithSlashesTravelInBase64AndArriveIntact() throws IOException {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("warehouse", "s3a://bucket/nightly");
    new Pushgateway(url).push(Pushgateway.grouping("nightshift_base64_it", labels), "nightshift_it_value 7\n");
    assertThat(scrape())
        .contains("nightshift_it_value{instance=\"\",job=\"nightshift_base64_it\",warehouse=\"s3a://bucket/nightly\"} 7");
  }

  @Test
  void aPushTheGatewayRejectsFailsWithTheGatewaysOwnReason() throws IOException {
    Pushgateway gateway = new Pushgateway(url);
    Map<String, String> group = Pushgateway.grouping("nightshift_reject_it", Map.of());
    assertThatThrownBy(() -> gateway.push(group, "nightshift_it{ 1\n"))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("answered 400")
        .hasMessageContaining("text format parsing error");
    assertThat(scrape()).noneMatch(l -> l.contains("job=\"nightshift_reject_it\""));
  }
}
