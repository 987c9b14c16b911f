package io.nightshift.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.xxhash64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.testing.SparkTestSession;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class XGBoostTrainerTest {
  static SparkSession spark;
  static Warehouse warehouse;

  @BeforeAll
  static void setUp() {
    spark = SparkTestSession.get();
    warehouse = TrainingFixtures.warehouse();
  }

  private static Dataset<Row> table(UseCase u) {
    return spark.read().format("delta").load(warehouse.features(u));
  }

  @Test
  void demandModelBeatsSeasonalNaiveAndRecordsCurves() {
    ModelSpec spec = TrainingFixtures.quick(ModelSpecs.demand(), 60);
    TrainedModel m = XGBoostTrainer.train(spark, table(UseCase.DEMAND), spec, TrainingFixtures.AS_OF);
    assertThat(m.validationStart()).isEqualTo(TrainingFixtures.AS_OF.minusDays(27));
    assertThat(m.validationEnd()).isEqualTo(TrainingFixtures.AS_OF);
    assertThat(m.trainEnd()).isEqualTo(TrainingFixtures.AS_OF.minusDays(28));
    assertThat(m.validationRows()).isEqualTo(3L * 5 * 28);
    assertThat(m.trainCurve()).hasSize(60);
    assertThat(m.validationCurve()).hasSize(60);
    assertThat(m.validationCurve()[59]).isLessThan(m.validationCurve()[0]);
    assertThat(m.metrics().get("valid_wape")).isLessThan(m.metrics().get("baseline_wape_lag7"));
    assertThat(m.metrics().get("valid_rmse")).isGreaterThan(0.0);
    assertThat(m.residualStd()).isGreaterThan(0.0).isLessThanOrEqualTo(m.metrics().get("valid_rmse") + 1e-9);
    assertThat(m.importance()).isNotEmpty();
    assertThat(spec.view().features()).containsAll(m.importance().keySet());
    assertThat(m.booster()).isNotEmpty();
    // every validation row (420 < PLOT_ROWS) is in the predicted-vs-actual plot data
    assertThat(m.predictedVsActual().actual()).hasSize(420);
    assertThat(m.predictedVsActual().predicted()).hasSize(420);
    // the quantile calibration is ordered, and the cross-fitted P10-P90 interval covers a sensible share
    assertThat(m.metrics().get("valid_stdres_p10"))
        .isLessThan(m.metrics().get("valid_stdres_p50"))
        .isLessThan(m.metrics().get("valid_stdres_p90"));
    assertThat(m.metrics().get("valid_coverage_p10_p90")).isBetween(0.6, 0.95);
  }

  @Test
  void trainingIsDeterministic() {
    ModelSpec spec = TrainingFixtures.quick(ModelSpecs.demand(), 15);
    Map<String, Double> a = XGBoostTrainer.train(spark, table(UseCase.DEMAND), spec, TrainingFixtures.AS_OF).metrics();
    Map<String, Double> b = XGBoostTrainer.train(spark, table(UseCase.DEMAND), spec, TrainingFixtures.AS_OF).metrics();
    assertThat(b).isEqualTo(a);
  }

  /**
   * The same rows read from other files, in another order: XGBoost's workers would otherwise get other shares of them
   * (each sketches its own quantiles), so the model would depend on the table's file layout, not only on its rows.
   */
  @Test
  void theSameRowsInOtherFilesAndOrderGiveTheSameModel() {
    ModelSpec spec = TrainingFixtures.quick(ModelSpecs.demand(), 15);
    Dataset<Row> table = table(UseCase.DEMAND);
    String rewritten = SparkTestSession.tempDir("rewritten").resolve("demand").toString();
    table.orderBy(xxhash64(col("store"), col("item"), col("date"))).repartition(5).write().format("delta").save(rewritten);
    Dataset<Row> other = spark.read().format("delta").load(rewritten);
    List<Row> rows = table.collectAsList();
    assertThat(other.inputFiles()).hasSize(5).doesNotContainAnyElementsOf(Arrays.asList(table.inputFiles()));
    assertThat(other.collectAsList()).containsExactlyInAnyOrderElementsOf(rows).doesNotContainSequence(rows.subList(0, 3));

    TrainedModel a = XGBoostTrainer.train(spark, table, spec, TrainingFixtures.AS_OF);
    TrainedModel b = XGBoostTrainer.train(spark, other, spec, TrainingFixtures.AS_OF);
    assertThat(Arrays.equals(b.booster(), a.booster())).as("the two boosters are byte for byte the same").isTrue();
    assertThat(b.metrics()).isEqualTo(a.metrics());
    assertThat(b.validationCurve()).containsExactly(a.validationCurve());
  }

  @Test
  void failureModelSeparatesFailingMachines() {
    ModelSpec spec = TrainingFixtures.quick(ModelSpecs.maintenance(), 60);
    TrainedModel m = XGBoostTrainer.train(spark, table(UseCase.MAINTENANCE), spec, TrainingFixtures.AS_OF);
    // labels look 7 days ahead: validation ends 7 days before the as-of date and training stops 7 days earlier
    assertThat(m.validationEnd()).isEqualTo(TrainingFixtures.AS_OF.minusDays(7));
    assertThat(m.trainEnd()).isBefore(m.validationStart().minusDays(6));
    assertThat(m.metrics().get("valid_auc")).isGreaterThan(0.8);
    assertThat(m.metrics().get("valid_positive_rate")).isBetween(0.01, 0.4);
    assertThat(m.metrics()).containsKeys("valid_pr_auc", "valid_logloss", "valid_recall_at_0_5");
    // calibration table: at most one row per probability decile, outcome rates and mean probabilities in [0, 1]
    assertThat(m.predictedVsActual().actual().length).isBetween(2, 10);
    assertThat(java.util.Arrays.stream(m.predictedVsActual().actual()).allMatch(y -> y >= 0 && y <= 1)).isTrue();
    assertThat(java.util.Arrays.stream(m.predictedVsActual().predicted()).allMatch(p -> p >= 0 && p <= 1)).isTrue();
    assertThat(m.metrics()).doesNotContainKey("valid_stdres_p10");
  }

  @Test
  void asOfWithoutHistoryIsAnInputError() {
    ModelSpec spec = TrainingFixtures.quick(ModelSpecs.demand(), 5);
    assertThatThrownBy(
            () -> XGBoostTrainer.train(spark, table(UseCase.DEMAND), spec, java.time.LocalDate.of(2023, 2, 20)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--as-of")
        .hasMessageContaining("labeled history");
  }

  @Test
  void nativeParamNamesMapToSparkParams() {
    assertThat(XGBoostTrainer.toSparkParam("max_depth")).isEqualTo("maxDepth");
    assertThat(XGBoostTrainer.toSparkParam("tweedie_variance_power")).isEqualTo("tweedieVariancePower");
    assertThat(XGBoostTrainer.toSparkParam("eta")).isEqualTo("eta");
  }

  @Test
  void oneWorkerPerTaskSlotWithTaskCpusThreadsEach() {
    assertThat(XGBoostTrainer.workers(2, 1)).isEqualTo(2);
    assertThat(XGBoostTrainer.workers(2, 2)).isEqualTo(1); // local[2], spark.task.cpus=2: one 2-thread worker
    assertThat(XGBoostTrainer.workers(16, 4)).isEqualTo(4);
    assertThat(XGBoostTrainer.workers(64, 1)).isEqualTo(8);
    assertThat(XGBoostTrainer.workers(1, 4)).isEqualTo(1);
    assertThatThrownBy(() -> XGBoostTrainer.workers(2, 0))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("spark.task.cpus");
  }
}
