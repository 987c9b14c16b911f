package io.nightshift.jobs;

import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "generate", description = "Write realistic synthetic raw data (deterministic by seed, any scale).")
final class GenerateCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;

  @Option(names = "--seed", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--start", defaultValue = "2023-01-01", description = "First day (default: ${DEFAULT-VALUE}).")
  String start;

  @Option(names = "--end", defaultValue = "2024-12-31", description = "Last day of history (default: ${DEFAULT-VALUE}).")
  String end;

  @Option(names = "--stores", defaultValue = "10", description = "Stores (default: ${DEFAULT-VALUE}).")
  int stores;

  @Option(names = "--items", defaultValue = "20", description = "Items per store (default: ${DEFAULT-VALUE}).")
  int items;

  @Option(names = "--machines", defaultValue = "30", description = "Machines (default: ${DEFAULT-VALUE}).")
  int machines;

  @Option(names = "--plan-days", defaultValue = "28", description = "Days of price/promotion plan after --end (default: ${DEFAULT-VALUE}).")
  int planDays;

  @Override
  public Integer call() {
    GeneratorConfig cfg =
        new GeneratorConfig(
            seed, Options.date("--start", start), Options.date("--end", end), stores, items, machines, planDays);
    SyntheticData.Summary s = new PipelineSteps(root.context()).generate(cfg);
    System.out.printf(
        "generated %d sales rows and %d telemetry rows (%d failures) under %s%n",
        s.salesRows(), s.telemetryRows(), s.failures(), root.context().warehouse().path("raw"));
    return NightshiftCli.OK;
  }
}
