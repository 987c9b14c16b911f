package io.nightshift.training.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.UUID;

/**
 * Writes a model directory in MLflow's xgboost flavor: {@code model.ubj} plus an {@code MLmodel} with the
 * {@code xgboost} and {@code python_function} flavors and an input signature, the environment files, and
 * Nightshift's own {@code nightshift.json}. Python's {@code mlflow.pyfunc.load_model} loads it.
 */
public final class MlModelWriter {
  /** The MLflow version the model files are written for (the project's server version). */
  public static final String MLFLOW_VERSION = "3.17.2";
  /** The XGBoost version that trained the booster. */
  public static final String XGBOOST_VERSION = "3.4.0";
  /** The oldest Python xgboost checked to load and predict these boosters identically (see MlflowTrackingTest). */
  static final String PYTHON_XGBOOST_MIN = "3.2.0";
  static final String PYTHON_VERSION = "3.11.7";
  public static final String MODEL_FILE = "model.ubj";

  private static final ObjectMapper JSON = new ObjectMapper();

  private MlModelWriter() {}

  public static void write(Path dir, byte[] booster, ModelMetadata metadata, String runId) {
    try {
      Files.createDirectories(dir);
      Files.write(dir.resolve(MODEL_FILE), booster);
      Files.write(dir.resolve(ModelMetadata.FILE), metadata.toJson());
      Files.writeString(dir.resolve("MLmodel"), mlmodel(metadata, runId), StandardCharsets.UTF_8);
      Files.writeString(
          dir.resolve("requirements.txt"),
          "mlflow==" + MLFLOW_VERSION + "\nxgboost>=" + PYTHON_XGBOOST_MIN + "\npandas\nnumpy\n",
          StandardCharsets.UTF_8);
      Files.writeString(
          dir.resolve("python_env.yaml"),
          "python: " + PYTHON_VERSION + "\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\ndependencies:\n"
              + "- -r requirements.txt\n",
          StandardCharsets.UTF_8);
      Files.writeString(
          dir.resolve("conda.yaml"),
          "name: mlflow-env\nchannels:\n- conda-forge\ndependencies:\n- python=" + PYTHON_VERSION + "\n- pip\n"
              + "- pip:\n  - mlflow==" + MLFLOW_VERSION + "\n  - xgboost>=" + PYTHON_XGBOOST_MIN + "\n",
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the model directory " + dir, e);
    }
  }

  static String mlmodel(ModelMetadata m, String runId) {
    String created =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS").withZone(ZoneOffset.UTC).format(Instant.now());
    String inputs = signature(m.features());
    return String.join(
            "\n",
            "artifact_path: model",
            "flavors:",
            "  python_function:",
            "    data: " + MODEL_FILE,
            "    env:",
            "      conda: conda.yaml",
            "      virtualenv: python_env.yaml",
            "    loader_module: mlflow.xgboost",
            "    python_version: " + PYTHON_VERSION,
            "  xgboost:",
            "    code: null",
            "    data: " + MODEL_FILE,
            "    model_class: xgboost.core.Booster",
            "    model_format: ubj",
            "    xgb_version: " + XGBOOST_VERSION,
            "mlflow_version: " + MLFLOW_VERSION,
            "model_uuid: " + UUID.randomUUID().toString().replace("-", ""),
            "run_id: " + quoted(runId),
            "signature:",
            "  inputs: " + quoted(inputs),
            "  outputs: null",
            "  params: null",
            "utc_time_created: '" + created + "'",
            "metadata:",
            "  nightshift_use_case: " + quoted(m.useCase()),
            "  nightshift_feature_view: " + quoted(m.featureView()),
            "  nightshift_as_of: " + quoted(m.asOf()))
        + "\n";
  }

  /** MLflow's column-based input signature (all features double, required) as the JSON text MLmodel holds. */
  static String signature(List<String> features) {
    ArrayNode inputs = JSON.createArrayNode();
    features.forEach(f -> inputs.addObject().put("type", "double").put("name", f).put("required", true));
    try {
      return JSON.writeValueAsString(inputs);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write the model signature", e);
    }
  }

  /**
   * {@code value} as a YAML string scalar that reads back as that string, never as a boolean, number or null
   * ({@code on}, {@code null}, {@code 1e3}): single-quoted, a quote written twice. A value with a line break or another
   * control character, which single quotes cannot hold, is written double-quoted with JSON's escapes (YAML reads those
   * too).
   */
  static String quoted(String value) {
    if (value == null) {
      return "null";
    }
    if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      try {
        return JSON.writeValueAsString(value);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("Cannot quote " + value, e);
      }
    }
    return "'" + value.replace("'", "''") + "'";
  }
}
