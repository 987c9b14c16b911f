package io.nightshift.core;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;

/** Parsing of the dates that jobs take on the command line. Jobs never read the clock. */
public final class Dates {
  private Dates() {}

  /**
   * Parses an ISO date (YYYY-MM-DD).
   *
   * @param option the option the value came from, used in the error message (e.g. {@code --as-of})
   * @throws InvalidInputException naming the option and the expected format
   */
  public static LocalDate parse(String option, String value) {
    if (value == null || value.isBlank()) {
      throw Errors.invalidDate(option, String.valueOf(value));
    }
    try {
      return LocalDate.parse(value.trim());
    } catch (DateTimeParseException e) {
      throw Errors.invalidDate(option, value);
    }
  }
}
