package io.nightshift.training.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.NightshiftException;
import java.io.IOException;
import java.net.ServerSocket;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Error handling of the REST layer against scripted answers; the real server is covered by MlflowTrackingTest. */
class MlflowRestTest {
  MockWebServer server;
  MlflowRegistry registry;

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.start();
    registry = new MlflowRegistry(new MlflowRest(server.url("/").toString()));
  }

  @AfterEach
  void stop() throws IOException {
    server.shutdown();
  }

  @Test
  void unknownAliasNamesKnownAliases() throws InterruptedException {
    server.enqueue(
        new MockResponse()
            .setResponseCode(404)
            .setBody("{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"alias gold not found\"}"));
    server.enqueue(
        new MockResponse()
            .setBody("{\"registered_model\":{\"name\":\"m\",\"aliases\":[{\"alias\":\"champion\",\"version\":\"3\"}]}}"));
    assertThatThrownBy(() -> registry.versionByAlias("m", "gold"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("m@gold")
        .hasMessageContaining("aliases of m: champion");
    RecordedRequest first = server.takeRequest();
    assertThat(first.getRequestUrl().encodedPath()).isEqualTo("/api/2.0/mlflow/registered-models/alias");
    assertThat(first.getRequestUrl().queryParameter("name")).isEqualTo("m");
    assertThat(first.getRequestUrl().queryParameter("alias")).isEqualTo("gold");
  }

  @Test
  void unknownAliasAsTheRealServerAnswersItIsAnInputError() {
    // MLflow 3 answers an unknown alias of an existing model with 400 INVALID_PARAMETER_VALUE
    server.enqueue(
        new MockResponse()
            .setResponseCode(400)
            .setBody("{\"error_code\":\"INVALID_PARAMETER_VALUE\",\"message\":\"Registered model alias gold not found.\"}"));
    server.enqueue(new MockResponse().setBody("{\"registered_model\":{\"name\":\"m\",\"aliases\":[]}}"));
    assertThatThrownBy(() -> registry.versionByAlias("m", "gold"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("m@gold");
  }

  @Test
  void aProxysHtml404IsNotAnUnknownAliasNorAnUnknownModel() {
    // a reverse proxy answers while MLflow restarts: that says nothing about the registry, so no "no champion"
    String html = "<html><body><h1>404 Not Found</h1></body></html>";
    ((okhttp3.mockwebserver.QueueDispatcher) server.getDispatcher()).setFailFast(true); // no hang on extra calls
    server.enqueue(new MockResponse().setResponseCode(404).setBody(html));
    assertThatThrownBy(() -> registry.versionByAlias("m", "champion"))
        .isInstanceOf(MlflowApiException.class)
        .isNotInstanceOf(InvalidInputException.class)
        .hasMessageContaining("HTTP 404");
    server.enqueue(new MockResponse().setResponseCode(400).setBody("<html>Bad Request</html>"));
    assertThatThrownBy(() -> registry.versionByAlias("m", "champion"))
        .isInstanceOf(MlflowApiException.class)
        .isNotInstanceOf(InvalidInputException.class)
        .hasMessageContaining("HTTP 400");
    server.enqueue(new MockResponse().setResponseCode(404).setBody(html));
    assertThatThrownBy(() -> registry.aliases("m")).isInstanceOf(MlflowApiException.class);
    server.enqueue(new MockResponse().setResponseCode(404).setBody(html));
    assertThatThrownBy(() -> registry.version("m", "3")).isInstanceOf(MlflowApiException.class);
  }

  @Test
  void unknownModelIsAnInputError() {
    server.enqueue(new MockResponse().setResponseCode(404).setBody("{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"x\"}"));
    server.enqueue(new MockResponse().setResponseCode(404).setBody("{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"x\"}"));
    assertThatThrownBy(() -> registry.versionByAlias("nope", "champion"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("no registered model named nope");
  }

  @Test
  void aFailedExperimentCreateIsReportedAsItselfNotAsAFailedSecondLookup() throws InterruptedException {
    ((okhttp3.mockwebserver.QueueDispatcher) server.getDispatcher()).setFailFast(true); // no hang on extra calls
    MlflowTracker tracker = new MlflowTracker(server.url("/").toString());
    String missing = "{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"Could not find experiment\"}";
    server.enqueue(new MockResponse().setResponseCode(404).setBody(missing));
    server.enqueue(
        new MockResponse()
            .setResponseCode(400)
            .setBody("{\"error_code\":\"INVALID_PARAMETER_VALUE\",\"message\":\"artifact location is not writable\"}"));
    server.enqueue(new MockResponse().setResponseCode(404).setBody(missing));
    assertThatThrownBy(() -> tracker.startRun("nightshift-demand", "r", java.util.Map.of()))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("Cannot start an MLflow run in experiment 'nightshift-demand'")
        .hasMessageContaining("artifact location is not writable");
    assertThat(server.takeRequest().getPath()).startsWith("/api/2.0/mlflow/experiments/get-by-name");
    assertThat(server.takeRequest().getPath()).isEqualTo("/api/2.0/mlflow/experiments/create");
    assertThat(server.getRequestCount()).isEqualTo(2); // no second lookup: only an existing name is the race
  }

  @Test
  void anExperimentCreatedByAnotherJobMeanwhileIsUsed() throws InterruptedException {
    ((okhttp3.mockwebserver.QueueDispatcher) server.getDispatcher()).setFailFast(true); // no hang on extra calls
    MlflowTracker tracker = new MlflowTracker(server.url("/").toString());
    server.enqueue(
        new MockResponse().setResponseCode(404)
            .setBody("{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"Could not find experiment\"}"));
    server.enqueue(
        new MockResponse().setResponseCode(400)
            .setBody("{\"error_code\":\"RESOURCE_ALREADY_EXISTS\",\"message\":\"Experiment(name=x) already exists\"}"));
    server.enqueue(
        new MockResponse()
            .setBody("{\"experiment\":{\"experiment_id\":\"42\",\"name\":\"x\",\"lifecycle_stage\":\"active\"}}"));
    server.enqueue(
        new MockResponse()
            .setBody("{\"run\":{\"info\":{\"run_id\":\"r1\",\"experiment_id\":\"42\","
                + "\"artifact_uri\":\"mlflow-artifacts:/42/r1/artifacts\"}}}"));
    assertThat(tracker.startRun("x", "r", java.util.Map.of()).experimentId()).isEqualTo("42");
  }

  @Test
  void createVersionToleratesExistingModelAndSendsRunAndSource() throws InterruptedException {
    server.enqueue(
        new MockResponse().setResponseCode(400).setBody("{\"error_code\":\"RESOURCE_ALREADY_EXISTS\",\"message\":\"exists\"}"));
    server.enqueue(
        new MockResponse()
            .setBody("{\"model_version\":{\"name\":\"m\",\"version\":\"4\",\"run_id\":\"r1\",\"source\":\"mlflow-artifacts:/1/r1/artifacts/model\"}}"));
    var v = registry.createVersion("m", "mlflow-artifacts:/1/r1/artifacts/model", "r1", "d", java.util.Map.of("k", "v"));
    assertThat(v.version()).isEqualTo("4");
    server.takeRequest();
    String body = server.takeRequest().getBody().readUtf8();
    assertThat(body).contains("\"run_id\":\"r1\"").contains("\"source\":\"mlflow-artifacts:/1/r1/artifacts/model\"")
        .contains("{\"key\":\"k\",\"value\":\"v\"}");
  }

  @Test
  void serverErrorsCarryStatusCodeAndMessage() {
    server.enqueue(new MockResponse().setResponseCode(500).setBody("{\"error_code\":\"INTERNAL_ERROR\",\"message\":\"db locked\"}"));
    assertThatThrownBy(() -> registry.setAlias("m", "champion", "1"))
        .isInstanceOf(MlflowApiException.class)
        .hasMessageContaining("HTTP 500 INTERNAL_ERROR: db locked");
  }

  @Test
  void refusedConnectionsAreRetriedThenExplained() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    MlflowRest rest = new MlflowRest("http://127.0.0.1:" + port);
    assertThatThrownBy(() -> rest.get("experiments/get-by-name", java.util.Map.of("experiment_name", "x")))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("Cannot reach the MLflow server at http://127.0.0.1:" + port + " after 4 attempts")
        .hasMessageContaining("scripts/mlflow.sh start");
  }

  @Test
  void proxiedPathStripsSchemeAndHost() {
    assertThat(MlflowRest.proxiedPath("mlflow-artifacts:/1/abc/artifacts")).isEqualTo("1/abc/artifacts");
    assertThat(MlflowRest.proxiedPath("mlflow-artifacts://host:5000/1/abc/artifacts")).isEqualTo("1/abc/artifacts");
    assertThatThrownBy(() -> MlflowRest.proxiedPath("file:///tmp/x"))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("--serve-artifacts");
  }
}
