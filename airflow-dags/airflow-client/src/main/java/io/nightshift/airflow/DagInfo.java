package io.nightshift.airflow;

/** What the client needs to know about a DAG. */
public record DagInfo(String dagId, boolean paused, boolean stale, String fileLocation) {}
