package io.nightshift.training.tracking;

import java.util.List;
import java.util.Map;

/** One version of a registered model. {@code source} is where its files are (e.g. an MLflow artifact URI). */
public record ModelVersion(
    String name,
    String version,
    String runId,
    String source,
    Map<String, String> tags,
    List<String> aliases) {}
