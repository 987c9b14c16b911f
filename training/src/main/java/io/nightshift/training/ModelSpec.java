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
 */
public record ModelSpec(
    String modelName,
    Task task,
    FeatureView view,
    Map<String, Object> boosterParams,
    int numRound,
    int validationDays,
    int purgeDays,
    long seed)
    implements Serializable {
  public ModelSpec {
    requireNonNull(modelName, "modelName is null");
    requireNonNull(task, "task is null");
    requireNonNull(view, "view is null");
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
    return new ModelSpec(modelName, task, view, params, numRound, validationDays, purgeDays, seed);
  }

  public String objective() {
    return String.valueOf(boosterParams.get("objective"));
  }

  /** All parameters as MLflow params (string values, sorted). */
  public Map<String, String> asParams() {
    Map<String, String> p = new TreeMap<>();
    boosterParams.forEach((k, v) -> p.put(k, String.valueOf(v)));
    p.put("num_round", Integer.toString(numRound));
    p.put("validation_days", Integer.toString(validationDays));
    p.put("purge_days", Integer.toString(purgeDays));
    p.put("seed", Long.toString(seed));
    p.put("label", view.labelColumn());
    p.put("feature_view", view.name());
    p.put("num_features", Integer.toString(view.features().size()));
    return p;
  }
}
