package io.nightshift.training.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.nightshift.core.InvalidInputException;
import io.nightshift.training.Evaluation;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.TrainingPipeline;
import io.nightshift.training.model.MlModelWriter;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.tracking.DatasetInput;
import io.nightshift.training.tracking.ModelVersion;
import io.nightshift.training.tracking.TrackedRun;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Training published to a real MLflow server (started by scripts/mlflow.sh), read back through its REST API. */
class MlflowTrackingTest {
  static MlflowTracker tracker;
  static MlflowRegistry registry;
  static TrainingPipeline.Outcome outcome;

  @BeforeAll
  static void trainAndPublish() {
    tracker = new MlflowTracker(LocalMlflowServer.trackingUri());
    registry = new MlflowRegistry(tracker.rest());
    TrainingPipeline pipeline =
        new TrainingPipeline(SparkTestSession.get(), io.nightshift.training.TrainingFixturesAccess.warehouse(), tracker, registry);
    outcome =
        pipeline.train(
            io.nightshift.training.TrainingFixturesAccess.quick(ModelSpecs.maintenance(), 25)
                .withEvaluation(
                    new Evaluation(2, 60, null, 0.5, 5000, 400,
                        new Evaluation.Search(2, "valid_pr_auc", Map.of("max_depth", List.of(3, 5)), Map.of(), 1))),
            io.nightshift.training.TrainingFixturesAccess.AS_OF,
            TrainingPipeline.Promotion.gated(),
            Map.of("mlflow.source.name", "MlflowTrackingTest", "mlflow.source.type", "JOB"));
  }

  @Test
  void runHasParamsMetricsCurvesTagsAndInputs() {
    JsonNode run = tracker.rest().get("runs/get", Map.of("run_id", outcome.run().runId())).path("run");
    assertThat(run.path("info").path("status").asText()).isEqualTo("FINISHED");
    assertThat(run.path("info").path("run_name").asText()).isEqualTo("maintenance-train-2023-12-31");
    Map<String, String> params = new java.util.HashMap<>();
    run.path("data").path("params").forEach(p -> params.put(p.path("key").asText(), p.path("value").asText()));
    assertThat(params)
        .containsEntry("objective", "binary:logistic")
        .containsEntry("num_round", "25") // TrainingFixtures.quick(..., 25)
        .containsEntry("feature_view", "features/machine_daily")
        .containsEntry("backtest_folds", "2") // the Evaluation above
        .containsEntry("alert_threshold", "0.5")
        .containsKey("eta");
    Map<String, Double> metrics = new java.util.HashMap<>();
    run.path("data").path("metrics").forEach(m -> metrics.put(m.path("key").asText(), m.path("value").asDouble()));
    assertThat(metrics).containsKeys("valid_auc", "valid_logloss");
    assertThat(metrics.get("train_rows")).isEqualTo((double) outcome.model().trainRows());
    assertThat(outcome.model().trainRows()).isPositive();
    assertThat(values(run.path("data").path("tags"), "key"))
        .contains("mlflow.source.name", "nightshift.use_case", "nightshift.registered_version", "mlflow.note.content");
    assertThat(run.path("inputs").path("dataset_inputs")).hasSize(2);
    JsonNode history =
        tracker.rest().get("metrics/get-history", Map.of("run_id", outcome.run().runId(), "metric_key", "valid-logloss"));
    assertThat(history.path("metrics")).hasSize(25);
  }

  @Test
  void searchTrialsAreChildRunsAndTheBacktestIsLoggedPerFold() {
    String parent = outcome.run().runId();
    JsonNode children =
        tracker.rest().post(
            "runs/search",
            Map.of(
                "filter", "tags.mlflow.parentRunId = '" + parent + "'",
                "experiment_ids", List.of(outcome.run().experimentId())));
    assertThat(children.path("runs")).hasSize(2);
    for (JsonNode child : children.path("runs")) {
      assertThat(child.path("info").path("status").asText()).isEqualTo("FINISHED");
      assertThat(values(child.path("data").path("metrics"), "key")).contains("valid_pr_auc", "valid_expected_cost");
    }
    JsonNode run = tracker.rest().get("runs/get", Map.of("run_id", parent)).path("run");
    assertThat(values(run.path("data").path("metrics"), "key"))
        .contains("search_trials", "search_best_valid_pr_auc", "backtest_valid_pr_auc_mean", "backtest_folds",
            "valid_expected_cost", "valid_recall_at_alert");
    assertThat(values(run.path("data").path("tags"), "key")).contains("nightshift.search.best_run_id");
    // the trials were picked on the 90 days before the first backtest fold's validation window (cutoff 2023-11-01,
    // from 2023-08-04) and its 7-day purge gap, so neither fold nor the final model validates on the trials' rows
    assertThat(tag(run, "nightshift.search.selection"))
        .isEqualTo("the 90 days up to 2023-07-27, before the validation windows of the backtest (from cutoff 2023-11-01)"
            + " and of the final model");
    JsonNode folds =
        tracker.rest().get("metrics/get-history", Map.of("run_id", parent, "metric_key", "backtest_valid_pr_auc"));
    assertThat(folds.path("metrics")).hasSize(2);
    JsonNode root = tracker.rest().get("artifacts/list", Map.of("run_id", parent));
    assertThat(values(root.path("files"), "path")).contains("backtest.csv", "search_trials.csv");
  }

  @Test
  void artifactsHoldAnXgboostFlavoredModel() {
    JsonNode listing =
        tracker.rest().get("artifacts/list", Map.of("run_id", outcome.run().runId(), "path", "model"));
    assertThat(values(listing.path("files"), "path"))
        .contains("model/MLmodel", "model/model.ubj", "model/nightshift.json", "model/requirements.txt");
    JsonNode root = tracker.rest().get("artifacts/list", Map.of("run_id", outcome.run().runId()));
    assertThat(values(root.path("files"), "path"))
        .contains("feature_importance.csv", "feature_importance.png", "predicted_vs_actual.png", "quality_gate.txt");
  }

  @Test
  void championAliasResolvesToTheRegisteredVersionAndItsFiles() {
    ModelVersion v = registry.versionByAlias("nightshift-maintenance", "champion");
    assertThat(v.version()).isEqualTo(outcome.version().version());
    assertThat(v.runId()).isEqualTo(outcome.run().runId());
    assertThat(registry.readModelFile(v, MlModelWriter.MODEL_FILE)).isEqualTo(outcome.model().booster());
    ModelMetadata meta = ModelMetadata.fromJson(registry.readModelFile(v, ModelMetadata.FILE), "test");
    assertThat(meta.features()).isEqualTo(ModelSpecs.maintenance().view().features());
    assertThat(meta.asOf()).isEqualTo("2023-12-31");
    String mlmodel = new String(registry.readModelFile(v, "MLmodel"), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(mlmodel).contains("loader_module: mlflow.xgboost").contains("model_class: xgboost.core.Booster");
  }

  @Test
  void pythonPyfuncLoadsTheRegisteredModelAndPredictsLikeJava() throws Exception {
    List<String> features = ModelSpecs.maintenance().view().features();
    List<org.apache.spark.sql.Row> rows =
        SparkTestSession.get().read().format("delta")
            .load(io.nightshift.training.TrainingFixturesAccess.warehouse().features(io.nightshift.core.UseCase.MAINTENANCE))
            .orderBy("machine_id", "date").limit(60).collectAsList();
    float[] data = new float[rows.size() * features.size()];
    StringBuilder csv = new StringBuilder(String.join(",", features)).append('\n');
    for (int i = 0; i < rows.size(); i++) {
      for (int j = 0; j < features.size(); j++) {
        Object v = rows.get(i).getAs(features.get(j));
        data[i * features.size() + j] = v == null ? Float.NaN : ((Number) v).floatValue();
        csv.append(j == 0 ? "" : ",").append(v == null ? "" : v.toString());
      }
      csv.append('\n');
    }
    float[][] expected =
        ml.dmlc.xgboost4j.java.XGBoost.loadModel(outcome.model().booster())
            .inplace_predict(data, rows.size(), features.size(), Float.NaN);

    java.nio.file.Path dir = SparkTestSession.tempDir("pyfunc");
    java.nio.file.Files.writeString(dir.resolve("in.csv"), csv);
    java.nio.file.Path root = LocalMlflowServer.projectRoot();
    // the MLflow environment, wherever scripts/python-env.sh keeps it (it prints the path)
    Process env = new ProcessBuilder(root.resolve("scripts/python-env.sh").toString(), "mlflow").start();
    String venv = new String(env.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
    String envErrors = new String(env.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(env.waitFor()).as(envErrors).isZero();
    ProcessBuilder pb =
        new ProcessBuilder(
                java.nio.file.Path.of(venv, "bin", "python").toString(),
                root.resolve("scripts/pyfunc_predict.py").toString(),
                "models:/nightshift-maintenance@champion",
                dir.resolve("in.csv").toString(),
                dir.resolve("out.csv").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("python.log").toFile());
    pb.environment().put("MLFLOW_TRACKING_URI", tracker.rest().trackingUri());
    Process p = pb.start();
    assertThat(p.waitFor(5, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(java.nio.file.Files.readString(dir.resolve("python.log"))).isZero();
    List<String> out = java.nio.file.Files.readAllLines(dir.resolve("out.csv"));
    assertThat(out.get(0)).isEqualTo("prediction");
    assertThat(out).hasSize(rows.size() + 1);
    for (int i = 0; i < rows.size(); i++) {
      assertThat(Double.parseDouble(out.get(i + 1))).isCloseTo(expected[i][0], org.assertj.core.api.Assertions.within(1e-6));
    }
  }

  @Test
  void firstModelIsPromotedAndAnIdenticalRetrainIsNot() {
    assertThat(outcome.promoted()).isTrue();
    assertThat(outcome.decision().reason()).isEqualTo("no champion yet");
    TrainingPipeline pipeline =
        new TrainingPipeline(SparkTestSession.get(), io.nightshift.training.TrainingFixturesAccess.warehouse(), tracker, registry);
    TrainingPipeline.Outcome again =
        pipeline.train(
            io.nightshift.training.TrainingFixturesAccess.quick(ModelSpecs.maintenance(), 25)
                .withEvaluation(
                    new Evaluation(2, 60, null, 0.5, 5000, 400,
                        new Evaluation.Search(2, "valid_pr_auc", Map.of("max_depth", List.of(3, 5)), Map.of(), 1))),
            io.nightshift.training.TrainingFixturesAccess.AS_OF,
            TrainingPipeline.Promotion.gated(),
            Map.of());
    assertThat(again.promoted()).isFalse();
    assertThat(again.decision().metric()).isEqualTo("logloss");
    // the champion trained on the earlier fold's window, so only the last window is compared: the same model twice
    assertThat(again.decision().windows()).singleElement().satisfies(w -> {
      assertThat(w.end()).isEqualTo(again.model().validationEnd());
      assertThat(w.challengerMetric()).isEqualTo(w.championMetric());
    });
    assertThat(again.decision().improvement()).isEqualTo(0.0);
    assertThat(again.decision().reason()).startsWith("on 1 of 2 backtest windows out of sample for both");
    assertThat(again.decision().championVersion()).isEqualTo(outcome.version().version());
    assertThat(registry.versionByAlias("nightshift-maintenance", "champion").version()).isEqualTo(outcome.version().version());
    assertThat(registry.versionByAlias("nightshift-maintenance", "challenger").version()).isEqualTo(again.version().version());
    JsonNode tags = tracker.rest().get("runs/get", Map.of("run_id", again.run().runId())).path("run").path("data").path("tags");
    List<String> keys = values(tags, "key");
    assertThat(tags.get(keys.indexOf("nightshift.blessing")).path("value").asText()).isEqualTo("REJECTED");
    JsonNode root = tracker.rest().get("artifacts/list", Map.of("run_id", again.run().runId()));
    assertThat(values(root.path("files"), "path")).contains("blessing.json");
  }

  @Test
  void unknownAliasOnRealServerNamesExistingAliases() {
    assertThatThrownBy(() -> registry.versionByAlias("nightshift-maintenance", "gold"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("nightshift-maintenance@gold")
        .hasMessageContaining("champion")
        .hasMessageContaining("challenger");
  }

  @Test
  void datasetInputsOfOneTableVersionKeepTheirOwnRowsAndColumns() {
    // two trainings read the same Delta version: another as-of date or another feature selection gives other rows
    // and columns, and MLflow keeps the first dataset it saw under a digest, so the digest must tell them apart
    String experiment = "nightshift-dataset-inputs-test";
    TrackedRun wide = tracker.startRun(experiment, "wide", Map.of());
    TrackedRun narrow = tracker.startRun(experiment, "narrow", Map.of());
    tracker.logDatasetInput(
        wide.runId(), new DatasetInput("demand_features", "/w/features/demand", 3, 1000, List.of("lag_7", "lag_14"), "training"));
    tracker.logDatasetInput(
        narrow.runId(), new DatasetInput("demand_features", "/w/features/demand", 3, 400, List.of("lag_7"), "training"));
    tracker.endRun(wide.runId(), true);
    tracker.endRun(narrow.runId(), true);

    JsonNode first = dataset(wide);
    JsonNode second = dataset(narrow);
    assertThat(first.path("profile").asText()).contains("1000");
    assertThat(first.path("schema").asText()).contains("lag_14");
    assertThat(second.path("profile").asText()).contains("400").doesNotContain("1000");
    assertThat(second.path("schema").asText()).contains("lag_7").doesNotContain("lag_14");
    assertThat(second.path("digest").asText()).isNotEqualTo(first.path("digest").asText());
    assertThat(second.path("source").asText()).isEqualTo(first.path("source").asText()); // the same table version
  }

  private static JsonNode dataset(TrackedRun run) {
    JsonNode inputs =
        tracker.rest().get("runs/get", Map.of("run_id", run.runId())).path("run").path("inputs").path("dataset_inputs");
    assertThat(inputs).hasSize(1);
    return inputs.get(0).path("dataset");
  }

  private static String tag(JsonNode run, String key) {
    for (JsonNode t : run.path("data").path("tags")) {
      if (key.equals(t.path("key").asText())) {
        return t.path("value").asText();
      }
    }
    return null;
  }

  private static List<String> values(JsonNode array, String field) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.path(field).asText()));
    return out;
  }
}
