package io.nightshift.core;

/**
 * The caller asked for something that cannot be done as asked: a malformed date, a missing table, an unknown model
 * alias. The message names the problem and the fix. Jobs exit with code 2 and write nothing.
 *
 * <p>Create instances through {@link Errors} so messages stay consistent.
 */
public class InvalidInputException extends NightshiftException {
  private static final long serialVersionUID = 1L;

  InvalidInputException(String message) {
    super(message);
  }

  InvalidInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
