package io.nightshift.training.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.NightshiftException;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.training.tracking.TrackedRun;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Experiments as a real MLflow server (started by scripts/mlflow.sh) accepts them. */
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
}
