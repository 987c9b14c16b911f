package io.nightshift.training.tracking;

/** A run as the tracker knows it. {@code artifactUri} is where the run's artifacts live. */
public record TrackedRun(String runId, String experimentId, String artifactUri) {}
