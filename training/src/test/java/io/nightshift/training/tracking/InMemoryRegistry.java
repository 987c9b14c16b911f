package io.nightshift.training.tracking;

import io.nightshift.core.Errors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model registry held in memory, for unit tests of the modules that use one (training, scoring, monitoring); the
 * MLflow implementation is tested against a real server. It answers unknown names and aliases as the MLflow registry
 * does (input errors naming them). Shared with other modules' tests through this module's test jar.
 */
public class InMemoryRegistry implements ModelRegistry {
  private final Map<String, List<ModelVersion>> versions = new HashMap<>();
  private final Map<String, Map<String, String>> aliases = new HashMap<>();
  private final Map<String, Map<String, byte[]>> files = new HashMap<>();
  private final List<String> aliasMoves = new ArrayList<>();

  /** The files under a model version's {@code source} (e.g. the booster and its metadata), for readModelFile. */
  public void putFiles(String source, Map<String, byte[]> content) {
    files.put(source, content);
  }

  /** Registers {@code version} as it is, as another client of the same registry would. */
  public void add(ModelVersion version) {
    versions.computeIfAbsent(version.name(), n -> new ArrayList<>()).add(version);
  }

  /** The aliases of {@code name}: alias to version. */
  public Map<String, String> aliases(String name) {
    return aliases.computeIfAbsent(name, n -> new HashMap<>());
  }

  /** Every alias set through this registry, as {@code alias=version}, in order. */
  public List<String> aliasMoves() {
    return aliasMoves;
  }

  @Override
  public ModelVersion createVersion(
      String name, String source, String runId, String description, Map<String, String> tags) {
    List<ModelVersion> list = versions.computeIfAbsent(name, n -> new ArrayList<>());
    ModelVersion v = new ModelVersion(name, Integer.toString(list.size() + 1), runId, source, tags, List.of());
    list.add(v);
    return v;
  }

  @Override
  public void setAlias(String name, String alias, String version) {
    aliases(name).put(alias, version);
    aliasMoves.add(alias + "=" + version);
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
    return list.stream().filter(v -> v.version().equals(version)).findFirst()
        .orElseThrow(
            () -> Errors.unknownModelVersion(name, version, list.stream().map(ModelVersion::version).toList()));
  }

  @Override
  public byte[] readModelFile(ModelVersion version, String relativePath) {
    Map<String, byte[]> content = files.get(version.source());
    if (content == null || !content.containsKey(relativePath)) {
      throw new IllegalArgumentException("no file " + relativePath + " under " + version.source());
    }
    return content.get(relativePath);
  }
}
