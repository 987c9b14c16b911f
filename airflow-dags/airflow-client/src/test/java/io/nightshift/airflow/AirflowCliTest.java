package io.nightshift.airflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class AirflowCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DAG = "{\"dag_id\":\"nightly_demand_forecast\",\"is_paused\":%s,\"is_stale\":false}";
  private static final String RUN =
      "{\"dag_id\":\"nightly_demand_forecast\",\"dag_run_id\":\"nightshift__2024-12-31\",\"state\":\"%s\","
          + "\"logical_date\":\"2024-12-31T00:00:00Z\",\"conf\":{}}";
  private static final String TASKS =
      "{\"task_instances\":[{\"task_id\":\"build_features\",\"state\":\"success\",\"try_number\":1,\"duration\":3.0},"
          + "{\"task_id\":\"score\",\"state\":\"%s\",\"try_number\":1}],\"total_entries\":2}";

  private MockWebServer server;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.start();
  }

  @AfterEach
  void stop() throws IOException {
    server.shutdown();
  }

  /** Runs {@code airflow --url=<mock> ARGS...} (global options go before the subcommand). */
  private int run(String... args) {
    java.util.List<String> all = new java.util.ArrayList<>();
    all.add("--url=" + server.url("/"));
    all.addAll(java.util.List.of(args));
    return AirflowCli.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(new String[0]));
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json").setBody(body);
  }

  @Test
  void triggerWithDateUnpausesAndWaits() throws Exception {
    server.enqueue(json(200, String.format(DAG, true)));
    server.enqueue(json(200, String.format(DAG, false)));
    server.enqueue(json(200, String.format(RUN, "queued")));
    server.enqueue(json(200, String.format(RUN, "success")));
    server.enqueue(json(200, String.format(TASKS, "success")));

    int code = run("trigger", "nightly_demand_forecast", "--date", "2024-12-31", "--unpause", "--wait", "--poll=10ms");

    assertThat(code).as(err.toString()).isEqualTo(0);
    assertThat(out.toString())
        .contains("unpaused nightly_demand_forecast")
        .contains("triggered nightly_demand_forecast run nightshift__2024-12-31 (state queued)")
        .contains("nightly_demand_forecast run nightshift__2024-12-31: success (logical date 2024-12-31T00:00:00Z)")
        .contains("build_features         success          try 1  3.0s");
    RecordedRequest get = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(get.getMethod()).isEqualTo("GET");
    assertThat(get.getRequestUrl().encodedPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast");
    RecordedRequest patch = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(patch.getMethod()).isEqualTo("PATCH");
    assertThat(patch.getRequestUrl().encodedPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast");
    assertThat(JSON.readTree(patch.getBody().readUtf8()).path("is_paused").asText()).isEqualTo("false");
    // the trigger: the run id and logical date of the night, so triggering the night again finds this run
    RecordedRequest post = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(post.getMethod()).isEqualTo("POST");
    assertThat(post.getRequestUrl().encodedPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns");
    JsonNode body = JSON.readTree(post.getBody().readUtf8());
    assertThat(body.path("dag_run_id").asText()).isEqualTo("nightshift__2024-12-31");
    assertThat(body.path("logical_date").asText()).isEqualTo("2024-12-31T00:00:00Z");
    // the wait reads that run, then its task instances
    RecordedRequest wait = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(wait.getMethod()).isEqualTo("GET");
    assertThat(wait.getRequestUrl().encodedPath())
        .isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns/nightshift__2024-12-31");
    assertThat(server.takeRequest(1, TimeUnit.SECONDS).getRequestUrl().encodedPath())
        .isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns/nightshift__2024-12-31/taskInstances");
    assertThat(server.getRequestCount()).isEqualTo(5);
  }

  @Test
  void aRunIdThatNamesARunOfAnotherDateAndConfIsBadInputNotThatRun() {
    server.enqueue(json(200, String.format(DAG, false)));
    server.enqueue(json(409, "{\"detail\":\"DAG Run with id rerun1 already exists\"}"));
    server.enqueue(json(200, String.format(RUN, "success").replace("nightshift__2024-12-31", "rerun1")));

    int code =
        run("--request-timeout=2s", "trigger", "nightly_demand_forecast", "--run-id", "rerun1", "--date",
            "2024-12-30", "--conf", "{\"horizon_days\":28}", "--wait", "--poll=10ms");

    assertThat(code).as(out.toString()).isEqualTo(2);
    assertThat(out.toString()).doesNotContain("already exists");
    assertThat(err.toString())
        .startsWith("error: Cannot trigger DAG nightly_demand_forecast as run rerun1 with logical date"
            + " 2024-12-30T00:00:00Z and conf {\"horizon_days\":28}: run rerun1 (state success) exists already")
        .contains("Fix: trigger with another run id");
    assertThat(server.getRequestCount()).as("no wait on the other run").isEqualTo(3);
  }

  @Test
  void unknownDagIsBadInputNamingTheDagAndTheFix() {
    server.enqueue(json(404, "{\"detail\":\"The Dag with ID: `nightly_demand` was not found\"}"));
    server.enqueue(json(200, "{\"dags\":[{\"dag_id\":\"nightly_demand_forecast\"},{\"dag_id\":\"weekly_retrain\"}]}"));

    int code = run("trigger", "nightly_demand", "--date", "2024-12-31");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("error: Unknown DAG 'nightly_demand' on Airflow at http://")
        .contains("(known DAGs: nightly_demand_forecast, weekly_retrain)")
        .contains("Fix: check the DAG id, or deploy airflow-dags/dags to the DAGs folder");
  }

  @Test
  void aFailedRunExitsOneAndNamesTheFailedTasks() {
    server.enqueue(json(200, String.format(DAG, false)));
    server.enqueue(json(200, String.format(RUN, "failed")));
    server.enqueue(json(200, String.format(TASKS, "failed")));

    int code = run("wait", "nightly_demand_forecast", "nightshift__2024-12-31");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "failed: nightly_demand_forecast run nightshift__2024-12-31 ended failed; tasks: score (failed). Fix: read"
                + " the task log: airflow logs nightly_demand_forecast nightshift__2024-12-31 TASK\n");
  }

  @Test
  void anInvalidDateIsBadInput() {
    int code = run("trigger", "nightly_demand_forecast", "--date", "31/12/2024");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo(
            "error: Invalid date for --date: '31/12/2024' is not an ISO date. Fix: pass YYYY-MM-DD, e.g. 2024-12-31.\n");
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void confRejectedByTheDagsParamsIsBadInput() {
    server.enqueue(json(200, String.format(DAG, false)));
    server.enqueue(json(400, "{\"detail\":\"Invalid input for param date: 'x' does not match\"}"));

    int code = run("trigger", "nightly_demand_forecast", "--conf", "{\"date\":\"x\"}");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo(
            "error: Cannot trigger DAG nightly_demand_forecast: Airflow answered HTTP 400: Invalid input for param"
                + " date: 'x' does not match\n");
  }

  @Test
  void unreachableAirflowIsAFailure() throws IOException {
    server.shutdown();

    int code =
        AirflowCli.run(
            new PrintWriter(out, true), new PrintWriter(err, true), "--url=" + server.url("/"), "status",
            "nightly_demand_forecast", "r1");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).startsWith("failed: Cannot read DAG nightly_demand_forecast: Airflow at http://");
  }

  @Test
  void aMissingSubcommandPrintsUsage() {
    int code = AirflowCli.run(new PrintWriter(out, true), new PrintWriter(err, true));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("Usage: airflow").contains("trigger").contains("asset-event");
  }

  @Test
  void airflowCommandCanBeNestedUnderAnotherCli() {
    @CommandLine.Command(name = "nightshift", subcommands = AirflowCommand.class)
    class Root implements Runnable {
      @Override
      public void run() {}
    }
    CommandLine cli = new CommandLine(new Root());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));

    int code = cli.execute("airflow", "trigger", "nightly_demand_forecast", "--date", "bad");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).startsWith("error: Invalid date for --date: 'bad' is not an ISO date.");
  }
}
