package io.nightshift.training.mlflow;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nightshift.core.Errors;
import io.nightshift.core.NightshiftException;
import io.nightshift.training.tracking.DatasetInput;
import io.nightshift.training.tracking.ExperimentTracker;
import io.nightshift.training.tracking.TrackedRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.mlflow.api.proto.Service;
import org.mlflow.tracking.MlflowClient;
import org.mlflow.tracking.MlflowClientException;

/**
 * Records runs on an MLflow tracking server: experiments, runs, params, metrics and tags through the MLflow Java
 * client; dataset inputs and artifacts (uploaded through the server's artifact proxy, no Python needed) through
 * {@link MlflowRest}.
 */
public final class MlflowTracker implements ExperimentTracker, AutoCloseable {
  static final int MAX_METRICS_PER_BATCH = 1000;
  static final int MAX_PARAMS_PER_BATCH = 100;

  private final MlflowClient client;
  private final MlflowRest rest;

  public MlflowTracker(String trackingUri) {
    this.rest = new MlflowRest(trackingUri);
    this.client = new MlflowClient(rest.trackingUri());
  }

  public MlflowRest rest() {
    return rest;
  }

  @Override
  public TrackedRun startRun(String experiment, String runName, Map<String, String> tags) {
    try {
      String experimentId = experimentId(experiment);
      Service.CreateRun.Builder req =
          Service.CreateRun.newBuilder()
              .setExperimentId(experimentId)
              .setRunName(runName)
              .setStartTime(System.currentTimeMillis());
      tags.forEach((k, v) -> req.addTags(Service.RunTag.newBuilder().setKey(k).setValue(v)));
      Service.RunInfo info = client.createRun(req.build());
      return new TrackedRun(info.getRunId(), experimentId, info.getArtifactUri());
    } catch (MlflowClientException | MlflowApiException e) {
      throw new NightshiftException(
          "Cannot start an MLflow run in experiment '" + experiment + "' at " + rest.trackingUri() + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * The experiment's id, creating it if needed (over REST: the Java client retries every 4xx answer, an existing name
   * included). A deleted experiment keeps its name, and MLflow refuses runs in it: that is explained here.
   */
  private String experimentId(String experiment) {
    com.fasterxml.jackson.databind.JsonNode found;
    try {
      found = byName(experiment);
    } catch (MlflowApiException e) {
      if (!e.isNotFound()) {
        throw e;
      }
      try {
        return rest.post("experiments/create", Map.of("name", experiment)).path("experiment_id").asText();
      } catch (MlflowApiException create) {
        if (!create.isAlreadyExists()) {
          throw create;
        }
        found = byName(experiment); // another job created it between the lookup and the create
      }
    }
    String id = found.path("experiment_id").asText();
    if ("deleted".equals(found.path("lifecycle_stage").asText())) {
      throw Errors.deletedExperiment(experiment, id, rest.trackingUri());
    }
    return id;
  }

  private com.fasterxml.jackson.databind.JsonNode byName(String experiment) {
    return rest.get("experiments/get-by-name", Map.of("experiment_name", experiment)).path("experiment");
  }

  @Override
  public void logParams(String runId, Map<String, String> params) {
    List<Service.Param> all = new ArrayList<>();
    params.forEach((k, v) -> all.add(Service.Param.newBuilder().setKey(k).setValue(v).build()));
    for (int i = 0; i < all.size(); i += MAX_PARAMS_PER_BATCH) {
      batch(runId, List.of(), all.subList(i, Math.min(all.size(), i + MAX_PARAMS_PER_BATCH)), List.of());
    }
  }

  @Override
  public void logMetrics(String runId, Map<String, Double> metrics) {
    long now = System.currentTimeMillis();
    List<Service.Metric> all = new ArrayList<>();
    metrics.forEach(
        (k, v) -> {
          if (v != null && !v.isNaN() && !v.isInfinite()) {
            all.add(Service.Metric.newBuilder().setKey(k).setValue(v).setTimestamp(now).setStep(0).build());
          }
        });
    sendMetrics(runId, all);
  }

  @Override
  public void logMetricHistory(String runId, String key, float[] values) {
    long now = System.currentTimeMillis();
    List<Service.Metric> all = new ArrayList<>(values.length);
    for (int step = 0; step < values.length; step++) {
      all.add(
          Service.Metric.newBuilder().setKey(key).setValue(values[step]).setTimestamp(now).setStep(step).build());
    }
    sendMetrics(runId, all);
  }

  private void sendMetrics(String runId, List<Service.Metric> all) {
    for (int i = 0; i < all.size(); i += MAX_METRICS_PER_BATCH) {
      batch(runId, all.subList(i, Math.min(all.size(), i + MAX_METRICS_PER_BATCH)), List.of(), List.of());
    }
  }

  @Override
  public void setTags(String runId, Map<String, String> tags) {
    List<Service.RunTag> all = new ArrayList<>();
    tags.forEach((k, v) -> all.add(Service.RunTag.newBuilder().setKey(k).setValue(v).build()));
    for (int i = 0; i < all.size(); i += MAX_PARAMS_PER_BATCH) {
      batch(runId, List.of(), List.of(), all.subList(i, Math.min(all.size(), i + MAX_PARAMS_PER_BATCH)));
    }
  }

  private void batch(
      String runId, List<Service.Metric> metrics, List<Service.Param> params, List<Service.RunTag> tags) {
    try {
      client.logBatch(runId, metrics, params, tags);
    } catch (MlflowClientException e) {
      throw new NightshiftException("Cannot log to MLflow run " + runId + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void logDatasetInput(String runId, DatasetInput input) {
    ObjectNode dataset = rest.mapper().createObjectNode();
    dataset.put("name", input.name());
    // MLflow keeps the first dataset it is given under a (name, digest): two runs that read the same table version
    // with other rows (another as-of date) or other columns (another feature selection) need digests of their own
    dataset.put(
        "digest",
        digest(input.path() + "@" + input.version() + "\n" + input.rows() + "\n" + String.join(",", input.columns())));
    dataset.put("source_type", "delta_table");
    dataset.put(
        "source",
        rest.mapper()
            .createObjectNode()
            .put("path", input.path())
            .put("delta_table_version", input.version())
            .toString());
    ArrayNode colspec = rest.mapper().createArrayNode();
    input.columns().forEach(c -> colspec.addObject().put("type", "double").put("name", c).put("required", true));
    dataset.put("schema", rest.mapper().createObjectNode().set("mlflow_colspec", colspec).toString());
    dataset.put("profile", rest.mapper().createObjectNode().put("num_rows", input.rows()).toString());
    ObjectNode body = rest.mapper().createObjectNode();
    body.put("run_id", runId);
    ObjectNode entry = body.putArray("datasets").addObject();
    entry.putArray("tags").addObject().put("key", "mlflow.data.context").put("value", input.context());
    entry.set("dataset", dataset);
    rest.post("runs/log-inputs", body);
  }

  @Override
  public void logArtifacts(String runId, Path localDir, String artifactPath) {
    String root = MlflowRest.proxiedPath(artifactUri(runId));
    try (Stream<Path> files = Files.walk(localDir)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        String rel = localDir.relativize(f).toString().replace('\\', '/');
        String target = root + "/" + (artifactPath.isEmpty() ? "" : artifactPath + "/") + rel;
        rest.putArtifact(target, Files.readAllBytes(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot upload artifacts from " + localDir, e);
    }
  }

  private String artifactUri(String runId) {
    try {
      return client.getRun(runId).getInfo().getArtifactUri();
    } catch (MlflowClientException e) {
      throw new NightshiftException("Cannot read MLflow run " + runId + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void endRun(String runId, boolean succeeded) {
    try {
      client.setTerminated(
          runId,
          succeeded ? Service.RunStatus.FINISHED : Service.RunStatus.FAILED,
          System.currentTimeMillis());
    } catch (MlflowClientException e) {
      throw new NightshiftException("Cannot end MLflow run " + runId + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String runUrl(TrackedRun run) {
    return rest.trackingUri() + "/#/experiments/" + run.experimentId() + "/runs/" + run.runId();
  }

  @Override
  public void close() {
    client.close();
  }

  private static String digest(String s) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h).substring(0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
