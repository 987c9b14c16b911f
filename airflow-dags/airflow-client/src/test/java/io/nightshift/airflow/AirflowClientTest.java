package io.nightshift.airflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okhttp3.mockwebserver.SocketPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AirflowClientTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RUN =
      "{\"dag_id\":\"nightly_demand_forecast\",\"dag_run_id\":\"nightshift__2024-12-31\",\"state\":\"%s\","
          + "\"logical_date\":\"2024-12-31T00:00:00Z\",\"run_after\":\"2025-01-01T02:00:00Z\",\"run_type\":\"manual\","
          + "\"conf\":{}}";

  private MockWebServer server;
  private AirflowClient client;

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.start();
    client = clientBuilder().credentials("ci", "secret").build();
  }

  @AfterEach
  void stop() throws IOException {
    client.close();
    server.shutdown();
  }

  private AirflowClient.Builder clientBuilder() {
    return AirflowClient.builder(server.url("/").toString())
        .readTimeout(Duration.ofSeconds(2))
        .retries(3, Duration.ofMillis(10));
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json").setBody(body);
  }

  private static MockResponse token(String token) {
    return json(201, "{\"access_token\":\"" + token + "\"}");
  }

  private RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(r).as("a request reached the server").isNotNull();
    return r;
  }

  private static JsonNode body(RecordedRequest r) throws IOException {
    return JSON.readTree(r.getBody().readUtf8());
  }

  @Test
  void logsInOnceAndReusesTheToken() throws Exception {
    server.enqueue(token("t1"));
    server.enqueue(json(200, "{\"version\":\"3.3.2\"}"));
    server.enqueue(json(200, "{\"version\":\"3.3.2\"}"));

    assertThat(client.version()).isEqualTo("3.3.2");
    assertThat(client.version()).isEqualTo("3.3.2");

    RecordedRequest login = take();
    assertThat(login.getMethod()).isEqualTo("POST");
    assertThat(login.getPath()).isEqualTo("/auth/token");
    JsonNode credentials = body(login);
    assertThat(credentials.path("username").asText()).isEqualTo("ci");
    assertThat(credentials.path("password").asText()).isEqualTo("secret");
    assertThat(take().getHeader("Authorization")).isEqualTo("Bearer t1");
    assertThat(take().getHeader("Authorization")).isEqualTo("Bearer t1");
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  // Airflow 3 (api_fastapi/core_api/security.py get_user): an expired token is 401 "Token Expired"; a token it cannot
  // verify (API server restarted with another jwt_secret, or API server processes with a secret each) is 403 "Invalid
  // JWT token"; a user whose role does not allow the call is 403 "Forbidden".

  @Test
  void fetchesANewTokenWhenTheTokenExpired() throws Exception {
    server.enqueue(token("old"));
    server.enqueue(json(401, "{\"detail\":\"Token Expired\"}"));
    server.enqueue(token("new"));
    server.enqueue(json(200, "{\"version\":\"3.3.2\"}"));

    assertThat(client.version()).isEqualTo("3.3.2");

    take();
    assertThat(take().getHeader("Authorization")).isEqualTo("Bearer old");
    assertThat(take().getPath()).isEqualTo("/auth/token");
    assertThat(take().getHeader("Authorization")).isEqualTo("Bearer new");
  }

  @Test
  void fetchesANewTokenWhenAirflowCannotVerifyTheToken() throws Exception {
    server.enqueue(token("old"));
    server.enqueue(json(403, "{\"detail\":\"Invalid JWT token\"}"));
    server.enqueue(token("new"));
    server.enqueue(json(200, "{\"version\":\"3.3.2\"}"));

    assertThat(client.version()).isEqualTo("3.3.2");

    take();
    assertThat(take().getHeader("Authorization")).isEqualTo("Bearer old");
    assertThat(take().getPath()).isEqualTo("/auth/token");
    assertThat(take().getHeader("Authorization")).isEqualTo("Bearer new");
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void aPermissionDenialIsAnAuthErrorWithoutANewToken() {
    server.enqueue(token("t1"));
    server.enqueue(json(403, "{\"detail\":\"Forbidden\"}"));
    server.enqueue(token("t2"));
    server.enqueue(json(403, "{\"detail\":\"Forbidden\"}"));

    assertThatThrownBy(() -> client.unpause("nightly_demand_forecast"))
        .isInstanceOf(AirflowException.AuthFailed.class)
        .hasMessage(
            "Cannot unpause DAG nightly_demand_forecast: Airflow answered HTTP 403: Forbidden. Fix: give Airflow"
                + " user 'ci' a role that allows this")
        .satisfies(e -> assertThat(((AirflowException) e).status()).isEqualTo(403));
    assertThat(server.getRequestCount()).as("a login and the call; no new token").isEqualTo(2);
  }

  @Test
  void aNewTokenThatIsInvalidTooIsAnAuthErrorNotAnEndlessRenewal() {
    server.enqueue(token("t1"));
    server.enqueue(json(403, "{\"detail\":\"Invalid JWT token\"}"));
    server.enqueue(token("t2"));
    server.enqueue(json(403, "{\"detail\":\"Invalid JWT token\"}"));
    server.enqueue(token("t3"));
    server.enqueue(json(200, "{\"version\":\"3.3.2\"}"));

    assertThatThrownBy(() -> client.unpause("nightly_demand_forecast"))
        .isInstanceOf(AirflowException.AuthFailed.class)
        .hasMessage(
            "Cannot unpause DAG nightly_demand_forecast: Airflow answered HTTP 403: Invalid JWT token. Fix: Airflow"
                + " refused a token it had just issued; give every API server process the same [api_auth]"
                + " jwt_secret (AIRFLOW__API_AUTH__JWT_SECRET)");
    assertThat(server.getRequestCount()).as("login, call, login again, call; then give up").isEqualTo(4);
  }

  @Test
  void aSecond401AfterLoggingInAgainIsAnAuthError() {
    server.enqueue(token("t1"));
    server.enqueue(json(401, "{\"detail\":\"Token Expired\"}"));
    server.enqueue(token("t2"));
    server.enqueue(json(403, "{\"detail\":\"Forbidden\"}"));

    assertThatThrownBy(() -> client.unpause("nightly_demand_forecast"))
        .isInstanceOf(AirflowException.AuthFailed.class)
        .hasMessageStartingWith("Cannot unpause DAG nightly_demand_forecast: Airflow answered HTTP 403: Forbidden.")
        .satisfies(e -> assertThat(((AirflowException) e).status()).isEqualTo(403));
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void refusedCredentialsSayWhatToFix() {
    server.enqueue(json(401, "{\"detail\":\"Invalid credentials\"}"));

    assertThatThrownBy(() -> client.version())
        .isInstanceOf(AirflowException.AuthFailed.class)
        .hasMessage(
            "Cannot log in to Airflow as 'ci': Airflow answered HTTP 401: Invalid credentials. Fix: check the user"
                + " name and password (AIRFLOW_USERNAME / AIRFLOW_PASSWORD).");
  }

  @Test
  void withoutCredentialsSendsNoAuthorizationHeader() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(200, "{\"version\":\"3.3.2\"}"));
      assertThat(anonymous.version()).isEqualTo("3.3.2");
      RecordedRequest r = take();
      assertThat(r.getPath()).isEqualTo("/api/v2/version");
      assertThat(r.getHeader("Authorization")).isNull();
    }
  }

  @Test
  void triggerSendsRunIdLogicalDateAndConf() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(200, String.format(RUN, "queued")));

      DagRun run =
          anonymous.triggerForDate("nightly_demand_forecast", LocalDate.parse("2024-12-31"), Map.of());

      assertThat(run.runId()).isEqualTo("nightshift__2024-12-31");
      assertThat(run.state()).isEqualTo("queued");
      assertThat(run.alreadyExisted()).isFalse();
      RecordedRequest r = take();
      assertThat(r.getMethod()).isEqualTo("POST");
      assertThat(r.getPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns");
      JsonNode b = body(r);
      assertThat(b.path("dag_run_id").asText()).isEqualTo("nightshift__2024-12-31");
      assertThat(b.path("logical_date").asText()).isEqualTo("2024-12-31T00:00:00Z");
      assertThat(b.path("conf").isObject()).isTrue();
    }
  }

  @Test
  void triggerWithoutLogicalDateSendsAnExplicitNull() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(200, String.format(RUN, "queued")));

      anonymous.trigger("weekly_retrain", null, null, Map.of("use_case", "demand"));

      JsonNode b = body(take());
      assertThat(b.has("logical_date")).as("Airflow 3 answers 422 when the key is missing").isTrue();
      assertThat(b.path("logical_date").isNull()).isTrue();
      assertThat(b.path("dag_run_id").asText())
          .as("a run id chosen once per call, so that a retried POST cannot start a second run")
          .matches("nightshift__manual__[0-9a-f-]{36}");
      assertThat(b.path("conf").path("use_case").asText()).isEqualTo("demand");
    }
  }

  @Test
  void aRetriedTriggerReturnsTheExistingRunOn409() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(409, "{\"detail\":\"DAG Run with id nightshift__2024-12-31 already exists\"}"));
      server.enqueue(json(200, String.format(RUN, "running")));

      DagRun run = anonymous.triggerForDate("nightly_demand_forecast", LocalDate.parse("2024-12-31"), null);

      assertThat(run.alreadyExisted()).isTrue();
      assertThat(run.state()).isEqualTo("running");
      take();
      assertThat(take().getPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns/nightshift__2024-12-31");
    }
  }

  @Test
  void aRunIdHeldByARunOfAnotherDateAndConfIsAConflictNotThisTriggersRun() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(409, "{\"detail\":\"DAG Run with id rerun1 already exists\"}"));
      server.enqueue(json(200, String.format(RUN, "success").replace("nightshift__2024-12-31", "rerun1")));

      assertThatThrownBy(
              () -> anonymous.trigger(
                  "nightly_demand_forecast", "rerun1", AirflowClient.logicalDateOf(LocalDate.parse("2024-12-30")),
                  Map.of("horizon_days", 28)))
          .isInstanceOf(AirflowException.Conflict.class)
          .hasMessage(
              "Cannot trigger DAG nightly_demand_forecast as run rerun1 with logical date 2024-12-30T00:00:00Z and"
                  + " conf {\"horizon_days\":28}: run rerun1 (state success) exists already with logical date"
                  + " 2024-12-31T00:00:00Z (not 2024-12-30T00:00:00Z) and conf {} (not {\"horizon_days\":28}), and a"
                  + " run id names one run. Fix: trigger with another run id, or clear run rerun1 to run it again with"
                  + " its own settings")
          .satisfies(e -> assertThat(((AirflowException) e).status()).isEqualTo(409));
      take();
      assertThat(take().getPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns/rerun1");
    }
  }

  @Test
  void aRunIdHeldByARunWithoutLogicalDateIsAConflictForADatedTrigger() {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(409, "{\"detail\":\"DAG Run with id rerun1 already exists\"}"));
      server.enqueue(
          json(200, String.format(RUN, "queued").replace("nightshift__2024-12-31", "rerun1")
              .replace("\"2024-12-31T00:00:00Z\"", "null")));

      assertThatThrownBy(
              () -> anonymous.trigger(
                  "nightly_demand_forecast", "rerun1", AirflowClient.logicalDateOf(LocalDate.parse("2024-12-31")),
                  Map.of()))
          .isInstanceOf(AirflowException.Conflict.class)
          .hasMessageContaining("run rerun1 (state queued) exists already with logical date none"
              + " (not 2024-12-31T00:00:00Z), and a run id names one run.")
          .hasMessageNotContaining("and conf {} (not");
    }
  }

  @Test
  void aRunIdHeldByARunOfTheSameDateAndConfIsThatRun() {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(409, "{\"detail\":\"DAG Run with id rerun1 already exists\"}"));
      server.enqueue(
          json(200, String.format(RUN, "running").replace("nightshift__2024-12-31", "rerun1")
              .replace("\"2024-12-31T00:00:00Z\"", "\"2024-12-31T00:00:00+00:00\"")
              .replace("\"conf\":{}", "\"conf\":{\"horizon_days\":28}")));

      DagRun run =
          anonymous.trigger(
              "nightly_demand_forecast", "rerun1", AirflowClient.logicalDateOf(LocalDate.parse("2024-12-31")),
              Map.of("horizon_days", 28));

      assertThat(run.runId()).isEqualTo("rerun1");
      assertThat(run.alreadyExisted()).isTrue();
    }
  }

  @Test
  void a409OnTheLogicalDateReturnsTheRunHoldingIt() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(409, "{\"detail\":\"A run with this logical date exists\"}"));
      server.enqueue(json(404, "{\"detail\":\"DagRun not found\"}"));
      server.enqueue(
          json(200, "{\"dag_runs\":[" + String.format(RUN, "success").replace("nightshift__2024-12-31", "manual__x")
              + "],\"total_entries\":1}"));

      DagRun run = anonymous.triggerForDate("nightly_demand_forecast", LocalDate.parse("2024-12-31"), null);

      assertThat(run.runId()).isEqualTo("manual__x");
      assertThat(run.alreadyExisted()).isTrue();
      take();
      take();
      assertThat(take().getPath())
          .startsWith("/api/v2/dags/nightly_demand_forecast/dagRuns?")
          .contains("logical_date_gte=2024-12-31T00%3A00%3A00Z")
          .contains("logical_date_lte=2024-12-31T00%3A00%3A00Z");
    }
  }

  @Test
  void aRunHoldingTheLogicalDateWithAnotherConfIsAConflictNotThisTriggersRun() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(409, "{\"detail\":\"A run with this logical date exists\"}"));
      server.enqueue(json(404, "{\"detail\":\"DagRun not found\"}"));
      server.enqueue(json(200, "{\"dag_runs\":[" + String.format(RUN, "success") + "],\"total_entries\":1}"));

      assertThatThrownBy(
              () -> anonymous.triggerForDate(
                  "nightly_demand_forecast", LocalDate.parse("2024-12-31"), Map.of("horizon_days", 28)))
          .isInstanceOf(AirflowException.Conflict.class)
          .hasMessageContaining("with conf {\"horizon_days\":28}")
          .hasMessageContaining("run nightshift__2024-12-31 (state success) holds that logical date with conf {}")
          .hasMessageContaining("Fix: clear that run");
    }
  }

  /**
   * Answers like Airflow for a trigger without a logical date: the first POST is processed (the run is stored) but
   * answered too late, so the client times out; a POST of a stored run id is 409; GET returns the stored run.
   */
  private final class SlowTriggerAirflow extends Dispatcher {
    final List<String> postedRunIds = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<String> stored = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String runs = "/api/v2/dags/weekly_retrain/dagRuns";
      if ("POST".equals(request.getMethod()) && runs.equals(request.getPath())) {
        JsonNode b;
        try {
          b = body(request);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        // Airflow generates a fresh run id (from the current time) when none is sent
        String id = b.hasNonNull("dag_run_id") ? b.get("dag_run_id").asText() : "manual__" + System.nanoTime();
        postedRunIds.add(id);
        if (stored.contains(id)) {
          return json(409, "{\"detail\":\"DAG Run with id " + id + " already exists\"}");
        }
        stored.add(id);
        MockResponse created = json(200, run(id));
        return stored.size() == 1 ? created.setHeadersDelay(1, TimeUnit.SECONDS) : created;
      }
      if ("GET".equals(request.getMethod()) && request.getPath().startsWith(runs + "/")) {
        String id = request.getRequestUrl().pathSegments().get(5);
        return stored.contains(id) ? json(200, run(id)) : json(404, "{\"detail\":\"DagRun not found\"}");
      }
      return json(500, "{\"detail\":\"unexpected " + request.getMethod() + " " + request.getPath() + "\"}");
    }

    private String run(String id) {
      return "{\"dag_id\":\"weekly_retrain\",\"dag_run_id\":\"" + id + "\",\"state\":\"queued\","
          + "\"logical_date\":null,\"run_type\":\"manual\",\"conf\":{\"use_case\":\"demand\"}}";
    }
  }

  @Test
  void aTriggerWithoutRunIdOrDateThatTimesOutIsRetriedAsTheSameRun() {
    SlowTriggerAirflow airflow = new SlowTriggerAirflow();
    server.setDispatcher(airflow);
    try (AirflowClient anonymous =
        clientBuilder().readTimeout(Duration.ofMillis(300)).retries(3, Duration.ofMillis(10)).build()) {

      DagRun run = anonymous.trigger("weekly_retrain", null, null, Map.of("use_case", "demand"));

      assertThat(airflow.stored).as("runs Airflow created").hasSize(1);
      assertThat(airflow.postedRunIds).as("the retried POST names the run of the first one").hasSize(2)
          .containsOnly(airflow.stored.get(0));
      assertThat(run.runId()).isEqualTo(airflow.stored.get(0));
      assertThat(run.alreadyExisted()).as("this call created it (its first, timed out POST)").isFalse();
    }
  }

  @Test
  void aTriggerWithoutRunIdOrDateAnswered503IsRetriedWithTheSameRunId() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(new MockResponse().setResponseCode(503));
      server.enqueue(json(200, String.format(RUN, "queued")));
      server.enqueue(json(200, String.format(RUN, "queued")));

      anonymous.trigger("weekly_retrain", null, null, Map.of());
      anonymous.trigger("weekly_retrain", null, null, Map.of());

      String first = body(take()).path("dag_run_id").asText("");
      String retried = body(take()).path("dag_run_id").asText("");
      assertThat(first).as("a client-chosen run id").startsWith("nightshift__manual__");
      assertThat(retried).as("the retry of the same trigger call").isEqualTo(first);
      assertThat(body(take()).path("dag_run_id").asText()).as("another trigger call, another run").isNotEqualTo(first);
    }
  }

  @Test
  void a409ThatCannotBeResolvedIsAConflict() {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(409, "{\"detail\":\"Conflict\"}"));
      server.enqueue(json(404, "{\"detail\":\"DagRun not found\"}"));

      assertThatThrownBy(() -> anonymous.trigger("nightly_demand_forecast", null, null, null))
          .isInstanceOf(AirflowException.Conflict.class)
          .hasMessage("Cannot trigger DAG nightly_demand_forecast: Airflow answered HTTP 409: Conflict");
    }
  }

  @Test
  void validationErrorsCarryAirflowsDetail() {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(
          json(
              422,
              "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"logical_date\"],\"msg\":\"Field required\"},"
                  + "{\"type\":\"extra_forbidden\",\"loc\":[\"body\",\"execution_date\"],"
                  + "\"msg\":\"Extra inputs are not permitted\"}]}"));

      assertThatThrownBy(() -> anonymous.trigger("nightly_demand_forecast", "r1", null, null))
          .isInstanceOf(AirflowException.class)
          .hasMessage(
              "Cannot trigger DAG nightly_demand_forecast: Airflow answered HTTP 422: body.logical_date: Field"
                  + " required; body.execution_date: Extra inputs are not permitted")
          .satisfies(
              e -> {
                AirflowException a = (AirflowException) e;
                assertThat(a.status()).isEqualTo(422);
                assertThat(a.isClientError()).isTrue();
                assertThat(a.detail()).startsWith("body.logical_date: Field required");
              });
    }
  }

  @Test
  void unknownDagIsNotFound() {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(404, "{\"detail\":\"The Dag with ID: `nope` was not found\"}"));

      assertThatThrownBy(() -> anonymous.getDag("nope"))
          .isInstanceOf(AirflowException.NotFound.class)
          .hasMessage("Cannot read DAG nope: Airflow answered HTTP 404: The Dag with ID: `nope` was not found");
    }
  }

  @Test
  void serverErrorsWithoutJsonKeepTheStartOfTheBody() {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(new MockResponse().setResponseCode(500).setBody("Internal Server Error"));

      assertThatThrownBy(() -> anonymous.getRun("nightly_demand_forecast", "r1"))
          .isInstanceOf(AirflowException.class)
          .hasMessage("Cannot read run r1 of nightly_demand_forecast: Airflow answered HTTP 500: Internal Server Error")
          .satisfies(e -> assertThat(((AirflowException) e).isClientError()).isFalse());
      assertThat(server.getRequestCount()).as("500 is not retried").isEqualTo(1);
    }
  }

  @Test
  void unavailableAnswersAreRetriedWithBackoff() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(new MockResponse().setResponseCode(503));
      server.enqueue(new MockResponse().setSocketPolicy(SocketPolicy.DISCONNECT_AFTER_REQUEST));
      server.enqueue(json(200, "{\"version\":\"3.3.2\"}"));

      assertThat(anonymous.version()).isEqualTo("3.3.2");
      assertThat(server.getRequestCount()).isEqualTo(3);
    }
  }

  @Test
  void connectionFailuresGiveUpAfterAllAttempts() throws IOException {
    MockWebServer gone = new MockWebServer();
    gone.start();
    String url = gone.url("/").toString();
    gone.shutdown(); // nothing listens there any more

    try (AirflowClient c = AirflowClient.builder(url).retries(3, Duration.ofMillis(10)).build()) {
      assertThatThrownBy(c::version)
          .isInstanceOf(AirflowException.Unavailable.class)
          .hasMessageStartingWith("Cannot read the Airflow version: Airflow at " + url.replaceAll("/$", ""))
          .hasMessageContaining("did not answer GET /api/v2/version (ConnectException")
          .hasMessageContaining("after 3 attempts")
          .hasMessageEndingWith("Fix: check that the Airflow API server is running and reachable at "
              + url.replaceAll("/$", "") + ".")
          .satisfies(e -> assertThat(((AirflowException) e).status()).isEqualTo(AirflowException.NO_RESPONSE));
    }
  }

  @Test
  void slowAnswersTimeOutAndAreRetriedForReads() {
    try (AirflowClient anonymous =
        clientBuilder().readTimeout(Duration.ofMillis(200)).retries(2, Duration.ofMillis(10)).build()) {
      server.enqueue(json(200, "{\"version\":\"3.3.2\"}").setHeadersDelay(1, TimeUnit.SECONDS));
      server.enqueue(json(200, "{\"version\":\"3.3.2\"}"));

      assertThat(anonymous.version()).isEqualTo("3.3.2");
      assertThat(server.getRequestCount()).isEqualTo(2);
    }
  }

  @Test
  void aTimedOutAssetEventIsNotPostedTwice() {
    try (AirflowClient anonymous =
        clientBuilder().readTimeout(Duration.ofMillis(200)).retries(3, Duration.ofMillis(10)).build()) {
      server.enqueue(json(200, "{\"assets\":[{\"id\":7,\"name\":\"retrain\",\"uri\":\"nightshift://signals/retrain\"}]}"));
      server.enqueue(json(200, "{\"id\":1}").setHeadersDelay(1, TimeUnit.SECONDS));

      assertThatThrownBy(() -> anonymous.postAssetEvent("nightshift://signals/retrain", Map.of()))
          .isInstanceOf(AirflowException.Unavailable.class)
          .hasMessageStartingWith("Cannot post an event on asset nightshift://signals/retrain: Airflow at ")
          .hasMessageContaining("did not answer POST /api/v2/assets/events (SocketTimeoutException");
      assertThat(server.getRequestCount()).isEqualTo(2);
    }
  }

  @Test
  void waitPollsUntilTheRunFinishes() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(200, String.format(RUN, "queued")));
      server.enqueue(json(200, String.format(RUN, "running")));
      server.enqueue(json(200, String.format(RUN, "success")));

      DagRun run =
          anonymous.waitForRun(
              "nightly_demand_forecast", "nightshift__2024-12-31", Duration.ofSeconds(5), Duration.ofMillis(10));

      assertThat(run.isSuccess()).isTrue();
      assertThat(server.getRequestCount()).isEqualTo(3);
    }
  }

  @Test
  void waitGivesUpAfterTheTimeout() {
    try (AirflowClient anonymous = clientBuilder().build()) {
      for (int i = 0; i < 50; i++) {
        server.enqueue(json(200, String.format(RUN, "queued")));
      }

      assertThatThrownBy(
              () ->
                  anonymous.waitForRun(
                      "nightly_demand_forecast", "nightshift__2024-12-31", Duration.ofMillis(100),
                      Duration.ofMillis(30)))
          .isInstanceOf(AirflowException.Timeout.class)
          .hasMessageStartingWith(
              "Run nightshift__2024-12-31 of nightly_demand_forecast is still 'queued' after 100ms. Fix: wait longer")
          .hasMessageContaining("a paused DAG keeps its runs queued");
    }
  }

  @Test
  void taskInstancesAndTheLatestTrysLog() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(
          json(
              200,
              "{\"task_instances\":[{\"task_id\":\"score\",\"state\":\"success\",\"try_number\":2,\"map_index\":-1,"
                  + "\"duration\":12.5},{\"task_id\":\"act\",\"state\":null,\"try_number\":0,\"map_index\":-1}],"
                  + "\"total_entries\":2}"));
      server.enqueue(json(200, "{\"task_id\":\"score\",\"state\":\"success\",\"try_number\":2,\"map_index\":-1}"));
      server.enqueue(
          json(
              200,
              "{\"content\":[{\"timestamp\":\"2025-01-01T02:00:00Z\",\"level\":\"info\",\"event\":\"Spark-Submit cmd:"
                  + " spark-submit\"},\"plain line\",{\"event\":\"::group::Log message source details\"}],"
                  + "\"continuation_token\":null}"));

      List<TaskInstance> tasks = anonymous.taskInstances("nightly_demand_forecast", "r1");
      String log = anonymous.taskLog("nightly_demand_forecast", "r1", "score", 0);

      assertThat(tasks)
          .extracting(TaskInstance::taskId, TaskInstance::state, TaskInstance::tryNumber)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("score", "success", 2),
              org.assertj.core.groups.Tuple.tuple("act", "", 0));
      assertThat(tasks.get(0).duration()).isEqualTo(12.5);
      assertThat(log)
          .isEqualTo(
              "2025-01-01T02:00:00Z INFO Spark-Submit cmd: spark-submit\nplain line\n"
                  + "::group::Log message source details\n");
      take();
      assertThat(take().getPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns/r1/taskInstances/score");
      RecordedRequest logRequest = take();
      assertThat(logRequest.getPath())
          .isEqualTo(
              "/api/v2/dags/nightly_demand_forecast/dagRuns/r1/taskInstances/score/logs/2"
                  + "?full_content=true&map_index=-1");
      assertThat(logRequest.getHeader("Accept")).isEqualTo("application/json");
    }
  }

  @Test
  void aTaskThatNeverRanHasNoLog() {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(200, "{\"task_id\":\"act\",\"state\":null,\"try_number\":0,\"map_index\":-1}"));

      assertThatThrownBy(() -> anonymous.taskLog("nightly_demand_forecast", "r1", "act", 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Task act of run r1 of nightly_demand_forecast has not run yet, so it has no log.");
    }
  }

  @Test
  void runIdsWithReservedCharactersAreEncoded() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(200, String.format(RUN, "success")));
      server.enqueue(json(200, String.format(RUN, "success")));
      // '/' would split the path, '?' start a query, '#' a fragment, '%' an escape; ' ' is not allowed in a URL
      String runId = "manual__a/b c#d?e%f";

      anonymous.getRun("nightly_demand_forecast", "scheduled__2025-01-01T02:00:00+00:00");
      anonymous.getRun("nightly_demand_forecast", runId);

      // ':' and '+' are allowed in a path segment, so they are sent as they are
      assertThat(take().getPath())
          .isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns/scheduled__2025-01-01T02:00:00+00:00");
      RecordedRequest r = take();
      assertThat(r.getPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast/dagRuns/manual__a%2Fb%20c%23d%3Fe%25f");
      assertThat(r.getRequestUrl().pathSegments())
          .as("the run id arrives as one path segment, decoded back to itself")
          .containsExactly("api", "v2", "dags", "nightly_demand_forecast", "dagRuns", runId);
      assertThat(r.getRequestUrl().query()).isNull();
    }
  }

  @Test
  void assetEventsLookUpTheAssetIdFirst() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(
          json(
              200,
              "{\"assets\":[{\"id\":3,\"name\":\"other\",\"uri\":\"nightshift://signals/retrain-old\"},"
                  + "{\"id\":7,\"name\":\"nightshift_retrain_signal\",\"uri\":\"nightshift://signals/retrain\"}],"
                  + "\"total_entries\":2}"));
      server.enqueue(
          json(
              200,
              "{\"id\":42,\"asset_id\":7,\"uri\":\"nightshift://signals/retrain\",\"name\":\"nightshift_retrain_signal\","
                  + "\"extra\":{\"reason\":\"drift\",\"from_rest_api\":true},\"timestamp\":\"2025-01-01T03:00:00Z\"}"));

      AssetEvent e = anonymous.postAssetEvent("nightshift://signals/retrain", Map.of("reason", "drift"));

      assertThat(e.id()).isEqualTo(42);
      assertThat(e.assetId()).isEqualTo(7);
      assertThat(e.extra()).containsEntry("reason", "drift").containsEntry("from_rest_api", true);
      assertThat(take().getPath()).isEqualTo("/api/v2/assets?uri_pattern=nightshift%3A%2F%2Fsignals%2Fretrain&limit=100");
      RecordedRequest post = take();
      assertThat(post.getPath()).isEqualTo("/api/v2/assets/events");
      JsonNode posted = body(post);
      assertThat(posted.path("asset_id").asLong()).isEqualTo(7);
      assertThat(posted.path("extra").path("reason").asText()).isEqualTo("drift");
    }
  }

  @Test
  void anUnknownAssetSaysHowAssetsComeToExist() {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(200, "{\"assets\":[],\"total_entries\":0}"));
      server.enqueue(json(200, "{\"assets\":[],\"total_entries\":0}"));

      assertThatThrownBy(() -> anonymous.postAssetEvent("nightshift://nope", Map.of()))
          .isInstanceOf(AirflowException.NotFound.class)
          .hasMessageStartingWith("No asset with URI or name 'nightshift://nope' in Airflow at http://")
          .hasMessageEndingWith(
              "Fix: check the URI; an asset exists only once a parsed DAG uses it (as schedule, inlet or outlet).");
    }
  }

  @Test
  void unpausePatchesOnlyIsPaused() throws Exception {
    try (AirflowClient anonymous = clientBuilder().build()) {
      server.enqueue(json(200, "{\"dag_id\":\"nightly_demand_forecast\",\"is_paused\":false,\"is_stale\":false}"));

      DagInfo dag = anonymous.unpause("nightly_demand_forecast");

      assertThat(dag.paused()).isFalse();
      RecordedRequest r = take();
      assertThat(r.getMethod()).isEqualTo("PATCH");
      assertThat(r.getPath()).isEqualTo("/api/v2/dags/nightly_demand_forecast?update_mask=is_paused");
      assertThat(body(r).toString()).isEqualTo("{\"is_paused\":false}");
    }
  }

  @Test
  void runIdsAreDeterministic() {
    LocalDate d = LocalDate.parse("2024-12-31");
    assertThat(AirflowClient.runIdFor(d, Map.of())).isEqualTo("nightshift__2024-12-31");
    Map<String, Object> abc = new LinkedHashMap<>();
    abc.put("a", 1);
    abc.put("b", "x");
    abc.put("c", List.of(1, 2));
    Map<String, Object> cba = new LinkedHashMap<>();
    cba.put("c", List.of(1, 2));
    cba.put("b", "x");
    cba.put("a", 1);
    assertThat(abc.keySet()).as("the two confs iterate in different orders").containsExactly("a", "b", "c");
    assertThat(cba.keySet()).containsExactly("c", "b", "a");

    String id = AirflowClient.runIdFor(d, abc);
    assertThat(id).matches("nightshift__2024-12-31__[0-9a-f]{8}").isEqualTo(AirflowClient.runIdFor(d, cba));
    cba.put("a", 2);
    assertThat(AirflowClient.runIdFor(d, cba)).as("another value, another run").isNotEqualTo(id);
    assertThat(AirflowClient.runIdFor(d.plusDays(1), abc)).startsWith("nightshift__2025-01-01__");
  }

  @Test
  void aBaseUrlWithAPathPrefixIsKept() throws Exception {
    try (AirflowClient prefixed =
        AirflowClient.builder(server.url("/airflow/").toString()).retries(1, Duration.ofMillis(1)).build()) {
      server.enqueue(json(200, "{\"version\":\"3.3.2\"}"));
      prefixed.version();
      assertThat(take().getPath()).isEqualTo("/airflow/api/v2/version");
    }
  }

  @Test
  void anInvalidBaseUrlIsRejected() {
    assertThatThrownBy(() -> AirflowClient.builder("127.0.0.1:8080"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Invalid Airflow URL '127.0.0.1:8080'. Fix: pass the API server's address, e.g. http://127.0.0.1:8080");
  }
}
