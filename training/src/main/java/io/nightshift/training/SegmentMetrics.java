package io.nightshift.training;

import java.util.Map;

/** Validation metrics of the rows whose {@code key} column has value {@code segment}. */
public record SegmentMetrics(String key, String segment, long rows, Map<String, Double> metrics) {}
