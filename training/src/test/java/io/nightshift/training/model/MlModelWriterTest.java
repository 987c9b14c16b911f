package io.nightshift.training.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The MLmodel file read back by a YAML 1.1 parser, as Python's PyYAML (which MLflow uses) reads it; loading it with
 * mlflow.pyfunc is covered by MlflowTrackingTest.
 */
class MlModelWriterTest {
  @Test
  void featureNamesWithQuotesAndMetadataThatLooksLikeBooleansReadBackAsWritten() throws Exception {
    List<String> features = List.of("it's", "say \"hi\"", "back\\slash", "plain");
    ModelMetadata m =
        new ModelMetadata(
            "nightshift-on", "yes", "REGRESSION", "on", List.of("id"), "date", "label", features, "2024-01-31",
            "/w/features/on", 3, "2023-01-01", "2023-12-31", "2024-01-01", "2024-01-31", 1.0, Map.of(),
            Map.of());

    Map<String, Object> yaml = new Yaml().load(MlModelWriter.mlmodel(m, "run'1"));

    @SuppressWarnings("unchecked")
    Map<String, Object> signature = (Map<String, Object>) yaml.get("signature");
    JsonNode inputs = new ObjectMapper().readTree((String) signature.get("inputs"));
    assertThat(inputs).hasSize(features.size());
    for (int i = 0; i < features.size(); i++) {
      assertThat(inputs.get(i).path("name").asText()).isEqualTo(features.get(i));
      assertThat(inputs.get(i).path("type").asText()).isEqualTo("double");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) yaml.get("metadata");
    assertThat(metadata)
        .containsEntry("nightshift_feature_view", "on")
        .containsEntry("nightshift_use_case", "yes")
        .containsEntry("nightshift_as_of", "2024-01-31");
    assertThat(yaml).containsEntry("run_id", "run'1");
  }
}
