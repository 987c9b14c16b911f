package io.nightshift.training;

/** The learning task of a model. */
public enum Task {
  REGRESSION,
  BINARY_CLASSIFICATION
}
