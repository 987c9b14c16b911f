package io.nightshift.training.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nightshift.core.Errors;
import io.nightshift.core.NightshiftException;
import io.nightshift.training.tracking.ModelRegistry;
import io.nightshift.training.tracking.ModelVersion;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The MLflow model registry over its REST API (the Java client 2.17.2 has no registry writes and no aliases).
 * Model files are read through the server's artifact proxy.
 */
public final class MlflowRegistry implements ModelRegistry {
  private final MlflowRest rest;

  public MlflowRegistry(MlflowRest rest) {
    this.rest = rest;
  }

  @Override
  public ModelVersion createVersion(
      String name, String source, String runId, String description, Map<String, String> tags) {
    try {
      ObjectNode create = rest.mapper().createObjectNode().put("name", name);
      create.put("description", "Nightshift model " + name);
      rest.post("registered-models/create", create);
    } catch (MlflowApiException e) {
      if (!e.isAlreadyExists()) {
        throw e;
      }
    }
    ObjectNode body = rest.mapper().createObjectNode();
    body.put("name", name).put("source", source).put("run_id", runId).put("description", description);
    var tagArray = body.putArray("tags");
    tags.forEach((k, v) -> tagArray.addObject().put("key", k).put("value", v));
    JsonNode mv = rest.post("model-versions/create", body).path("model_version");
    return parse(mv);
  }

  @Override
  public void setAlias(String name, String alias, String version) {
    ObjectNode body = rest.mapper().createObjectNode().put("name", name).put("alias", alias).put("version", version);
    rest.post("registered-models/alias", body);
  }

  @Override
  public ModelVersion versionByAlias(String name, String alias) {
    try {
      return parse(rest.get("registered-models/alias", Map.of("name", name, "alias", alias)).path("model_version"));
    } catch (MlflowApiException e) {
      // MLflow answers an unknown alias with INVALID_PARAMETER_VALUE and an unknown model with
      // RESOURCE_DOES_NOT_EXIST (aliases() then says which); any other answer is no evidence that the alias is unset,
      // and the promotion gate must not take it for "no champion"
      if (!e.isNotFound() && !e.isInvalidParameter()) {
        throw e;
      }
      throw Errors.unknownModelAlias(name, alias, aliases(name));
    }
  }

  /** The aliases of a registered model; unknown model is an input error. */
  public List<String> aliases(String name) {
    JsonNode model;
    try {
      model = rest.get("registered-models/get", Map.of("name", name)).path("registered_model");
    } catch (MlflowApiException e) {
      if (e.isNotFound()) {
        throw Errors.unknownModel(name);
      }
      throw e;
    }
    List<String> aliases = new ArrayList<>();
    model.path("aliases").forEach(a -> aliases.add(a.path("alias").asText()));
    return aliases;
  }

  @Override
  public ModelVersion version(String name, String version) {
    try {
      return parse(rest.get("model-versions/get", Map.of("name", name, "version", version)).path("model_version"));
    } catch (MlflowApiException e) {
      if (e.isNotFound()) {
        aliases(name); // an unknown model name is reported as such
        throw Errors.unknownModelVersion(name, version, versionNumbers(name));
      }
      throw e;
    }
  }

  /** The version numbers of registered model {@code name}. */
  private List<String> versionNumbers(String name) {
    List<String> out = new ArrayList<>();
    String token = null;
    do {
      Map<String, String> query = new LinkedHashMap<>();
      query.put("filter", "name='" + name.replace("'", "\\'") + "'");
      query.put("max_results", "1000");
      if (token != null) {
        query.put("page_token", token);
      }
      JsonNode page = rest.get("model-versions/search", query);
      page.path("model_versions").forEach(v -> out.add(v.path("version").asText()));
      token = page.path("next_page_token").asText(null);
    } while (token != null && !token.isEmpty());
    return out;
  }

  @Override
  public byte[] readModelFile(ModelVersion version, String relativePath) {
    String source = version.source();
    if (source.startsWith("runs:/")) {
      String rest = source.substring("runs:/".length());
      int slash = rest.indexOf('/');
      String runId = slash < 0 ? rest : rest.substring(0, slash);
      String sub = slash < 0 ? "" : rest.substring(slash + 1);
      String artifactUri =
          this.rest.get("runs/get", Map.of("run_id", runId)).path("run").path("info").path("artifact_uri").asText();
      source = artifactUri + (sub.isEmpty() ? "" : "/" + sub);
    }
    if (!source.startsWith("mlflow-artifacts:")) {
      throw new NightshiftException(
          "Cannot read model " + version.name() + "/" + version.version() + ": source " + source
              + " is not served by the MLflow artifact proxy");
    }
    return rest.getArtifact(MlflowRest.proxiedPath(source) + "/" + relativePath);
  }

  private static ModelVersion parse(JsonNode mv) {
    Map<String, String> tags = new LinkedHashMap<>();
    mv.path("tags").forEach(t -> tags.put(t.path("key").asText(), t.path("value").asText()));
    List<String> aliases = new ArrayList<>();
    mv.path("aliases").forEach(a -> aliases.add(a.asText()));
    return new ModelVersion(
        mv.path("name").asText(),
        mv.path("version").asText(),
        mv.path("run_id").asText(),
        mv.path("source").asText(),
        tags,
        aliases);
  }
}
