package io.nightshift.training;

import io.nightshift.core.UseCase;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.maintenance.MachineFeatures;
import java.util.Map;

/** The shipped model specs of the two use cases. */
public final class ModelSpecs {
  private ModelSpecs() {}

  public static ModelSpec forUseCase(UseCase useCase) {
    return useCase == UseCase.DEMAND ? demand() : maintenance();
  }

  /** Daily unit sales: Tweedie regression suits non-negative, zero-inflated counts. */
  public static ModelSpec demand() {
    return new ModelSpec(
        UseCase.DEMAND.modelName(),
        Task.REGRESSION,
        DemandFeatures.VIEW,
        Map.of(
            "objective", "reg:tweedie",
            "tweedie_variance_power", 1.3,
            "eval_metric", "rmse",
            "eta", 0.08,
            "max_depth", 7,
            "min_child_weight", 5.0,
            "subsample", 0.8,
            "colsample_bytree", 0.8,
            "tree_method", "hist"),
        200,
        28,
        0,
        42);
  }

  /** Failure within seven days: binary classification; validation purges the label horizon. */
  public static ModelSpec maintenance() {
    return new ModelSpec(
        UseCase.MAINTENANCE.modelName(),
        Task.BINARY_CLASSIFICATION,
        MachineFeatures.VIEW,
        Map.of(
            "objective", "binary:logistic",
            "eval_metric", "logloss",
            "eta", 0.08,
            "max_depth", 5,
            "min_child_weight", 2.0,
            "subsample", 0.8,
            "colsample_bytree", 0.8,
            "tree_method", "hist"),
        150,
        90,
        MachineFeatures.LABEL_HORIZON_DAYS,
        42);
  }
}
