package io.nightshift.airflow;

/**
 * An Airflow REST call failed. {@link #status()} is the HTTP status (or {@link #NO_RESPONSE} when Airflow could not be
 * reached) and {@link #detail()} is Airflow's own explanation (FastAPI's {@code detail}), also part of the message.
 */
public class AirflowException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** {@link #status()} when no HTTP response was received. */
  public static final int NO_RESPONSE = -1;

  private final int status;
  private final String detail;

  public AirflowException(String message, int status, String detail, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.detail = detail;
  }

  public AirflowException(String message, int status, String detail) {
    this(message, status, detail, null);
  }

  /** HTTP status of Airflow's answer, or {@link #NO_RESPONSE}. */
  public int status() {
    return status;
  }

  /** Airflow's {@code detail} message (validation errors joined into one line); empty when there was none. */
  public String detail() {
    return detail;
  }

  /** True for 4xx answers: the request itself was wrong (unknown DAG, bad conf, invalid date...). */
  public boolean isClientError() {
    return status >= 400 && status < 500;
  }

  /** 404: the DAG, run, task or asset does not exist (or the dag-processor has not parsed it yet). */
  public static final class NotFound extends AirflowException {
    private static final long serialVersionUID = 1L;

    public NotFound(String message, String detail) {
      super(message, 404, detail);
    }
  }

  /** 401/403: the credentials were refused or the user's role does not allow the call. */
  public static final class AuthFailed extends AirflowException {
    private static final long serialVersionUID = 1L;

    public AuthFailed(String message, int status, String detail) {
      super(message, status, detail);
    }
  }

  /** 409: the DAG run (same run id, or same logical date) already exists. */
  public static final class Conflict extends AirflowException {
    private static final long serialVersionUID = 1L;

    public Conflict(String message, String detail) {
      super(message, 409, detail);
    }
  }

  /** Airflow could not be reached (connection refused, reset, timed out) after all attempts. */
  public static final class Unavailable extends AirflowException {
    private static final long serialVersionUID = 1L;

    public Unavailable(String message, Throwable cause) {
      super(message, NO_RESPONSE, "", cause);
    }
  }

  /** {@link AirflowClient#waitForRun} gave up before the run finished. */
  public static final class Timeout extends AirflowException {
    private static final long serialVersionUID = 1L;

    public Timeout(String message) {
      super(message, NO_RESPONSE, "");
    }
  }
}
