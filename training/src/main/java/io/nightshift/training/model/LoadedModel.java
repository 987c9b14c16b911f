package io.nightshift.training.model;

import io.nightshift.training.tracking.ModelRegistry;
import io.nightshift.training.tracking.ModelUri;
import io.nightshift.training.tracking.ModelVersion;

/** A registered model version with its booster and Nightshift metadata, ready to score. */
public record LoadedModel(ModelVersion version, ModelMetadata metadata, byte[] booster) {
  /** Resolves {@code uri} (alias or version) in the registry and downloads the model's files. */
  public static LoadedModel load(ModelRegistry registry, ModelUri uri) {
    ModelVersion v =
        uri.alias() != null ? registry.versionByAlias(uri.name(), uri.alias()) : registry.version(uri.name(), uri.version());
    String where = uri + " (version " + v.version() + ")";
    ModelMetadata meta = ModelMetadata.fromJson(registry.readModelFile(v, ModelMetadata.FILE), where);
    byte[] booster = registry.readModelFile(v, MlModelWriter.MODEL_FILE);
    return new LoadedModel(v, meta, booster);
  }
}
