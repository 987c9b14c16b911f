package io.nightshift.jobs;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.featurestore.quality.QualityGate;
import io.nightshift.featurestore.views.ViewDefinition;
import io.nightshift.featurestore.views.ViewDefinitions;
import io.nightshift.featurestore.views.ViewRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
    name = "features",
    description = "Build and check the Delta feature tables.",
    subcommands = {FeaturesCommand.Build.class, FeaturesCommand.Check.class, FeaturesCommand.Validate.class})
final class FeaturesCommand implements Runnable {
  @ParentCommand NightshiftCli root;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        new CommandLine(this), "Missing subcommand: use 'features build', 'features check' or 'features validate'");
  }

  @Command(name = "build", description = "Compute feature tables from the raw data known as of a date.")
  static final class Build implements Callable<Integer> {
    @ParentCommand FeaturesCommand parent;

    @Option(
        names = "--as-of",
        description = "Raw data through this date (YYYY-MM-DD) is known; required unless --from and --to are given.")
    String asOf;

    @Option(names = "--from", description = "With --view: recompute exactly the days from this date ...")
    String from;

    @Option(names = "--to", description = "... through this date (YYYY-MM-DD), replacing them in one transaction.")
    String to;

    @Option(names = "--use-case", defaultValue = "all", description = "demand, maintenance or all (default).")
    String useCase;

    @Option(
        names = "--quarantine",
        description =
            "Move rows that break a row-level expectation (null key or date, label out of range; for --view the"
                + " view's expectations: section) to quarantine/<view> instead of failing the quality gate on them.")
    boolean quarantine;

    @Option(
        names = "--view",
        paramLabel = "FILE",
        description =
            "Build this declared feature view (conf/features/*.yaml) instead of the use cases' built-in views;"
                + " repeatable.")
    List<Path> views = new ArrayList<>();

    @Option(
        names = "--backfill",
        description = "Rebuild a --view table even though its definition changed since the last build.")
    boolean backfill;

    @Override
    public Integer call() {
      if (!views.isEmpty()) {
        return buildViews();
      }
      if (from != null || to != null) {
        throw Errors.invalidOption("--from/--to", from + ".." + to, "use --from and --to with --view (declared feature views)");
      }
      LocalDate date = Options.date("--as-of", requireAsOf());
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

    private String requireAsOf() {
      if (asOf == null) {
        throw Errors.invalidOption("--as-of", "(missing)", "give the build date, e.g. --as-of 2024-12-31");
      }
      return asOf;
    }

    /**
     * Declared views: the days the table lacks through --as-of (the whole table on the first build), exactly
     * --from..--to, or everything again with --backfill after a definition change.
     */
    private int buildViews() {
      if ((from == null) != (to == null)) {
        throw Errors.invalidOption(from == null ? "--from" : "--to", "(missing)", "give both --from and --to");
      }
      LocalDate fromDate = from == null ? null : Options.date("--from", from);
      LocalDate toDate = to == null ? null : Options.date("--to", to);
      if (fromDate != null && backfill) {
        throw Errors.invalidOption("--backfill", "with --from/--to", "--backfill rebuilds the whole table: drop --from/--to");
      }
      LocalDate date = fromDate == null ? Options.date("--as-of", requireAsOf()) : null;
      for (Path v : views) {
        ViewDefinitions.load(v); // every definition is validated before any Spark job runs
      }
      PipelineSteps steps = new PipelineSteps(parent.root.context());
      for (Path v : views) {
        ViewRegistry.Build b =
            fromDate != null ? steps.buildViewRange(v, fromDate, toDate) : steps.buildView(v, date, backfill);
        System.out.printf(
            "features/%s: %d rows written (%s; Delta version %d, definition %s)%n",
            b.view(), b.rows(), b.scope(), b.tableVersion(), b.hash());
        if (quarantine) {
          long moved = steps.quarantineView(v, date != null ? date : toDate, b);
          System.out.printf("features/%s: %d rows quarantined to %s%n", b.view(), moved,
              parent.root.context().warehouse().quarantine(b.view()));
        }
      }
      return NightshiftCli.OK;
    }
  }

  @Command(
      name = "validate",
      description =
          "Validate feature view definitions without running anything: every YAML file given, or all of conf/features.")
  static final class Validate implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", description = "YAML files or directories (default: conf/features).")
    List<Path> paths = new ArrayList<>();

    @Override
    public Integer call() {
      List<Path> targets = paths.isEmpty() ? List.of(Path.of("conf/features")) : paths;
      for (Path p : targets) {
        List<ViewDefinition> defs =
            Files.isDirectory(p) ? ViewDefinitions.loadAll(p) : List.of(ViewDefinitions.load(p));
        for (ViewDefinition d : defs) {
          System.out.printf(
              "%s: valid (%d features, entities %s, definition %s)%n",
              d.name(), d.featureNames().size(), d.entities(), ViewDefinitions.definitionHash(d));
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
