package io.nightshift.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import io.nightshift.core.Errors;
import io.nightshift.core.InvalidInputException;
import io.nightshift.core.NightshiftException;
import io.nightshift.training.tracking.ExperimentTracker;
import io.nightshift.training.tracking.TrackedRun;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A budgeted random search ({@code search:} in the spec): each trial trains the spec with sampled booster
 * parameters, as an MLflow child run of the training run (tag {@code mlflow.parentRunId}, so the UI nests them), and
 * the best trial by the search metric wins. Trials are seeded: the same spec, data and seed give the same trials and
 * the same winner.
 *
 * <p>Trials are scored on rows that the final model's validation never uses (see {@link Selection}), because the
 * promotion gate judges the final model on that validation: a winner picked on the gate's own rows would look better
 * there than it is, by the luck of being the best of several. The caller refits the winning parameters as of the
 * run's date.
 */
public final class HyperparameterSearch {
  private static final Logger LOG = LoggerFactory.getLogger(HyperparameterSearch.class);

  private HyperparameterSearch() {}

  public record Trial(int index, Map<String, Object> params, TrainedModel model, double score, String runId) {}

  /**
   * Where the trials train and validate: with a time split, as of {@code validation.days + purge_days} before the
   * earliest backtest cutoff (the run's date without a backtest), so their validation window (and the days its labels
   * look ahead) ends before the first validation window of the backtest and of the final model starts: a fold that
   * validated on the trials' own rows would repeat the winning trial (same rows, parameters and seed) and report its
   * best-of-several luck as backtest accuracy. With an entity split, only the entities the final validation does not
   * hold out, split again with the next seed.
   */
  record Selection(Column rows, ModelSpec spec, LocalDate asOf, String description) {
    static Selection of(ModelSpec spec, LocalDate asOf) {
      if (spec.entitySplit() != null) {
        ModelSpec inner = spec.withSeed(spec.seed() + 1);
        return new Selection(not(XGBoostTrainer.heldOut(spec)), inner, asOf,
            inner.validationScheme() + ", among the entities the final validation does not hold out");
      }
      boolean backtest = spec.evaluation().backtestFolds() > 1;
      LocalDate firstCutoff = backtest ? Backtest.cutoffs(spec, asOf).get(0) : asOf;
      LocalDate selectionAsOf = firstCutoff.minusDays((long) spec.validationDays() + spec.purgeDays());
      return new Selection(col(spec.view().dateColumn()).leq(lit(Date.valueOf(selectionAsOf))), spec, selectionAsOf,
          "the " + spec.validationDays() + " days up to " + selectionAsOf + ", before the "
              + (backtest
                  ? "validation windows of the backtest (from cutoff " + firstCutoff + ") and of the final model"
                  : "final validation window"));
    }
  }

  public record Result(List<Trial> trials, Trial best, String metric, String selection) {
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
    Selection selection = Selection.of(spec, asOf);
    LOG.info("Search of {}: {} trials validated on {}", spec.modelName(), search.trials(), selection.description());
    List<Trial> trials = new ArrayList<>();
    for (int t = 0; t < search.trials(); t++) {
      Map<String, Object> sampled = search.sample(t);
      Map<String, Object> params = new HashMap<>(spec.boosterParams());
      params.putAll(sampled);
      ModelSpec trialSpec = selection.spec().withBoosterParams(params);
      Map<String, String> tags = new LinkedHashMap<>();
      tags.put("mlflow.parentRunId", parent.runId());
      tags.put("nightshift.trial", Integer.toString(t));
      TrackedRun run = tracker.startRun(experiment, parentName + "-trial-" + t, tags);
      boolean ok = false;
      Throwable failure = null;
      try {
        tracker.logParams(run.runId(), trialSpec.asParams());
        TrainedModel model = train(spark, table, selection, trialSpec);
        tracker.logMetrics(run.runId(), model.metrics());
        tracker.logMetricHistory(run.runId(), model.curveKey("valid"), model.validationCurve());
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
    return new Result(trials, best(trials, search, spec.modelName()), search.metric(), selection.description());
  }

  private static TrainedModel train(
      SparkSession spark, Dataset<Row> table, Selection selection, ModelSpec trialSpec) {
    try {
      return XGBoostTrainer.train(spark, table.where(selection.rows()), trialSpec, selection.asOf());
    } catch (InvalidInputException e) {
      throw Errors.invalidOption("--tune", trialSpec.modelName(),
          "the search validates its trials on " + selection.description() + ", so that the promotion gate judges"
              + " the winner on rows it was not picked on, and those rows do not suffice (" + e.getMessage()
              + "); train without --tune, or with more history");
    }
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
