package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code nightshift airflow ...}: the Airflow client's commands under the main CLI, with its exit codes. */
class AirflowSubcommandTest {
  MockWebServer server;
  final StringWriter err = new StringWriter();
  final ByteArrayOutputStream out = new ByteArrayOutputStream();

  @BeforeEach
  void start() throws Exception {
    server = new MockWebServer();
    server.start();
  }

  @AfterEach
  void stop() throws Exception {
    server.shutdown();
  }

  int run(String... args) {
    PrintStream old = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      return NightshiftCli.run(new PrintWriter(err, true), args);
    } finally {
      System.setOut(old);
    }
  }

  static MockResponse json(int code, String body) {
    return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json").setBody(body);
  }

  @Test
  void helpListsTheAirflowCommands() {
    assertThat(run("airflow", "--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("trigger")
        .contains("status")
        .contains("wait")
        .contains("logs")
        .contains("asset-event");
  }

  @Test
  void statusOfARunGoesToTheServer() throws Exception {
    server.enqueue(json(200, "{\"dag_id\":\"nightly_demand_forecast\",\"is_paused\":false,\"is_stale\":false}"));
    server.enqueue(
        json(
            200,
            "{\"dag_run_id\":\"nightshift__2024-12-31\",\"dag_id\":\"nightly_demand_forecast\",\"state\":\"running\","
                + "\"logical_date\":\"2024-12-31T00:00:00Z\",\"conf\":{}}"));
    server.enqueue(
        json(
            200,
            "{\"task_instances\":[{\"task_id\":\"score\",\"state\":\"running\",\"try_number\":1}],"
                + "\"total_entries\":1}"));

    int code = run("airflow", "--url=" + server.url("/"), "status", "nightly_demand_forecast", "nightshift__2024-12-31");

    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("nightly_demand_forecast run nightshift__2024-12-31: running")
        .containsPattern("score +running");
    assertThat(server.takeRequest().getPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast");
    assertThat(server.takeRequest().getPath())
        .isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns/nightshift__2024-12-31");
  }

  @Test
  void unknownDagExitsWithTwoAndNamesTheKnownOnes() {
    server.enqueue(json(404, "{\"detail\":\"The Dag with ID: `nightly_demand` was not found\"}"));
    server.enqueue(json(200, "{\"dags\":[{\"dag_id\":\"nightly_demand_forecast\"}],\"total_entries\":1}"));

    int code = run("airflow", "--url=" + server.url("/"), "trigger", "nightly_demand", "--date", "2024-12-31");

    assertThat(code).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(err.toString()).contains("Unknown DAG 'nightly_demand'").contains("nightly_demand_forecast");
  }
}
