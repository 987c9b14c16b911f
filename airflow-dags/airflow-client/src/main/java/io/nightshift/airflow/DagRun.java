package io.nightshift.airflow;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A DAG run as Airflow reports it. {@code logicalDate} is null for runs without one (asset-triggered, or triggered
 * with {@code logical_date: null}). {@code alreadyExisted} is true when {@link AirflowClient#trigger} found the run
 * instead of creating it (a retried trigger).
 */
public record DagRun(
    String dagId,
    String runId,
    String state,
    String logicalDate,
    String runAfter,
    String runType,
    Map<String, Object> conf,
    boolean alreadyExisted) {

  public DagRun {
    Objects.requireNonNull(dagId, "dagId is null");
    Objects.requireNonNull(runId, "runId is null");
    state = state == null ? "" : state;
    conf = conf == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(conf));
  }

  /** {@code success} or {@code failed}: the run will not change any more. */
  public boolean isFinished() {
    return "success".equals(state) || "failed".equals(state);
  }

  public boolean isSuccess() {
    return "success".equals(state);
  }

  DagRun existing() {
    return new DagRun(dagId, runId, state, logicalDate, runAfter, runType, conf, true);
  }
}
