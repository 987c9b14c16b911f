package io.nightshift.training.tracking;

import java.util.Map;

/**
 * The model registry: versions of named models, and aliases ({@code champion}, {@code challenger}) that point at
 * one version each. {@link io.nightshift.training.mlflow.MlflowRegistry} is the production implementation.
 */
public interface ModelRegistry {
  /** Registers {@code source} as a new version of {@code name}, creating the registered model if needed. */
  ModelVersion createVersion(
      String name, String source, String runId, String description, Map<String, String> tags);

  /** Points {@code alias} of {@code name} at {@code version} (moving it if it pointed elsewhere). */
  void setAlias(String name, String alias, String version);

  /**
   * The version an alias points at.
   *
   * @throws io.nightshift.core.InvalidInputException if the model or alias does not exist, naming the known aliases
   */
  ModelVersion versionByAlias(String name, String alias);

  /** A version by number. */
  ModelVersion version(String name, String version);

  /** Reads one file of a version's model directory (e.g. {@code model.ubj}). */
  byte[] readModelFile(ModelVersion version, String relativePath);
}
