package io.nightshift.scoring;

import io.nightshift.core.Errors;
import io.nightshift.training.tracking.ModelRegistry;
import io.nightshift.training.tracking.ModelVersion;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A registry fake for unit tests; the MLflow implementation is tested against a real server. */
final class InMemoryRegistry implements ModelRegistry {
  private final Map<String, List<ModelVersion>> versions = new HashMap<>();
  private final Map<String, Map<String, String>> aliases = new HashMap<>();
  private final Map<String, Map<String, byte[]>> files = new HashMap<>();

  void putFiles(String source, Map<String, byte[]> content) {
    files.put(source, content);
  }

  @Override
  public ModelVersion createVersion(String name, String source, String runId, String description, Map<String, String> tags) {
    List<ModelVersion> list = versions.computeIfAbsent(name, n -> new ArrayList<>());
    ModelVersion v = new ModelVersion(name, Integer.toString(list.size() + 1), runId, source, tags, List.of());
    list.add(v);
    return v;
  }

  @Override
  public void setAlias(String name, String alias, String version) {
    aliases.computeIfAbsent(name, n -> new HashMap<>()).put(alias, version);
  }

  @Override
  public ModelVersion versionByAlias(String name, String alias) {
    Map<String, String> a = aliases.getOrDefault(name, Map.of());
    if (!a.containsKey(alias)) {
      throw Errors.unknownModelAlias(name, alias, a.keySet());
    }
    return version(name, a.get(alias));
  }

  @Override
  public ModelVersion version(String name, String version) {
    List<ModelVersion> list = versions.get(name);
    if (list == null) { // as the MLflow registry answers a name it does not know
      throw Errors.unknownModel(name);
    }
    return list.get(Integer.parseInt(version) - 1);
  }

  @Override
  public byte[] readModelFile(ModelVersion version, String relativePath) {
    return files.get(version.source()).get(relativePath);
  }
}
