package io.nightshift.featurestore.generate;

import static java.util.Objects.requireNonNull;

import io.nightshift.core.Errors;
import java.io.Serializable;
import java.time.LocalDate;

/**
 * What the synthetic data generator produces. The output is a pure function of this record: the same config always
 * writes the same rows, whatever the cluster size.
 *
 * @param seed randomness seed
 * @param start first day of history
 * @param end last day of history (sales, inventory, telemetry)
 * @param stores number of stores
 * @param items number of items per store
 * @param machines number of machines with telemetry
 * @param planDays days after {@code end} covered by the price/promotion plan (known future)
 */
public record GeneratorConfig(
    long seed, LocalDate start, LocalDate end, int stores, int items, int machines, int planDays)
    implements Serializable {
  public GeneratorConfig {
    requireNonNull(start, "start is null");
    requireNonNull(end, "end is null");
    if (!end.isAfter(start.plusDays(59))) {
      throw Errors.invalidOption(
          "--end", end.toString(), "generate at least 60 days of history (end after start + 59 days)");
    }
    if (stores < 1 || items < 1 || machines < 1) {
      throw Errors.invalidOption(
          "--stores/--items/--machines",
          stores + "/" + items + "/" + machines,
          "use counts of at least 1");
    }
    if (planDays < 0) {
      throw Errors.invalidOption("--plan-days", Integer.toString(planDays), "use 0 or more days");
    }
  }

  /** Two years of history for 10 stores x 20 items and 30 machines: the demo's default. */
  public static GeneratorConfig demo(long seed) {
    return new GeneratorConfig(
        seed, LocalDate.of(2023, 1, 1), LocalDate.of(2024, 12, 31), 10, 20, 30, 28);
  }
}
