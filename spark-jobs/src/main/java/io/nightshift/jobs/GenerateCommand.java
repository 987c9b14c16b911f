package io.nightshift.jobs;

import io.nightshift.featurestore.generate.SyntheticData;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "generate", description = "Write realistic synthetic raw data (deterministic by seed, any scale).")
final class GenerateCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;

  @Mixin GeneratorOptions data;

  @Option(names = "--plan-days", defaultValue = "28", description = "Days of price/promotion plan after --end (default: ${DEFAULT-VALUE}).")
  int planDays;

  @Override
  public Integer call() {
    SyntheticData.Summary s = new PipelineSteps(root.context()).generate(data.config(planDays));
    System.out.printf(
        "generated %d sales rows and %d telemetry rows (%d failures) under %s%n",
        s.salesRows(), s.telemetryRows(), s.failures(), root.context().warehouse().path("raw"));
    return NightshiftCli.OK;
  }
}
