package io.nightshift.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.testing.SparkTestSession;
import io.nightshift.training.tracking.TrackedRun;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BacktestAndSearchTest {
  static SparkSession spark;
  static Warehouse warehouse;
  static final LocalDate AS_OF = TrainingFixtures.AS_OF;

  @BeforeAll
  static void setUp() {
    spark = SparkTestSession.get();
    warehouse = TrainingFixtures.warehouse();
  }

  static Dataset<Row> demand() {
    return spark.read().format("delta").load(warehouse.features(UseCase.DEMAND));
  }

  static ModelSpec demandSpec(int folds) {
    return TrainingFixtures.quick(ModelSpecs.demand(), 15)
        .withEvaluation(new Evaluation(folds, 28, "store", 0.5, 1, 1, null));
  }

  @Test
  void cutoffsStepBackFromTheAsOfDate() {
    assertThat(Backtest.cutoffs(demandSpec(3), AS_OF))
        .containsExactly(AS_OF.minusDays(56), AS_OF.minusDays(28), AS_OF);
    assertThat(Backtest.cutoffs(demandSpec(1), AS_OF)).containsExactly(AS_OF);
  }

  @Test
  void foldsValidateOnConsecutiveWindowsWithSegmentsAndSeeNoDataAfterTheirCutoff() {
    ModelSpec spec = demandSpec(3);
    TrainedModel last = XGBoostTrainer.train(spark, demand(), spec, AS_OF);
    Backtest.Result r = Backtest.run(spark, demand(), spec, AS_OF, last);

    assertThat(r.folds()).hasSize(3);
    for (int i = 0; i < 3; i++) {
      Backtest.Fold f = r.folds().get(i);
      assertThat(f.validationEnd()).isEqualTo(f.cutoff());
      assertThat(f.validationStart()).isEqualTo(f.cutoff().minusDays(27));
      assertThat(f.trainEnd()).isBefore(f.validationStart());
      assertThat(f.validationRows()).isEqualTo(3L * 5 * 28); // 3 stores x 5 items x 28 days
      // per-store metrics cover the fold's validation rows exactly
      assertThat(f.segments()).extracting(SegmentMetrics::segment).containsExactly("1", "2", "3");
      assertThat(f.segments().stream().mapToLong(SegmentMetrics::rows).sum()).isEqualTo(f.validationRows());
    }
    assertThat(r.folds().get(2).metrics()).isSameAs(last.metrics()); // the as-of fold is the trained model
    assertThat(r.summary().get("backtest_valid_wape_mean"))
        .isCloseTo(r.folds().stream().mapToDouble(f -> f.metrics().get("valid_wape")).average().orElseThrow(), within(1e-12));
    assertThat(r.histories().get("backtest_valid_wape")).hasSize(3);
    assertThat(r.csv().lines()).hasSize(4).first().asString().startsWith("fold,cutoff,train_end");
    assertThat(r.segmentsCsv().lines()).hasSize(1 + 3 * 3);

    // leakage: wreck every label and feature after the first cutoff; fold 0 must not change at all
    LocalDate c0 = r.folds().get(0).cutoff();
    Dataset<Row> wrecked =
        demand()
            .withColumn("sales", when(col("date").gt(lit(Date.valueOf(c0))), lit(1_000_000)).otherwise(col("sales")))
            .withColumn("lag_7", when(col("date").gt(lit(Date.valueOf(c0))), lit(-5.0)).otherwise(col("lag_7")));
    Backtest.Result again = Backtest.run(spark, wrecked, spec.withBacktestFolds(3), AS_OF, null);
    assertThat(again.folds().get(0).metrics()).isEqualTo(r.folds().get(0).metrics());
    assertThat(again.folds().get(2).metrics().get("valid_wape")).isNotEqualTo(r.folds().get(2).metrics().get("valid_wape"));
  }

  @Test
  void promotionGateJudgesEveryBacktestWindowThatIsOutOfSampleForTheChampion() {
    // folds two weeks apart validating on 28 days each: AS_OF-55..-28, AS_OF-41..-14 and AS_OF-27..AS_OF
    ModelSpec spec = TrainingFixtures.quick(ModelSpecs.demand(), 15)
        .withEvaluation(new Evaluation(3, 14, "store", 0.5, 1, 1, null));
    TrainedModel last = XGBoostTrainer.train(spark, demand(), spec, AS_OF);
    Backtest.Result backtest = Backtest.run(spark, demand(), spec, AS_OF, last);
    assertThat(backtest.folds()).extracting(Backtest.Fold::validationStart)
        .containsExactly(AS_OF.minusDays(55), AS_OF.minusDays(41), AS_OF.minusDays(27));
    // a weak champion trained six weeks earlier: its training data ends before every window
    ModelSpec weak = TrainingFixtures.quick(ModelSpecs.demand(), 2);
    TrainedModel old = XGBoostTrainer.train(spark, demand(), weak, AS_OF.minusDays(42));
    assertThat(old.trainEnd().plusDays(spec.purgeDays() + 1L)).isBefore(AS_OF.minusDays(55));

    PromotionGate.Decision d =
        PromotionGate.evaluate(demand(), spec, PromotionGate.windows(last, backtest), champion(old), 0.0, 42);

    // each day once, in the newest fold covering it
    assertThat(d.windows()).extracting(PromotionGate.WindowResult::start)
        .containsExactly(AS_OF.minusDays(55), AS_OF.minusDays(41), AS_OF.minusDays(27));
    assertThat(d.windows()).extracting(PromotionGate.WindowResult::end)
        .containsExactly(AS_OF.minusDays(42), AS_OF.minusDays(28), AS_OF);
    assertThat(d.windows()).extracting(PromotionGate.WindowResult::rows) // 15 store-items, every day labeled
        .containsExactly(15L * 14, 15L * 14, 15L * 28);
    assertThat(d.rows()).isEqualTo(15L * 56);
    assertThat(d.windowStart()).isEqualTo(AS_OF.minusDays(55));
    assertThat(d.windowEnd()).isEqualTo(AS_OF);
    assertThat(d.blocks()).isEqualTo(15); // an entity's rows in every window move together
    // each window is scored by its own fold's model: the last by the final one, on the same rows as its validation
    assertThat(d.windows().get(2).challengerMetric())
        .isCloseTo(backtest.folds().get(2).metrics().get("valid_wape"), within(1e-4));
    PromotionGate.Decision finalOnly = PromotionGate.evaluate(demand(), spec,
        List.of(new PromotionGate.Window(AS_OF.minusDays(55), AS_OF.minusDays(42), last.booster())), champion(old), 0.0,
        42);
    assertThat(finalOnly.challengerMetric()).isNotCloseTo(d.windows().get(0).challengerMetric(), within(1e-6));
    assertThat(finalOnly.championMetric()).isCloseTo(d.windows().get(0).championMetric(), within(1e-9));
    // the pooled metric is a weighted mean of the windows'
    double[] ch = d.windows().stream().mapToDouble(PromotionGate.WindowResult::challengerMetric).toArray();
    assertThat(d.challengerMetric()).isBetween(java.util.Arrays.stream(ch).min().orElseThrow(),
        java.util.Arrays.stream(ch).max().orElseThrow());
    assertThat(d.promote()).as(d.reason()).isTrue(); // 15 rounds beat 2 everywhere
    assertThat(d.reason()).startsWith(
        "on 3 of 3 backtest windows out of sample for both (" + AS_OF.minusDays(55) + ".." + AS_OF + "), wape:");
    assertThat((List<?>) d.asRecord().get("windows")).hasSize(3);

    // a champion trained three weeks before AS_OF had data the first fold's model lacked: that fold is left out
    TrainedModel recent = XGBoostTrainer.train(spark, demand(), weak, AS_OF.minusDays(20));
    PromotionGate.Decision later =
        PromotionGate.evaluate(demand(), spec, PromotionGate.windows(last, backtest), champion(recent), 0.0, 42);
    assertThat(later.windows()).extracting(PromotionGate.WindowResult::start)
        .containsExactly(AS_OF.minusDays(41), AS_OF.minusDays(27));
    assertThat(later.reason()).startsWith("on 2 of 3 backtest windows out of sample for both (" + AS_OF.minusDays(41));

    // a champion trained as of the same date trained on the first two windows: only the last is compared
    PromotionGate.Decision same =
        PromotionGate.evaluate(demand(), spec, PromotionGate.windows(last, backtest), champion(last), 0.0, 42);
    assertThat(same.windows()).singleElement().satisfies(w -> {
      assertThat(w.start()).isEqualTo(last.trainEnd().plusDays(spec.purgeDays() + 1L));
      assertThat(w.challengerMetric()).isEqualTo(w.championMetric());
    });
    assertThat(same.promote()).isFalse(); // identical models: no improvement clears a margin of 0

    // a champion validated on held-out entities may have trained on any day: no window is known to be out of sample
    io.nightshift.training.model.LoadedModel c = champion(old);
    io.nightshift.training.model.ModelMetadata m = c.metadata();
    io.nightshift.training.model.LoadedModel split = new io.nightshift.training.model.LoadedModel(c.version(),
        new io.nightshift.training.model.ModelMetadata(m.modelName(), m.useCase(), m.task(), m.featureView(), m.keys(),
            m.dateColumn(), m.labelColumn(), m.features(), m.asOf(), m.featureTablePath(), m.featureTableVersion(),
            null, null, null, null, m.residualStd(), m.metrics(), m.baseline(), "entities held out by item"),
        c.booster());
    PromotionGate.Decision refused =
        PromotionGate.evaluate(demand(), spec, PromotionGate.windows(last, backtest), split, 0.0, 42);
    assertThat(refused.promote()).isFalse();
    assertThat(refused.reason()).contains("was validated on entities held out by item, not on a time window")
        .contains("--force-promote");
  }

  private static io.nightshift.training.model.LoadedModel champion(TrainedModel m) {
    io.nightshift.featurestore.FeatureView v = ModelSpecs.demand().view();
    io.nightshift.training.model.ModelMetadata meta =
        new io.nightshift.training.model.ModelMetadata("demand", "demand", "REGRESSION", v.name(), v.keys(),
            v.dateColumn(), v.labelColumn(), v.features(), AS_OF.toString(), "features/demand", 0,
            m.trainStart().toString(), m.trainEnd().toString(), m.validationStart().toString(),
            m.validationEnd().toString(), m.residualStd(), m.metrics(), Map.of(), null);
    return new io.nightshift.training.model.LoadedModel(
        new io.nightshift.training.tracking.ModelVersion("demand", "1", "run", "runs:/run/model", Map.of(), List.of()),
        meta, m.booster());
  }

  @Test
  void searchRunsSeededTrialsAsChildRunsAndKeepsTheBest() {
    Evaluation.Search search =
        new Evaluation.Search(3, "valid_wape", Map.of("max_depth", List.of(2, 4, 6)), Map.of("eta", new double[] {0.05, 0.3}), 7);
    assertThat(search.sample(1)).isEqualTo(search.sample(1)); // repeatable
    assertThat(search.maximize()).isFalse();
    ModelSpec spec =
        TrainingFixtures.quick(ModelSpecs.demand(), 10).withEvaluation(new Evaluation(1, 28, null, 0.5, 1, 1, search));
    RecordingTracker tracker = new RecordingTracker();
    TrackedRun parent = tracker.startRun("e", "parent", Map.of());

    HyperparameterSearch.Result r = HyperparameterSearch.run(spark, demand(), spec, AS_OF, tracker, "e", parent, "parent");

    assertThat(r.trials()).hasSize(3);
    assertThat(tracker.runs).hasSize(4);
    for (HyperparameterSearch.Trial t : r.trials()) {
      RecordingTracker.Run child = tracker.run(t.runId());
      assertThat(child.tags).containsEntry("mlflow.parentRunId", parent.runId());
      assertThat(child.succeeded).isTrue();
      assertThat(child.params).containsEntry("max_depth", String.valueOf(t.params().get("max_depth")));
      assertThat(child.metrics.get("valid_wape")).isEqualTo(t.score());
      assertThat((double) t.params().get("eta")).isBetween(0.05, 0.3);
    }
    double min = r.trials().stream().mapToDouble(HyperparameterSearch.Trial::score).min().orElseThrow();
    assertThat(r.best().score()).isEqualTo(min);
    assertThat(r.csv().lines()).hasSize(4);

    // trials validate on the 28 days before the final validation window, which the promotion gate judges on
    LocalDate selectionEnd = AS_OF.minusDays(28);
    assertThat(r.selection()).isEqualTo("the 28 days up to " + selectionEnd + ", before the final validation window");
    for (HyperparameterSearch.Trial t : r.trials()) {
      assertThat(t.model().validationEnd()).isEqualTo(selectionEnd);
      assertThat(t.model().validationStart()).isEqualTo(selectionEnd.minusDays(27));
    }
    // so wrecking every label and feature of the final validation window changes no trial and not the winner
    Dataset<Row> wrecked =
        demand()
            .withColumn("sales", when(col("date").gt(lit(Date.valueOf(selectionEnd))), lit(1_000_000)).otherwise(col("sales")))
            .withColumn("lag_7", when(col("date").gt(lit(Date.valueOf(selectionEnd))), lit(-5.0)).otherwise(col("lag_7")));
    HyperparameterSearch.Result again =
        HyperparameterSearch.run(spark, wrecked, spec, AS_OF, new RecordingTracker(), "e", parent, "parent");
    assertThat(again.trials()).extracting(HyperparameterSearch.Trial::score)
        .containsExactlyElementsOf(r.trials().stream().map(HyperparameterSearch.Trial::score).toList());
    assertThat(again.best().index()).isEqualTo(r.best().index());
  }

  @Test
  void withAnEntitySplitSearchTrialsValidateOnEntitiesTheFinalValidationDoesNotHoldOut() {
    Evaluation.Search search = new Evaluation.Search(2, "valid_wape", Map.of("max_depth", List.of(2, 4)), Map.of(), 7);
    ModelSpec base = TrainingFixtures.quick(ModelSpecs.demand(), 10);
    ModelSpec spec =
        new ModelSpec(base.modelName(), base.task(), base.view(), base.boosterParams(), base.numRound(),
            base.validationDays(), base.purgeDays(), base.seed(), new Evaluation(1, 28, "item", 0.5, 1, 1, search),
            new ModelSpec.EntitySplit("item", 0.5));
    RecordingTracker tracker = new RecordingTracker();
    TrackedRun parent = tracker.startRun("e", "parent", Map.of());

    HyperparameterSearch.Result r = HyperparameterSearch.run(spark, demand(), spec, AS_OF, tracker, "e", parent, "parent");

    List<String> finalItems =
        XGBoostTrainer.train(spark, demand(), spec.withoutSearch(), AS_OF).segmentMetrics().stream()
            .map(SegmentMetrics::segment).toList();
    assertThat(finalItems).isNotEmpty();
    assertThat(r.selection()).contains("seed " + (spec.seed() + 1))
        .endsWith("among the entities the final validation does not hold out");
    for (HyperparameterSearch.Trial t : r.trials()) {
      List<String> trialItems = t.model().segmentMetrics().stream().map(SegmentMetrics::segment).toList();
      assertThat(trialItems).isNotEmpty().doesNotContainAnyElementsOf(finalItems);
    }
  }

  @Test
  void expectedCostAndAlertMetricsUseTheSpecsThresholdAndCosts() {
    StructType schema = new StructType().add("y", "int").add(XGBoostTrainer.SCORE, "double");
    List<Row> rows =
        List.of(
            RowFactory.create(1, 0.9), RowFactory.create(1, 0.6), RowFactory.create(1, 0.2), // 2 caught at 0.5, 1 missed
            RowFactory.create(0, 0.7), RowFactory.create(0, 0.3), RowFactory.create(0, 0.1)); // 1 needless alert
    Dataset<Row> scored = spark.createDataFrame(rows, schema);
    Map<String, Double> at05 = XGBoostTrainer.classificationMetrics(scored, "y", new Evaluation(1, 28, null, 0.5, 100, 10, null));
    assertThat(at05.get("valid_precision_at_alert")).isCloseTo(2.0 / 3, within(1e-12));
    assertThat(at05.get("valid_recall_at_alert")).isCloseTo(2.0 / 3, within(1e-12));
    assertThat(at05.get("valid_expected_cost")).isCloseTo((100 * 1 + 10 * 1) / 6.0, within(1e-12));
    // a lower threshold catches the third failure at the price of two more visits
    Map<String, Double> at015 = XGBoostTrainer.classificationMetrics(scored, "y", new Evaluation(1, 28, null, 0.15, 100, 10, null));
    assertThat(at015.get("valid_recall_at_alert")).isEqualTo(1.0);
    assertThat(at015.get("valid_expected_cost")).isCloseTo((10 * 2) / 6.0, within(1e-12));
  }

  @Test
  void metricsThatNeedBothClassesAreUndefinedWithoutThem() {
    // a quiet window with no failure: recall and the curves are undefined, not the worst possible score (a search
    // would otherwise pick among trials that all scored 0, and a run would report AUC 0)
    StructType schema = new StructType().add("y", "int").add(XGBoostTrainer.SCORE, "double");
    Dataset<Row> quiet =
        spark.createDataFrame(List.of(RowFactory.create(0, 0.7), RowFactory.create(0, 0.3), RowFactory.create(0, 0.1)), schema);
    Map<String, Double> m = XGBoostTrainer.classificationMetrics(quiet, "y", new Evaluation(1, 28, null, 0.5, 100, 10, null));
    assertThat(m.get("valid_auc")).isNaN();
    assertThat(m.get("valid_pr_auc")).isNaN();
    assertThat(m.get("valid_recall_at_0_5")).isNaN();
    assertThat(m.get("valid_recall_at_alert")).isNaN();
    assertThat(m.get("valid_precision_at_0_5")).isEqualTo(0.0); // one alert, needless
    assertThat(m.get("valid_expected_cost")).isCloseTo(10 / 3.0, within(1e-12));
    assertThat(m.get("valid_positive_rate")).isEqualTo(0.0);
    // nothing flagged: precision is undefined too
    Dataset<Row> calm =
        spark.createDataFrame(List.of(RowFactory.create(1, 0.2), RowFactory.create(0, 0.1)), schema);
    Map<String, Double> c = XGBoostTrainer.classificationMetrics(calm, "y", new Evaluation(1, 28, null, 0.5, 100, 10, null));
    assertThat(c.get("valid_precision_at_0_5")).isNaN();
    assertThat(c.get("valid_precision_at_alert")).isNaN();
    assertThat(c.get("valid_recall_at_0_5")).isEqualTo(0.0);
    assertThat(c.get("valid_auc")).isEqualTo(1.0);
  }
}
