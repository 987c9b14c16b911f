package io.nightshift.training;

import io.nightshift.core.NightshiftException;
import io.nightshift.training.tracking.ExperimentTracker;
import io.nightshift.training.tracking.TrackedRun;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A budgeted random search ({@code search:} in the spec): each trial trains the spec with sampled booster
 * parameters on the same training and validation windows, as an MLflow child run of the training run (tag
 * {@code mlflow.parentRunId}, so the UI nests them), and the best trial by the search metric wins. Trials are
 * seeded: the same spec, data and seed give the same trials and the same winner.
 */
public final class HyperparameterSearch {
  private static final Logger LOG = LoggerFactory.getLogger(HyperparameterSearch.class);

  private HyperparameterSearch() {}

  public record Trial(int index, Map<String, Object> params, TrainedModel model, double score, String runId) {}

  public record Result(List<Trial> trials, Trial best, String metric) {
    /** One row per trial: index, score, the sampled parameters. */
    public String csv() {
      List<String> keys = new ArrayList<>(trials.get(0).params().keySet());
      StringBuilder sb = new StringBuilder("trial,run_id," + metric);
      keys.forEach(k -> sb.append(',').append(k));
      sb.append(",best\n");
      for (Trial t : trials) {
        sb.append(t.index()).append(',').append(t.runId()).append(',').append(t.score());
        keys.forEach(k -> sb.append(',').append(t.params().get(k)));
        sb.append(',').append(t == best).append('\n');
      }
      return sb.toString();
    }
  }

  public static Result run(
      SparkSession spark, Dataset<Row> table, ModelSpec spec, LocalDate asOf, ExperimentTracker tracker,
      String experiment, TrackedRun parent, String parentName) {
    Evaluation.Search search = spec.evaluation().search();
    if (search == null) {
      throw new IllegalArgumentException(spec.modelName() + " has no search section");
    }
    List<Trial> trials = new ArrayList<>();
    for (int t = 0; t < search.trials(); t++) {
      Map<String, Object> sampled = search.sample(t);
      Map<String, Object> params = new HashMap<>(spec.boosterParams());
      params.putAll(sampled);
      ModelSpec trialSpec = spec.withBoosterParams(params);
      Map<String, String> tags = new LinkedHashMap<>();
      tags.put("mlflow.parentRunId", parent.runId());
      tags.put("nightshift.trial", Integer.toString(t));
      TrackedRun run = tracker.startRun(experiment, parentName + "-trial-" + t, tags);
      boolean ok = false;
      Throwable failure = null;
      try {
        tracker.logParams(run.runId(), trialSpec.asParams());
        TrainedModel model = XGBoostTrainer.train(spark, table, trialSpec, asOf);
        tracker.logMetrics(run.runId(), model.metrics());
        tracker.logMetricHistory(run.runId(), "valid-" + model.evalMetric(), model.validationCurve());
        Double score = model.metrics().get(search.metric());
        if (score == null) {
          throw new NightshiftException(
              "search.metric '" + search.metric() + "' is not among the validation metrics of " + spec.modelName()
                  + " " + model.metrics().keySet() + ". Fix: pick one of those in the model spec.");
        }
        trials.add(new Trial(t, sampled, model, score, run.runId()));
        LOG.info("Search trial {}/{} of {}: {} = {} with {}", t + 1, search.trials(), spec.modelName(),
            search.metric(), score, sampled);
        ok = true;
      } catch (Throwable e) {
        failure = e;
        throw e;
      } finally {
        TrainingPipeline.endRun(tracker, run.runId(), ok, failure);
      }
    }
    return new Result(trials, best(trials, search, spec.modelName()), search.metric());
  }

  /**
   * The winning trial by {@link Evaluation.Search#better}: a NaN score never wins (comparisons with NaN are false, so
   * it would otherwise stay best), ties go to the earlier trial. Fails when every trial scored NaN.
   */
  static Trial best(List<Trial> trials, Evaluation.Search search, String modelName) {
    Trial best = null;
    for (Trial t : trials) {
      if (search.better(t.score(), best == null ? null : best.score())) {
        best = t;
      }
    }
    if (best == null) {
      throw new NightshiftException(
          "search.metric '" + search.metric() + "' is NaN in all " + trials.size() + " search trials of " + modelName
              + ", so no trial can win. Fix: pick a search.metric the validation window defines (e.g. one that does"
              + " not need positives or a nonzero label sum), or widen the validation window.");
    }
    return best;
  }
}
