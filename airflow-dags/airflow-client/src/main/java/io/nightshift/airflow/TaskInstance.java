package io.nightshift.airflow;

/** One task instance of a DAG run. {@code state} is empty while the task has not been scheduled yet. */
public record TaskInstance(
    String taskId, String state, int tryNumber, int mapIndex, String startDate, String endDate, Double duration) {

  public TaskInstance {
    state = state == null ? "" : state;
  }
}
