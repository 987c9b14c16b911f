package io.nightshift.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.views.ViewDefinitions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the feature view a model spec names with {@code feature_view:}. A value ending in {@code .yaml} is a file,
 * relative to the spec's directory or else the working directory; a bare name {@code NAME} is looked up as
 * {@code ../features/NAME.yaml} next to the spec's directory, then {@code conf/features/NAME.yaml} in the working
 * directory, then in the jar ({@code nightshift/features/NAME.yaml}, the shipped views), so specs keep working under
 * spark-submit on a cluster.
 */
public final class FeatureViews {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private FeatureViews() {}

  /**
   * @param specDir the directory of the model spec naming the view, or null (then the working directory and the jar)
   * @param specSource what names the view, for messages
   */
  public static FeatureView resolve(String value, Path specDir, String specSource, UseCase useCase) {
    List<Path> candidates = new ArrayList<>();
    boolean file = value.endsWith(".yaml") || value.endsWith(".yml");
    if (file) {
      if (specDir != null) {
        candidates.add(specDir.resolve(value));
      }
      candidates.add(Path.of(value));
    } else {
      if (specDir != null) {
        candidates.add(specDir.resolve("../features/" + value + ".yaml"));
      }
      candidates.add(Path.of("conf/features/" + value + ".yaml"));
    }
    for (Path p : candidates) {
      if (Files.isRegularFile(p)) {
        return ViewDefinitions.load(p.normalize()).asFeatureView(useCase, p.normalize().toString());
      }
    }
    if (!file) {
      String resource = "nightshift/features/" + value + ".yaml";
      try (InputStream in = FeatureViews.class.getClassLoader().getResourceAsStream(resource)) {
        if (in != null) {
          return ViewDefinitions.parse(YAML.readTree(in), "classpath:" + resource)
              .asFeatureView(useCase, "classpath:" + resource);
        }
      } catch (IOException e) {
        throw new IllegalStateException("Cannot read " + resource + ": " + e.getMessage(), e);
      }
    }
    throw Errors.invalidOption("model spec " + specSource + " key feature_view", value,
        "name a feature view YAML: a file (looked for at " + candidates + ") or the name of one in conf/features/");
  }
}
