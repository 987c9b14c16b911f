package io.nightshift.training;

import io.nightshift.training.tracking.DatasetInput;
import io.nightshift.training.tracking.ExperimentTracker;
import io.nightshift.training.tracking.TrackedRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An in-memory {@link ExperimentTracker} that records what a training logged, for tests without MLflow. */
class RecordingTracker implements ExperimentTracker {
  static final class Run {
    final String id;
    final String name;
    final Map<String, String> tags = new LinkedHashMap<>();
    final Map<String, String> params = new LinkedHashMap<>();
    final Map<String, Double> metrics = new LinkedHashMap<>();
    final Map<String, float[]> histories = new LinkedHashMap<>();
    /** The JSON files logged as artifacts, by artifact path: the blessing record among them. */
    final Map<String, String> jsonArtifacts = new LinkedHashMap<>();
    Boolean succeeded;

    Run(String id, String name) {
      this.id = id;
      this.name = name;
    }
  }

  final List<Run> runs = new ArrayList<>();

  Run run(String id) {
    return runs.stream().filter(r -> r.id.equals(id)).findFirst().orElseThrow();
  }

  @Override
  public TrackedRun startRun(String experiment, String runName, Map<String, String> tags) {
    Run r = new Run("run-" + runs.size(), runName);
    r.tags.putAll(tags);
    runs.add(r);
    return new TrackedRun(r.id, "exp", "mem://" + r.id);
  }

  @Override
  public void logParams(String runId, Map<String, String> params) {
    run(runId).params.putAll(params);
  }

  @Override
  public void logMetrics(String runId, Map<String, Double> metrics) {
    run(runId).metrics.putAll(metrics);
  }

  @Override
  public void logMetricHistory(String runId, String key, float[] values) {
    run(runId).histories.put(key, values);
  }

  @Override
  public void setTags(String runId, Map<String, String> tags) {
    run(runId).tags.putAll(tags);
  }

  @Override
  public void logDatasetInput(String runId, DatasetInput input) {}

  @Override
  public void logArtifacts(String runId, Path localDir, String artifactPath) {
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(localDir)) {
      for (Path f : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".json"))::iterator) {
        String relative = localDir.relativize(f).toString();
        run(runId).jsonArtifacts.put(
            artifactPath.isEmpty() ? relative : artifactPath + "/" + relative, java.nio.file.Files.readString(f));
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void endRun(String runId, boolean succeeded) {
    run(runId).succeeded = succeeded;
  }

  @Override
  public String runUrl(TrackedRun run) {
    return "mem://" + run.runId();
  }
}
