package io.nightshift.jobs;

import io.nightshift.core.UseCase;
import io.nightshift.featurestore.quality.QualityGate;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(
    name = "features",
    description = "Build and check the Delta feature tables.",
    subcommands = {FeaturesCommand.Build.class, FeaturesCommand.Check.class})
final class FeaturesCommand implements Runnable {
  @ParentCommand NightshiftCli root;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        new CommandLine(this), "Missing subcommand: use 'features build' or 'features check'");
  }

  @Command(name = "build", description = "Compute feature tables from the raw data known as of a date.")
  static final class Build implements Callable<Integer> {
    @ParentCommand FeaturesCommand parent;

    @Option(names = "--as-of", required = true, description = "Raw data through this date (YYYY-MM-DD) is known.")
    String asOf;

    @Option(names = "--use-case", defaultValue = "all", description = "demand, maintenance or all (default).")
    String useCase;

    @Option(
        names = "--quarantine",
        description =
            "Move rows that break a row-level expectation (null key or date, label out of range) to"
                + " quarantine/<view> instead of failing the quality gate on them.")
    boolean quarantine;

    @Override
    public Integer call() {
      LocalDate date = Options.date("--as-of", asOf);
      PipelineSteps steps = new PipelineSteps(parent.root.context());
      for (UseCase u : Options.useCases(useCase)) {
        long rows = steps.buildFeatures(u, date);
        System.out.printf("%s: %d rows as of %s%n", QualityGate.view(u).name(), rows, date);
        if (quarantine) {
          long moved = steps.quarantine(u, date);
          System.out.printf(
              "%s: %d rows quarantined to %s%n",
              QualityGate.view(u).name(), moved, parent.root.context().warehouse().quarantine(QualityGate.view(u).name()));
        }
      }
      return NightshiftCli.OK;
    }
  }

  @Command(name = "check", description = "Run the data-quality gate; exit code 3 when it fails.")
  static final class Check implements Callable<Integer> {
    @ParentCommand FeaturesCommand parent;

    @Option(names = "--as-of", required = true, description = "The build date to check (YYYY-MM-DD).")
    String asOf;

    @Option(names = "--use-case", defaultValue = "all", description = "demand, maintenance or all (default).")
    String useCase;

    @Override
    public Integer call() {
      LocalDate date = Options.date("--as-of", asOf);
      PipelineSteps steps = new PipelineSteps(parent.root.context());
      for (UseCase u : Options.useCases(useCase)) {
        System.out.println(steps.checkFeatures(u, date).render());
      }
      return NightshiftCli.OK;
    }
  }
}
