package io.nightshift.core;

/**
 * A data-quality gate failed: the data exists and is readable but violates a declared expectation. The pipeline stops
 * before training or scoring; jobs exit with code 3.
 */
public class QualityGateException extends NightshiftException {
  private static final long serialVersionUID = 1L;

  public QualityGateException(String message) {
    super(message);
  }
}
