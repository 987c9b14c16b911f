package io.nightshift.core;

/**
 * A failure of a Nightshift job that is not the caller's fault (an external system failed, a table could not be
 * written). Jobs exit with code 1.
 */
public class NightshiftException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NightshiftException(String message) {
    super(message);
  }

  public NightshiftException(String message, Throwable cause) {
    super(message, cause);
  }
}
