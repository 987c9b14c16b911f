package io.nightshift.jobs;

import io.nightshift.core.Dates;
import io.nightshift.core.UseCase;
import java.time.LocalDate;
import java.util.List;

/** Parsing of shared option values, so every command reports bad input the same way. */
final class Options {
  private Options() {}

  static LocalDate date(String option, String value) {
    return Dates.parse(option, value);
  }

  static List<UseCase> useCases(String value) {
    return UseCase.parseSelection("--use-case", value);
  }
}
