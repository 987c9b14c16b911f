package io.nightshift.training.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.NightshiftException;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.training.tracking.MetricKeys;
import io.nightshift.training.tracking.TrackedRun;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Experiments and metric names as a real MLflow server (started by scripts/mlflow.sh) accepts them. */
class MlflowExperimentTest {
  @Test
  void aDeletedExperimentIsExplainedWithItsIdAndTheFix() {
    MlflowTracker tracker = new MlflowTracker(LocalMlflowServer.trackingUri());
    String experiment = "nightshift-deleted-experiment-test";
    TrackedRun first = tracker.startRun(experiment, "first", Map.of());
    tracker.endRun(first.runId(), true);
    tracker.rest().post("experiments/delete", Map.of("experiment_id", first.experimentId()));

    assertThatThrownBy(() -> tracker.startRun(experiment, "second", Map.of()))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("MLflow experiment '" + experiment + "' (id " + first.experimentId() + ") is deleted")
        .hasMessageContaining("mlflow experiments restore --experiment-id " + first.experimentId())
        .hasMessageContaining("mlflow gc");

    tracker.rest().post("experiments/restore", Map.of("experiment_id", first.experimentId()));
    TrackedRun again = tracker.startRun(experiment, "after restore", Map.of());
    assertThat(again.experimentId()).isEqualTo(first.experimentId());
    tracker.endRun(again.runId(), true);
  }

  @Test
  void curvesOfEvalMetricsWithAnAtSignAreAcceptedUnderTheirSanitizedKeys() {
    MlflowTracker tracker = new MlflowTracker(LocalMlflowServer.trackingUri());
    TrackedRun run = tracker.startRun("nightshift-metric-keys-test", "curves", Map.of());
    String tweedie = MetricKeys.of("valid-tweedie-nloglik@1.3");
    String error = MetricKeys.of("train-error@0.3");
    tracker.logMetricHistory(run.runId(), tweedie, new float[] {3f, 2f, 1f});
    tracker.logMetricHistory(run.runId(), error, new float[] {0.5f, 0.25f});
    tracker.endRun(run.runId(), true);

    assertThat(tweedie).isEqualTo("valid-tweedie-nloglik_at_1.3");
    assertThat(
            tracker.rest().get("metrics/get-history", Map.of("run_id", run.runId(), "metric_key", tweedie))
                .path("metrics"))
        .hasSize(3);
    assertThat(
            tracker.rest().get("metrics/get-history", Map.of("run_id", run.runId(), "metric_key", error))
                .path("metrics"))
        .hasSize(2);
    // the raw name is what the server refuses
    assertThatThrownBy(() -> tracker.logMetricHistory(run.runId(), "valid-error@0.3", new float[] {1f}))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("Cannot log to MLflow run " + run.runId());
  }
}
