package io.nightshift.jobs;

import io.nightshift.featurestore.generate.GeneratorConfig;
import java.time.LocalDate;
import picocli.CommandLine.Option;

/** The synthetic data that {@code generate} writes and {@code demo} runs on: the same options give the same data. */
final class GeneratorOptions {
  @Option(names = "--seed", defaultValue = "42", description = "Generator seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--start",
      defaultValue = "2023-01-01",
      description = "First day of history (default: ${DEFAULT-VALUE}).")
  String start;

  @Option(
      names = "--end",
      defaultValue = "2024-12-31",
      description = "Last day of history, the night the pipeline then runs (default: ${DEFAULT-VALUE}).")
  String end;

  @Option(names = "--stores", defaultValue = "10", description = "Stores (default: ${DEFAULT-VALUE}).")
  int stores;

  @Option(names = "--items", defaultValue = "20", description = "Items per store (default: ${DEFAULT-VALUE}).")
  int items;

  @Option(names = "--machines", defaultValue = "30", description = "Machines (default: ${DEFAULT-VALUE}).")
  int machines;

  /** {@code --end}, parsed. */
  LocalDate end() {
    return Options.date("--end", end);
  }

  /** The generator's configuration, with a price/promotion plan of {@code planDays} days after {@code --end}. */
  GeneratorConfig config(int planDays) {
    return new GeneratorConfig(seed, Options.date("--start", start), end(), stores, items, machines, planDays);
  }
}
