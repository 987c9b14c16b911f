package io.nightshift.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.NightshiftException;
import io.nightshift.training.tracking.ExperimentTracker;
import io.nightshift.training.tracking.TrackedRun;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the hyperparameter search picks its winner, and how it ends its trial runs; no Spark needed. */
class SearchSelectionTest {
  private static Evaluation.Search search(String metric) {
    return new Evaluation.Search(3, metric, Map.of("max_depth", List.of(2, 4)), Map.of(), 1);
  }

  private static List<HyperparameterSearch.Trial> trials(double... scores) {
    List<HyperparameterSearch.Trial> out = new ArrayList<>();
    for (int i = 0; i < scores.length; i++) {
      out.add(new HyperparameterSearch.Trial(i, Map.of("max_depth", 2 + i), null, scores[i], "run-" + i));
    }
    return out;
  }

  private static int winner(String metric, double... scores) {
    return HyperparameterSearch.best(trials(scores), search(metric), "nightshift-test").index();
  }

  @Test
  void trialsValidateBeforeTheFirstBacktestWindowSoNoFoldRepeatsTheWinningTrial() {
    java.time.LocalDate asOf = java.time.LocalDate.of(2024, 12, 31);
    // demand: 28 validation days, no purge, folds at the run's date and 28 and 56 days before it: the first fold
    // validates on 2024-10-09..2024-11-05, so the trials validate on the 28 days up to 2024-10-08
    ModelSpec demand = ModelSpecs.demand();
    assertThat(Backtest.cutoffs(demand, asOf)).first().isEqualTo(java.time.LocalDate.of(2024, 11, 5));
    HyperparameterSearch.Selection s = HyperparameterSearch.Selection.of(demand, asOf);
    assertThat(s.asOf()).isEqualTo(java.time.LocalDate.of(2024, 10, 8));
    assertThat(s.description()).isEqualTo("the 28 days up to 2024-10-08, before the validation windows of the backtest"
        + " (from cutoff 2024-11-05) and of the final model");
    // maintenance: 90 validation days behind a 7-day purge, folds 60 days apart: the first cutoff 2024-11-01 validates
    // from 2024-08-04, its labels purged 7 days before: the trials' window ends 97 days before that cutoff
    ModelSpec maintenance = ModelSpecs.maintenance();
    assertThat(HyperparameterSearch.Selection.of(maintenance, asOf).asOf()).isEqualTo(java.time.LocalDate.of(2024, 7, 27));
    // without a backtest: right before the final validation window (and its purge)
    HyperparameterSearch.Selection single =
        HyperparameterSearch.Selection.of(demand.withEvaluation(new Evaluation(1, 28, null, 0.5, 1, 1, search("valid_wape"))), asOf);
    assertThat(single.asOf()).isEqualTo(java.time.LocalDate.of(2024, 12, 3));
    assertThat(single.description()).isEqualTo("the 28 days up to 2024-12-03, before the final validation window");
  }

  @Test
  void aNanScoreNeverWins() {
    assertThat(winner("valid_wape", Double.NaN, 0.3, 0.2)).isEqualTo(2);
    assertThat(winner("valid_wape", 0.3, Double.NaN, 0.4)).isEqualTo(0);
    assertThat(winner("valid_pr_auc", Double.NaN, 0.6, 0.7)).isEqualTo(2);
    assertThat(winner("valid_wape", 0.3, 0.3)).isEqualTo(0); // ties keep the earlier trial
  }

  @Test
  void allNanScoresFailNamingTheMetric() {
    assertThatThrownBy(() -> winner("valid_pr_auc", Double.NaN, Double.NaN))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("search.metric 'valid_pr_auc' is NaN in all 2 search trials of nightshift-test")
        .hasMessageContaining("Fix:");
  }

  @Test
  void signedBiasWinsClosestToZero() {
    assertThat(winner("valid_bias", -0.5, 0.1, -0.2)).isEqualTo(1);
    assertThat(winner("valid_bias", 0.4, -0.05, 0.1)).isEqualTo(1);
  }

  @Test
  void coverageWinsClosestToTheNominalLevelItsNameGives() {
    assertThat(Evaluation.Search.nominalCoverage("valid_coverage_p10_p90")).isEqualTo(0.8);
    assertThat(Evaluation.Search.nominalCoverage("valid_coverage_p05_p95")).isEqualTo(0.9);
    assertThat(Evaluation.Search.nominalCoverage("valid_coverage")).isNull();
    // 0.79 is closest to 0.8: neither the widest (0.97) nor the narrowest interval wins
    assertThat(winner("valid_coverage_p10_p90", 0.97, 0.79, 0.6)).isEqualTo(1);
    assertThat(search("valid_coverage_p10_p90").maximize()).isFalse();
    // without a derivable level, coverage is maximized as before
    assertThat(winner("valid_coverage", 0.7, 0.9, 0.8)).isEqualTo(1);
    assertThat(search("valid_coverage").maximize()).isTrue();
  }

  @Test
  void rangesOfWholeNumberParametersDrawWholeNumbers() {
    // max_depth, max_bin and num_round are IntParams in XGBoost4J-Spark: 5.73 would fail the trial mid-search
    Evaluation.Search s = new Evaluation.Search(3, "valid_wape", Map.of(),
        Map.of("max_depth", new double[] {3, 9}, "max_bin", new double[] {128.5, 130.9}, "num_round",
            new double[] {50, 50}, "eta", new double[] {0.05, 0.3}), 7);
    java.util.Set<Object> depths = new java.util.TreeSet<>();
    java.util.Set<Object> bins = new java.util.TreeSet<>();
    for (int t = 0; t < 200; t++) {
      Map<String, Object> p = s.sample(t);
      assertThat(p.get("max_depth")).isInstanceOf(Integer.class);
      assertThat(p.get("num_round")).isEqualTo(50);
      assertThat(p.get("eta")).isInstanceOf(Double.class);
      assertThat((Double) p.get("eta")).isBetween(0.05, 0.3);
      depths.add(p.get("max_depth"));
      bins.add(p.get("max_bin"));
      assertThat(s.sample(t)).isEqualTo(p); // still repeatable
    }
    assertThat(depths).containsExactly(3, 4, 5, 6, 7, 8, 9); // uniform among the whole numbers, both ends included
    assertThat(bins).containsExactly(129, 130); // [ceil(min), floor(max)]
    assertThat(new Evaluation.Search(3, "valid_wape", Map.of(), Map.of("max_depth", new double[] {3, 9}), 7).sample(0))
        .isEqualTo(new Evaluation.Search(3, "valid_wape", Map.of(), Map.of("max_depth", new double[] {3, 9}), 7)
            .sample(0));
    assertThatThrownBy(() -> new Evaluation.Search(3, "valid_wape", Map.of(),
            Map.of("max_depth", new double[] {3.2, 3.8}), 7))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max_depth")
        .hasMessageContaining("no whole number");
  }

  @Test
  void aFailingEndRunDoesNotMaskTheTrialsFailure() {
    RuntimeException original = new IllegalStateException("logParams failed");
    RuntimeException endRun = new IllegalStateException("endRun failed");
    ExperimentTracker tracker =
        new RecordingTracker() {
          @Override
          public void logParams(String runId, Map<String, String> params) {
            throw original;
          }

          @Override
          public void endRun(String runId, boolean succeeded) {
            throw endRun;
          }
        };
    ModelSpec spec =
        ModelSpecs.demand().withEvaluation(new Evaluation(1, 28, null, 0.5, 1, 1, search("valid_wape")));
    TrackedRun parent = new TrackedRun("parent", "e", "mem://parent");

    // the trial fails before it reads any data, so no Spark session or table is needed
    assertThatThrownBy(() -> HyperparameterSearch.run(null, null, spec, java.time.LocalDate.of(2024, 1, 1), tracker, "e", parent,
            "parent"))
        .isSameAs(original)
        .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(endRun));
  }
}
