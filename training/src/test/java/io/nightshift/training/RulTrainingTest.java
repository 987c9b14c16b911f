package io.nightshift.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.UseCase;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import io.nightshift.testing.SparkTestSession;
import io.nightshift.training.model.LoadedModel;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.tracking.ModelVersion;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Remaining-useful-life regression on a view with integer event time (cycles), validated on held-out engines:
 * generated run-to-failure engines whose sensor drifts as wear accumulates.
 */
class RulTrainingTest {
  static final LocalDate AS_OF = LocalDate.of(2024, 1, 1);
  static SparkSession spark;
  static Dataset<Row> engines;
  static final FeatureView VIEW =
      new FeatureView("engines", UseCase.MAINTENANCE, List.of("unit"), "cycle", "rul", List.of("cycles_run", "wear"),
          List.of("wear"), "features/engines", TimeType.INTEGER, List.of());

  @BeforeAll
  static void engines() {
    spark = SparkTestSession.get();
    // 60 engines living 80..199 cycles; wear = (cycle / life)^2 + noise, so the sensor tells the remaining life
    engines =
        spark.sql(
                "SELECT unit, cycle, CAST(cycle AS DOUBLE) AS cycles_run,"
                    + " pow(cycle / life, 2) + 0.02 * (rand(7) - 0.5) AS wear,"
                    + " CAST(least(life - cycle, 125) AS DOUBLE) AS rul"
                    + " FROM (SELECT CAST(id AS INT) AS unit, CAST(80 + (id * 37) % 120 AS INT) AS life FROM range(1, 61))"
                    + " LATERAL VIEW explode(sequence(1, life)) c AS cycle")
            .cache();
  }

  static ModelSpec spec(double fraction, long seed) {
    return new ModelSpec("engines-rul", Task.RUL_REGRESSION, VIEW,
        Map.of("objective", "reg:squarederror", "eval_metric", "rmse", "eta", 0.2, "max_depth", 4), 40, 1, 0, seed,
        Evaluation.DEFAULT, new ModelSpec.EntitySplit("unit", fraction));
  }

  static Set<Integer> units(Dataset<Row> rows) {
    Set<Integer> out = new TreeSet<>();
    rows.select("unit").distinct().collectAsList().forEach(r -> out.add(r.getInt(0)));
    return out;
  }

  @Test
  void holdsOutWholeEnginesAndLearnsTheRemainingLife() {
    ModelSpec spec = spec(0.25, 42);
    TrainedModel m = XGBoostTrainer.train(spark, engines, spec, AS_OF);

    Dataset<Row> held = engines.where(XGBoostTrainer.heldOut(spec));
    Set<Integer> validation = units(held);
    Set<Integer> training = units(engines.where(org.apache.spark.sql.functions.not(XGBoostTrainer.heldOut(spec))));
    assertThat(validation).isNotEmpty().doesNotContainAnyElementsOf(training);
    assertThat(validation.size()).isBetween(8, 24); // a quarter of 60 engines, by hash
    assertThat(m.validationRows()).isEqualTo(held.count());
    assertThat(m.trainRows() + m.validationRows()).isEqualTo(engines.count());
    assertThat(m.trainStart()).isNull(); // cycles carry no dates

    double labelStd = held.agg(org.apache.spark.sql.functions.stddev_pop("rul")).head().getDouble(0);
    assertThat(m.metrics()).containsKeys("valid_rmse", "valid_mae", "valid_bias", "valid_phm08_score", "valid_late_share");
    assertThat(m.metrics().get("valid_rmse")).isLessThan(0.35 * labelStd); // far better than predicting the mean
    assertThat(m.metrics()).doesNotContainKey("valid_wape");
    // the same key, fraction and seed hold out the same engines; another seed others
    assertThat(units(engines.where(XGBoostTrainer.heldOut(spec(0.25, 42))))).isEqualTo(validation);
    assertThat(units(engines.where(XGBoostTrainer.heldOut(spec(0.25, 7))))).isNotEqualTo(validation);
  }

  @Test
  void rulMetricsPunishLatePredictionsHarder() {
    // errors (prediction - actual): -13 (early), +10 (late), 0
    Dataset<Row> scored = spark.sql(
        "SELECT * FROM VALUES (50D, 37D), (20D, 30D), (5D, 5D) AS t(rul, " + XGBoostTrainer.SCORE + ")");
    Map<String, Double> m = XGBoostTrainer.rulMetrics(scored, "rul");
    assertThat(m.get("valid_rmse")).isCloseTo(Math.sqrt((169 + 100) / 3.0), within(1e-9));
    assertThat(m.get("valid_mae")).isCloseTo(23 / 3.0, within(1e-9));
    assertThat(m.get("valid_bias")).isCloseTo(-1.0, within(1e-9));
    assertThat(m.get("valid_phm08_score")).isCloseTo(((Math.E - 1) + (Math.E - 1) + 0) / 3.0, within(1e-9));
    assertThat(m.get("valid_late_share")).isCloseTo(1 / 3.0, within(1e-12));
  }

  @Test
  void promotionGateComparesOnTheSameHeldOutEnginesOnly() {
    // a third of the engines: the gate needs PromotionGate.MIN_BLOCKS of them (a quarter holds out 9 with seed 42)
    ModelSpec spec = spec(0.35, 42);
    TrainedModel challenger = XGBoostTrainer.train(spark, engines, spec, AS_OF);
    TrainedModel weaker = XGBoostTrainer.train(spark, engines,
        new ModelSpec(spec.modelName(), spec.task(), VIEW, spec.boosterParams(), 3, 1, 0, 42, Evaluation.DEFAULT,
            spec.entitySplit()), AS_OF);

    PromotionGate.Decision same = PromotionGate.evaluate(engines, spec, PromotionGate.windows(challenger, null),
        champion(weaker, spec.validationScheme()), 0.0, 42);
    assertThat(same.metric()).isEqualTo("mae");
    assertThat(same.blocks()).isEqualTo(units(engines.where(XGBoostTrainer.heldOut(spec))).size())
        .isGreaterThanOrEqualTo(PromotionGate.MIN_BLOCKS);
    assertThat(same.rows()).isEqualTo(challenger.validationRows());
    assertThat(same.challengerMetric()).isCloseTo(challenger.metrics().get("valid_mae"), within(1e-3));
    assertThat(same.promote()).as(same.reason()).isTrue(); // 40 rounds beat 3 on every engine
    // the same models and rows give the same interval however the shuffle spreads the engines (another cluster's
    // spark.sql.shuffle.partitions, or remote blocks arriving in another order): the bootstrap picks blocks by position
    String partitions = spark.conf().get("spark.sql.shuffle.partitions");
    PromotionGate.Decision again;
    try {
      spark.conf().set("spark.sql.shuffle.partitions", "7");
      again = PromotionGate.evaluate(engines, spec, PromotionGate.windows(challenger, null),
          champion(weaker, spec.validationScheme()), 0.0, 42);
    } finally {
      spark.conf().set("spark.sql.shuffle.partitions", partitions);
    }
    assertThat(again.blocks()).isEqualTo(same.blocks());
    assertThat(again.ciLow()).isCloseTo(same.ciLow(), within(1e-9)); // sums within a block may round differently
    assertThat(again.ciHigh()).isCloseTo(same.ciHigh(), within(1e-9));

    // a champion that needs a feature the table no longer has could not score any night: the challenger replaces it
    List<String> retired = new java.util.ArrayList<>(VIEW.features());
    retired.add("retired_sensor");
    LoadedModel stale = champion(weaker, spec.validationScheme());
    ModelMetadata m = stale.metadata();
    LoadedModel unscorable = new LoadedModel(stale.version(),
        new ModelMetadata(m.modelName(), m.useCase(), m.task(), m.featureView(), m.keys(), m.dateColumn(),
            m.labelColumn(), retired, m.asOf(), m.featureTablePath(), m.featureTableVersion(), m.trainStart(), m.trainEnd(),
            m.validationStart(), m.validationEnd(), m.residualStd(), m.metrics(), m.baseline(), m.validationSplit()),
        stale.booster());
    PromotionGate.Decision replaced =
        PromotionGate.evaluate(engines, spec, PromotionGate.windows(challenger, null), unscorable, 0.0, 42);
    assertThat(replaced.promote()).isTrue();
    assertThat(replaced.reason()).isEqualTo(
        "champion v1 cannot score the current feature table (missing [retired_sensor])");

    PromotionGate.Decision other = PromotionGate.evaluate(engines, spec, PromotionGate.windows(challenger, null),
        champion(weaker, spec(0.25, 42).validationScheme()), 0.0, 42);
    assertThat(other.promote()).isFalse();
    assertThat(other.reason()).contains("was validated on entities held out by unit").contains("0.25")
        .contains("no held-out set is out of sample for both");
  }

  private static LoadedModel champion(TrainedModel m, String split) {
    ModelMetadata meta = new ModelMetadata("engines-rul", "maintenance", "RUL_REGRESSION", "engines", List.of("unit"),
        "cycle", "rul", VIEW.features(), AS_OF.toString(), "features/engines", 0, null, null, null, null,
        m.residualStd(), m.metrics(), Map.of(), split);
    return new LoadedModel(new ModelVersion("engines-rul", "1", "run", "runs:/run/model", Map.of(), List.of()), meta, m.booster());
  }
}
