package io.nightshift.training;

/** The learning task of a model. */
public enum Task {
  /** A quantity such as daily sales: WAPE, SMAPE, RMSE and quantile metrics. */
  REGRESSION,
  /** An event within a horizon (failure within N days): probabilities, PR-AUC and alert costs. */
  BINARY_CLASSIFICATION,
  /**
   * Remaining useful life (cycles or days until failure): RMSE, MAE, bias and the asymmetric PHM08 score that
   * punishes late predictions (more life predicted than was left) harder than early ones.
   */
  RUL_REGRESSION;

  /** Whether the model predicts a number (a regression booster) rather than a probability. */
  public boolean numeric() {
    return this != BINARY_CLASSIFICATION;
  }
}
