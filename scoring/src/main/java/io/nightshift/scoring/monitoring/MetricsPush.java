package io.nightshift.scoring.monitoring;

import java.util.Map;

/** Where a batch run's metrics go: a Prometheus Pushgateway in production, a fake in tests. */
public interface MetricsPush {
  /** Replaces the metrics of {@code grouping} (job and labels) with {@code exposition} (Prometheus text format). */
  void push(Map<String, String> grouping, String exposition);
}
