package io.nightshift.core;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The business problems Nightshift ships pipelines for. */
public enum UseCase {
  /** Daily unit sales per store and item; actions are replenishment orders. */
  DEMAND("demand"),
  /** Failure risk per machine; actions are maintenance work orders. */
  MAINTENANCE("maintenance");

  private final String id;

  UseCase(String id) {
    this.id = id;
  }

  public String id() {
    return id;
  }

  /** The registered model name of this use case's production model. */
  public String modelName() {
    return "nightshift-" + id;
  }

  /** Parses {@code demand}, {@code maintenance} or {@code all} (both). */
  public static List<UseCase> parseSelection(String option, String value) {
    String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("all")) {
      return List.of(values());
    }
    for (UseCase u : values()) {
      if (u.id.equals(v)) {
        return List.of(u);
      }
    }
    throw Errors.invalidOption(
        option,
        value,
        "use one of "
            + Arrays.stream(values()).map(UseCase::id).collect(Collectors.joining(", "))
            + " or all");
  }

  @Override
  public String toString() {
    return id;
  }
}
