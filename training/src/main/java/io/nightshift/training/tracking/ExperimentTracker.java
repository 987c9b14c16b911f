package io.nightshift.training.tracking;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where training runs are recorded: parameters, metrics (with per-round history), dataset inputs, tags and
 * artifacts. {@link io.nightshift.training.mlflow.MlflowTracker} is the production implementation.
 */
public interface ExperimentTracker {
  /** Starts a run in the named experiment (created if needed). */
  TrackedRun startRun(String experiment, String runName, Map<String, String> tags);

  void logParams(String runId, Map<String, String> params);

  void logMetrics(String runId, Map<String, Double> metrics);

  /** Logs one value per step (e.g. per boosting round), step = index. */
  void logMetricHistory(String runId, String key, float[] values);

  void setTags(String runId, Map<String, String> tags);

  /** Records a dataset the run read (e.g. a Delta feature table at a version). */
  void logDatasetInput(String runId, DatasetInput input);

  /** Uploads every file under {@code localDir} to {@code artifactPath} of the run. */
  void logArtifacts(String runId, Path localDir, String artifactPath);

  /** Marks the run finished or failed. */
  void endRun(String runId, boolean succeeded);

  /** A link a person can open for the run, if the tracker has a UI. */
  String runUrl(TrackedRun run);
}
