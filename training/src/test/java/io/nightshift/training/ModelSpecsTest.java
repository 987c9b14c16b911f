package io.nightshift.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.maintenance.MachineFeatures;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ModelSpecsTest {
  @Test
  void shippedSpecsParseToTheDocumentedValues() {
    ModelSpec demand = ModelSpecs.demand();
    assertThat(demand.modelName()).isEqualTo("nightshift-demand");
    assertThat(demand.task()).isEqualTo(Task.REGRESSION);
    assertThat(demand.objective()).isEqualTo("reg:tweedie");
    assertThat(demand.boosterParams()).containsEntry("max_depth", 7).containsEntry("tweedie_variance_power", 1.3);
    assertThat(demand.numRound()).isEqualTo(200);
    assertThat(demand.validationDays()).isEqualTo(28);
    assertThat(demand.view().features()).isEqualTo(DemandFeatures.VIEW.features());
    ModelSpec maintenance = ModelSpecs.maintenance();
    assertThat(maintenance.task()).isEqualTo(Task.BINARY_CLASSIFICATION);
    assertThat(maintenance.purgeDays()).isEqualTo(7);
    assertThat(maintenance.view().labelColumn()).isEqualTo(MachineFeatures.VIEW.labelColumn());
    assertThat(demand.evaluation().backtestFolds()).isEqualTo(3);
    assertThat(demand.evaluation().backtestStepDays()).isEqualTo(28);
    assertThat(demand.evaluation().segmentBy()).isEqualTo("store");
    assertThat(demand.evaluation().search().metric()).isEqualTo("valid_wape");
    assertThat(demand.evaluation().search().choices()).containsEntry("max_depth", List.of(5, 7, 9));
    assertThat(demand.evaluation().search().ranges().get("eta")).containsExactly(0.04, 0.15);
    assertThat(maintenance.evaluation().alertThreshold()).isEqualTo(0.5);
    assertThat(maintenance.evaluation().costFalseNegative()).isEqualTo(5000.0);
    assertThat(maintenance.evaluation().search().maximize()).isTrue(); // valid_pr_auc
  }

  @Test
  void everySpecInConfIsValid() throws IOException {
    Path dir = LocalMlflowServer.projectRoot().resolve("conf/models");
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> yamls = files.filter(f -> f.toString().endsWith(".yaml")).toList();
      assertThat(yamls).extracting(f -> f.getFileName().toString())
          .containsExactlyInAnyOrder(
              "cmapss_rul.yaml", "demand.yaml", "maintenance.yaml", "sales_daily.yaml", "store_item_demand.yaml");
      for (Path f : yamls) {
        assertThat(ModelSpecs.load(f).numRound()).as(f.toString()).isPositive();
      }
    }
  }

  private static Path write(String yaml) throws IOException {
    Path f = SparkTestSession.tempDir("spec").resolve("spec.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private static final String VALID =
      "name: m\nuse_case: demand\ntask: regression\nbooster:\n  objective: reg:squarederror\nnum_round: 10\n"
          + "validation:\n  days: 14\n";

  @Test
  void anEvalMetricXgboost4jSparkRefusesIsAnInputErrorBeforeTraining() throws IOException {
    // XGBoost4J-Spark takes eval_metric only from its list of metric names: no "@" arguments (error@0.3,
    // tweedie-nloglik@1.3), which it would refuse only once the training had started its MLflow run
    for (String metric : List.of("tweedie-nloglik@1.3", "error@0.3", "rmsee")) {
      assertThatThrownBy(
              () -> ModelSpecs.load(write(VALID.replace("booster:\n", "booster:\n  eval_metric: " + metric + "\n"))))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("key booster.eval_metric")
          .hasMessageContaining("'" + metric + "' is not an evaluation metric XGBoost4J-Spark takes")
          .hasMessageContaining("leave booster.eval_metric out");
    }
    assertThat(
            ModelSpecs.load(write(VALID.replace("booster:\n", "booster:\n  eval_metric: mae\n"))).boosterParams())
        .containsEntry("eval_metric", "mae");
  }

  @Test
  void subsetsOfFeaturesNarrowTheViewAndItsDriftColumns() throws IOException {
    ModelSpec s = ModelSpecs.load(write(VALID + "features:\n  include: [lag_7, price, day_of_week]\n"));
    assertThat(s.view().features()).containsExactly("lag_7", "price", "day_of_week");
    assertThat(s.view().driftMonitored()).containsExactly("lag_7", "price");
    assertThat(s.purgeDays()).isZero();
    ModelSpec excluded = ModelSpecs.load(write(VALID + "features:\n  exclude: [store_id, item_id]\n"));
    assertThat(excluded.view().features()).hasSize(DemandFeatures.VIEW.features().size() - 2).doesNotContain("store_id");
  }

  @Test
  void badDefinitionsNameFileKeyAndFix() throws IOException {
    Path unknownKey = write(VALID + "rounds: 5\n");
    assertThatThrownBy(() -> ModelSpecs.load(unknownKey))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(unknownKey.toString())
        .hasMessageContaining("key rounds")
        .hasMessageContaining("is not a spec key");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "features:\n  include: [lag_99]\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("unknown feature 'lag_99'")
        .hasMessageContaining("features/demand_daily");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID.replace("reg:squarederror", "binary:logistic"))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key booster.objective")
        .hasMessageContaining("does not fit task regression");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID.replace("num_round: 10", "num_round: many"))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key num_round")
        .hasMessageContaining("whole number");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID.replace("use_case: demand", "use_case: churn"))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'churn' is not a use case");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "backtest:\n  folds: 2\n  segment_by: region\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key backtest.segment_by")
        .hasMessageContaining("'region' is not a key");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "alert:\n  threshold: 0.5\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("only applies to binary_classification");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "search:\n  trials: 2\n  space:\n    eta: {min: 0.3, max: 0.1}\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key search.space.eta")
        .hasMessageContaining("min <= max");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "search:\n  trials: 2\n  metric: wape\n  space:\n    max_depth: [3]\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("is not a validation metric");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "backtest:\n  folds: 2\n  steps: 3\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key backtest.steps");
    assertThatThrownBy(() -> ModelSpecs.load(write("name: [unclosed\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("fix the YAML syntax");
  }

  @Test
  void misspelledFeatureKeysAndBoosterParametersAreCaughtWhenTheSpecIsRead() throws IOException {
    // before any Spark work: a typo must not train on every feature, nor fail only once the MLflow run has started
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "features:\n  includes: [lag_7]\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key features.includes")
        .hasMessageContaining("use only [exclude, include]");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "features:\n  exclude: lag_7\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key features.exclude")
        .hasMessageContaining("is not a list");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID.replace("booster:\n", "booster:\n  max_dept: 7\n"))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key booster.max_dept")
        .hasMessageContaining("is not an XGBoost parameter");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "search:\n  trials: 2\n  space:\n    etta: [0.1, 0.2]\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key search.space.etta")
        .hasMessageContaining("is not an XGBoost parameter");
    // real parameters pass
    ModelSpec tuned = ModelSpecs.load(write(VALID.replace("booster:\n", "booster:\n  max_depth: 5\n  min_child_weight: 2\n")
        + "search:\n  trials: 2\n  space:\n    eta: [0.1, 0.2]\n    subsample: {min: 0.5, max: 1.0}\n"));
    assertThat(tuned.boosterParams()).containsEntry("max_depth", 5).containsEntry("min_child_weight", 2);
    String classifier = "name: m\nuse_case: maintenance\ntask: binary_classification\nbooster:\n  objective: binary:logistic\n"
        + "num_round: 10\nvalidation:\n  days: 14\n";
    assertThatThrownBy(() -> ModelSpecs.load(write(classifier + "alert:\n  threshold: high\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key alert.threshold")
        .hasMessageContaining("must be a number");
  }

  @Test
  void searchRangesOfWholeNumberParametersTakeWholeNumbers() throws IOException {
    ModelSpec s = ModelSpecs.load(write(VALID + "search:\n  trials: 5\n  space:\n    max_depth: {min: 3, max: 9}\n"
        + "    num_round: {min: 50.0, max: 200}\n    eta: {min: 0.05, max: 0.3}\n"));
    for (int t = 0; t < 5; t++) {
      assertThat(s.evaluation().search().sample(t).get("max_depth")).isInstanceOf(Integer.class);
      assertThat(s.evaluation().search().sample(t).get("num_round")).isInstanceOf(Integer.class);
    }
    // decimal bounds would silently narrow the range (or leave no whole number): the fix names whole bounds
    Map<String, String> fixes = Map.of("{min: 3.5, max: 9}", "{min: 4, max: 9}", "{min: 3, max: 8.5}", "{min: 3, max: 8}",
        "{min: 3.2, max: 3.8}", "{min: 3, max: 4}");
    fixes.forEach((range, fix) ->
        assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "search:\n  trials: 2\n  space:\n    max_depth: " + range
                + "\n")))
            .isInstanceOf(InvalidInputException.class)
            .hasMessageContaining("key search.space.max_depth")
            .hasMessageContaining("takes whole numbers")
            .hasMessageContaining("e.g. max_depth: " + fix));
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "search:\n  trials: 2\n  space:\n    max_bin: {min: 64.5, max: 255}\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key search.space.max_bin");
    assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "search:\n  trials: 2\n  space:\n    max_depth: [4, 6.5]\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key search.space.max_depth")
        .hasMessageContaining("list whole numbers");
    // decimal parameters keep decimal ranges
    assertThat(ModelSpecs.load(write(VALID + "search:\n  trials: 2\n  space:\n    min_child_weight: {min: 0.5, max: 7.5}\n"))
            .evaluation().search().ranges().get("min_child_weight"))
        .containsExactly(0.5, 7.5);
  }

  @Test
  void aSearchedNumRoundIsTheOneTheRunLogs() throws IOException {
    // the fix for early stopping is to search num_round: a trial (and the refit winner) trains its sampled rounds,
    // which XGBoostTrainer sets over the spec's num_round, so that is the num_round its MLflow run must log
    ModelSpec s = ModelSpecs.load(write(VALID + "search:\n  trials: 2\n  space:\n    num_round: {min: 50, max: 60}\n"));
    Map<String, Object> trial = new java.util.HashMap<>(s.boosterParams());
    trial.putAll(s.evaluation().search().sample(0));
    Object rounds = trial.get("num_round");
    assertThat(s.withBoosterParams(trial).asParams()).containsEntry("num_round", String.valueOf(rounds));
    assertThat(s.withBoosterParams(trial).numRound()).isEqualTo(rounds).isNotEqualTo(10);
    assertThat(s.asParams()).containsEntry("num_round", "10");
  }

  @Test
  void earlyStoppingIsRefusedBecauseItWouldPickTheTreesOnTheEvaluationWindow() throws IOException {
    for (String name : List.of("num_early_stopping_rounds", "early_stopping_rounds", "numEarlyStoppingRounds")) {
      assertThatThrownBy(() -> ModelSpecs.load(write(VALID.replace("booster:\n", "booster:\n  " + name + ": 20\n"))))
          .as(name)
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("key booster." + name)
          .hasMessageContaining("validation window")
          .hasMessageContaining("set num_round");
      assertThatThrownBy(() -> ModelSpecs.load(write(VALID + "search:\n  trials: 2\n  space:\n    " + name + ": [10, 20]\n")))
          .as(name)
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("key search.space." + name)
          .hasMessageContaining("validation window")
          .hasMessageContaining("search.space.num_round");
    }
  }

  @Test
  void specsTrainOnDeclaredFeatureViews() throws IOException {
    Path conf = LocalMlflowServer.projectRoot().resolve("conf/models");
    ModelSpec rul = ModelSpecs.load(conf.resolve("cmapss_rul.yaml"));
    assertThat(rul.task()).isEqualTo(Task.RUL_REGRESSION);
    assertThat(rul.view().name()).isEqualTo("cmapss_fd001");
    assertThat(rul.view().table()).isEqualTo("features/cmapss_fd001");
    assertThat(rul.view().datedEvents()).isFalse();
    assertThat(rul.view().keys()).containsExactly("unit");
    assertThat(rul.view().dateColumn()).isEqualTo("cycle");
    assertThat(rul.view().labelColumn()).isEqualTo("rul");
    assertThat(rul.view().features()).contains("cycles_run", "s11_std_30", "s11_lag_5").doesNotContain("rul", "unit");
    assertThat(rul.view().expectations()).contains(new io.nightshift.featurestore.quality.Expectation.Range("rul", 0.0, 125.0));
    assertThat(rul.entitySplit()).isEqualTo(new ModelSpec.EntitySplit("unit", 0.2));
    assertThat(rul.validationScheme()).isEqualTo("entities held out by unit: hash(unit, seed 42) in the first 0.2 of its range");
    assertThat(rul.evaluation().search().metric()).isEqualTo("valid_rmse");
    assertThat(rul.asParams()).containsEntry("validation_split_by", "unit").doesNotContainKey("validation_days");

    ModelSpec sid = ModelSpecs.load(conf.resolve("store_item_demand.yaml"));
    assertThat(sid.view().name()).isEqualTo("store_item_demand");
    assertThat(sid.view().datedEvents()).isTrue();
    assertThat(sid.view().features()).contains("sales_lag_1", "sales_mean_28", "day_of_week");
    assertThat(sid.view().driftMonitored()).contains("sales_lag_1").doesNotContain("day_of_week", "year");
    assertThat(sid.entitySplit()).isNull();
    assertThat(sid.validationDays()).isEqualTo(28);

    // a name resolves from the jar too (the shipped views travel in it), and a path relative to the spec file
    Path elsewhere = write(VALID.replace("validation:\n  days: 14\n", "validation:\n  split_by: unit\n  fraction: 0.25\n")
        .replace("use_case: demand\ntask: regression", "use_case: maintenance\ntask: rul_regression\nfeature_view: cmapss_fd001"));
    assertThat(ModelSpecs.load(elsewhere).view().name()).isEqualTo("cmapss_fd001");
    Path byPath = write(VALID.replace("task: regression", "task: regression\nfeature_view: "
        + LocalMlflowServer.projectRoot().resolve("conf/features/store_item_demand.yaml")));
    assertThat(ModelSpecs.load(byPath).view().table()).isEqualTo("features/store_item_demand");
  }

  @Test
  void badDeclaredViewSpecsNameKeyAndFix() throws IOException {
    String rul = "name: r\nuse_case: maintenance\ntask: rul_regression\nfeature_view: cmapss_fd001\nbooster:\n"
        + "  objective: reg:squarederror\nnum_round: 10\n";
    assertThatThrownBy(() -> ModelSpecs.load(write(rul + "validation:\n  days: 14\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key validation.days")
        .hasMessageContaining("counts cycle in integer steps")
        .hasMessageContaining("split_by: unit");
    assertThatThrownBy(() -> ModelSpecs.load(write(rul + "validation:\n  split_by: engine\n  fraction: 0.2\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key validation.split_by")
        .hasMessageContaining("'engine' is not an entity key of cmapss_fd001");
    assertThatThrownBy(() -> ModelSpecs.load(write(rul + "validation:\n  split_by: unit\n  fraction: 1.5\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key validation.fraction");
    assertThatThrownBy(() -> ModelSpecs.load(write(rul + "validation:\n  split_by: unit\n  fraction: 0.2\n"
            + "backtest:\n  folds: 3\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key backtest.folds");
    assertThatThrownBy(() -> ModelSpecs.load(write(rul.replace("reg:squarederror", "binary:logistic")
            + "validation:\n  split_by: unit\n  fraction: 0.2\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("does not fit task rul_regression");
    assertThatThrownBy(() -> ModelSpecs.load(write(rul.replace("cmapss_fd001", "no_such_view")
            + "validation:\n  split_by: unit\n  fraction: 0.2\n")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("key feature_view")
        .hasMessageContaining("no_such_view")
        .hasMessageContaining("conf/features");
  }
}
