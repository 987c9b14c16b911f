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

  public boolean isNotFound() {
    return status == 404 || "RESOURCE_DOES_NOT_EXIST".equals(errorCode);
  }

  public boolean isAlreadyExists() {
    return "RESOURCE_ALREADY_EXISTS".equals(errorCode);
  }
}
