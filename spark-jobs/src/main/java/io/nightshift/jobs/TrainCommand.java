package io.nightshift.jobs;

import io.nightshift.core.UseCase;
import io.nightshift.training.TrainingPipeline;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "train", description = "Train, log to MLflow, register a version and point an alias at it.")
final class TrainCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;

  @Option(names = "--as-of", required = true, description = "Train on labeled data up to this date (YYYY-MM-DD).")
  String asOf;

  @Option(names = "--use-case", defaultValue = "all", description = "demand, maintenance or all (default).")
  String useCase;

  @Option(names = "--alias", defaultValue = "champion", description = "Alias to move to the new version (default: ${DEFAULT-VALUE}).")
  String alias;

  @Override
  public Integer call() {
    LocalDate date = Options.date("--as-of", asOf);
    PipelineSteps steps = new PipelineSteps(root.context());
    for (UseCase u : Options.useCases(useCase)) {
      TrainingPipeline.Outcome o = steps.train(u, date, alias);
      System.out.printf(
          "%s version %s is now @%s; validation %s%n  run: %s%n",
          o.version().name(), o.version().version(), alias, Summary.headline(o), o.runUrl());
    }
    return NightshiftCli.OK;
  }
}
