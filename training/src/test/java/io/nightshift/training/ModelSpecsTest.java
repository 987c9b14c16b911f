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
      assertThat(yamls).hasSizeGreaterThanOrEqualTo(2);
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
}
