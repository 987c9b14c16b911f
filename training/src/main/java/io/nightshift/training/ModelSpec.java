package io.nightshift.training;

import static java.util.Objects.requireNonNull;

import io.nightshift.featurestore.FeatureView;
import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * What to train: the feature view and its label, the XGBoost booster parameters, and the time-based validation
 * scheme. Training is deterministic for a given spec, data and seed.
 *
 * @param modelName the registered model name
 * @param task regression or binary classification
 * @param view the feature view to train on (label and features)
 * @param boosterParams XGBoost parameters by their native names (objective, eta, max_depth, ...)
 * @param numRound boosting rounds
 * @param validationDays the last days up to the as-of date form the validation set
 * @param purgeDays days dropped between training and validation, so labels that look ahead cannot overlap
 * @param seed randomness seed
 * @param evaluation backtesting, segment metrics, alert costs and hyperparameter search
 * @param entitySplit when set, validation holds out whole entities instead of the last days ({@code validationDays}
 *     and {@code purgeDays} are then unused)
 */
public record ModelSpec(
    String modelName,
    Task task,
    FeatureView view,
    Map<String, Object> boosterParams,
    int numRound,
    int validationDays,
    int purgeDays,
    long seed,
    Evaluation evaluation,
    EntitySplit entitySplit)
    implements Serializable {
  /**
   * Validation on held-out entities: the rows of every entity whose hash of {@code key} (salted with the seed) falls
   * in the first {@code fraction} of the hash range. The same key, fraction and seed always hold out the same
   * entities, so models trained with one split can be compared on it.
   */
  public record EntitySplit(String key, double fraction) implements Serializable {
    public EntitySplit {
      requireNonNull(key, "key is null");
      if (!(fraction > 0 && fraction < 1)) {
        throw new IllegalArgumentException("validation fraction must be between 0 and 1, found " + fraction);
      }
    }

    /** Buckets of the hash range; an entity is held out when its bucket is below {@code fraction * BUCKETS}. */
    public static final int BUCKETS = 10_000;

    public String describe(long seed) {
      return "entities held out by " + key + ": hash(" + key + ", seed " + seed + ") in the first "
          + java.math.BigDecimal.valueOf(fraction).stripTrailingZeros().toPlainString() + " of its range";
    }
  }

  /** A spec validated on the last days before the as-of date. */
  public ModelSpec(
      String modelName, Task task, FeatureView view, Map<String, Object> boosterParams, int numRound,
      int validationDays, int purgeDays, long seed, Evaluation evaluation) {
    this(modelName, task, view, boosterParams, numRound, validationDays, purgeDays, seed, evaluation, null);
  }

  /** A spec evaluated on its validation window only. */
  public ModelSpec(
      String modelName, Task task, FeatureView view, Map<String, Object> boosterParams, int numRound,
      int validationDays, int purgeDays, long seed) {
    this(modelName, task, view, boosterParams, numRound, validationDays, purgeDays, seed, Evaluation.DEFAULT, null);
  }

  public ModelSpec {
    requireNonNull(modelName, "modelName is null");
    requireNonNull(evaluation, "evaluation is null");
    requireNonNull(task, "task is null");
    requireNonNull(view, "view is null");
    // a num_round among the booster parameters (search.space.num_round, a trial's or the winner's draw) is the one
    // XGBoostTrainer would set last: it becomes numRound, so the rounds trained are the rounds logged and described
    Object rounds = boosterParams.containsKey("num_round") ? boosterParams.get("num_round") : boosterParams.get("numRound");
    if (rounds instanceof Integer r) {
      Map<String, Object> rest = new java.util.HashMap<>(boosterParams);
      rest.remove("num_round");
      rest.remove("numRound");
      boosterParams = rest;
      numRound = r;
    }
    boosterParams = Map.copyOf(boosterParams);
    if (numRound < 1 || validationDays < 1 || purgeDays < 0) {
      throw new IllegalArgumentException(
          "Invalid spec for " + modelName + ": numRound and validationDays must be >= 1, purgeDays >= 0");
    }
  }

  /** The same spec training on {@code device} (XGBoost's {@code device} parameter). */
  public ModelSpec onDevice(Device device) {
    Map<String, Object> params = new java.util.HashMap<>(boosterParams);
    params.put("device", device.xgboostName());
    return withBoosterParams(params);
  }

  /** The same spec with other booster parameters (a search trial). */
  public ModelSpec withBoosterParams(Map<String, Object> params) {
    return new ModelSpec(modelName, task, view, params, numRound, validationDays, purgeDays, seed, evaluation,
        entitySplit);
  }

  /** The same spec with another seed (XGBoost's, and the salt of an entity split). */
  public ModelSpec withSeed(long newSeed) {
    return new ModelSpec(modelName, task, view, boosterParams, numRound, validationDays, purgeDays, newSeed, evaluation,
        entitySplit);
  }

  /** The same spec without its hyperparameter search (train with the spec's own parameters). */
  public ModelSpec withoutSearch() {
    Evaluation e = evaluation;
    return withEvaluation(new Evaluation(e.backtestFolds(), e.backtestStepDays(), e.segmentBy(), e.alertThreshold(),
        e.costFalseNegative(), e.costFalsePositive(), null));
  }

  /** The same spec with {@code folds} backtest folds. */
  public ModelSpec withBacktestFolds(int folds) {
    Evaluation e = evaluation;
    return withEvaluation(new Evaluation(folds, e.backtestStepDays(), e.segmentBy(), e.alertThreshold(),
        e.costFalseNegative(), e.costFalsePositive(), e.search()));
  }

  /** The same spec with another evaluation. */
  public ModelSpec withEvaluation(Evaluation e) {
    return new ModelSpec(modelName, task, view, boosterParams, numRound, validationDays, purgeDays, seed, e,
        entitySplit);
  }

  /** How validation rows are chosen, in words (recorded with the model so a later gate can compare on it). */
  public String validationScheme() {
    if (entitySplit != null) {
      return entitySplit.describe(seed);
    }
    return "the last " + validationDays + " days before the as-of date"
        + (purgeDays > 0 ? " after a " + purgeDays + "-day purge gap" : "");
  }

  public String objective() {
    return String.valueOf(boosterParams.get("objective"));
  }

  /** All parameters as MLflow params (string values, sorted). */
  public Map<String, String> asParams() {
    Map<String, String> p = new TreeMap<>();
    boosterParams.forEach((k, v) -> p.put(k, String.valueOf(v)));
    p.put("num_round", Integer.toString(numRound));
    if (entitySplit == null) {
      p.put("validation_days", Integer.toString(validationDays));
      p.put("purge_days", Integer.toString(purgeDays));
    } else {
      p.put("validation_split_by", entitySplit.key());
      p.put("validation_fraction", Double.toString(entitySplit.fraction()));
    }
    p.put("seed", Long.toString(seed));
    p.put("label", view.labelColumn());
    p.put("feature_view", view.name());
    p.put("num_features", Integer.toString(view.features().size()));
    p.put("backtest_folds", Integer.toString(evaluation.backtestFolds()));
    if (task == Task.BINARY_CLASSIFICATION) {
      p.put("alert_threshold", Double.toString(evaluation.alertThreshold()));
    }
    return p;
  }
}
