package io.nightshift.training.mlflow;

import io.nightshift.core.NightshiftException;

/** An MLflow REST call answered with an error. Carries MLflow's error code (e.g. RESOURCE_DOES_NOT_EXIST). */
public final class MlflowApiException extends NightshiftException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String errorCode;

  MlflowApiException(String call, int status, String errorCode, String message) {
    super(String.format("MLflow %s failed: HTTP %d %s: %s", call, status, errorCode, message));
    this.status = status;
    this.errorCode = errorCode;
  }

  public int status() {
    return status;
  }

  public String errorCode() {
    return errorCode;
  }

  /**
   * Whether MLflow itself said the resource does not exist. Decided on MLflow's error code only: a bare 404 (a proxy's
   * HTML page while MLflow restarts, a wrong base path) says nothing about the registry.
   */
  public boolean isNotFound() {
    return "RESOURCE_DOES_NOT_EXIST".equals(errorCode);
  }

  /** MLflow's INVALID_PARAMETER_VALUE: how MLflow 3 answers an unknown alias of an existing registered model. */
  public boolean isInvalidParameter() {
    return "INVALID_PARAMETER_VALUE".equals(errorCode);
  }

  public boolean isAlreadyExists() {
    return "RESOURCE_ALREADY_EXISTS".equals(errorCode);
  }
}
