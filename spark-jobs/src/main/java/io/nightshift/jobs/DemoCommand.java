package io.nightshift.jobs;

import io.nightshift.core.UseCase;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.scoring.BatchScorer;
import io.nightshift.scoring.ViewScorer;
import io.nightshift.training.Device;
import io.nightshift.training.ModelSpecs;
import io.nightshift.scoring.ScoringOptions;
import io.nightshift.scoring.actions.ReplenishmentPlanner;
import io.nightshift.scoring.actions.WorkOrderPlanner;
import io.nightshift.scoring.monitoring.Monitor;
import io.nightshift.training.TrainingPipeline;
import io.nightshift.training.tracking.ModelUri;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(
    name = "demo",
    description = "Run the whole nightly pipeline for both use cases on generated data and print a summary.")
final class DemoCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;

  @Mixin GeneratorOptions data;

  @Option(
      names = "--horizon-days",
      defaultValue = "28",
      description = "Days the demand forecast covers (default: ${DEFAULT-VALUE}; beyond 7 recursively).")
  int horizonDays;

  @Option(
      names = "--reconcile",
      defaultValue = "store",
      description = "Reconcile item forecasts with store totals: store (default) or none.")
  String reconcile;

  private final List<String[]> rows = new ArrayList<>();

  private ScoringOptions demandOptions() {
    return ScoringOptions.of(horizonDays, reconcile);
  }

  @Override
  public Integer call() {
    LocalDate night = data.end();
    demandOptions(); // bad values fail before any work
    // the price/promotion plan reaches as far as the forecast (at least the usual 28 days)
    GeneratorConfig cfg = data.config(Math.max(28, horizonDays));
    JobContext ctx = root.context();
    ctx.tracker(); // fail fast, before any Spark work, when MLflow is not configured
    PipelineSteps steps = new PipelineSteps(ctx);

    SyntheticData.Summary gen = step("generate", () -> steps.generate(cfg),
        s -> String.format("%,d sales rows, %,d telemetry rows, %d failures", s.salesRows(), s.telemetryRows(), s.failures()));
    for (UseCase u : UseCase.values()) {
      step("features " + u.id(), () -> steps.buildFeatures(u, night), n -> String.format("%,d feature rows as of %s", n, night));
      step("quality " + u.id(), () -> steps.checkFeatures(u, night),
          r -> String.format("%d checks passed", r.checks().size()));
    }
    // the declarative feature views over the same raw data (conf/features; skipped when run outside the repository)
    for (String view : List.of("sales_daily", "machine_telemetry_daily")) {
      java.nio.file.Path file = java.nio.file.Path.of("conf/features", view + ".yaml");
      if (java.nio.file.Files.isRegularFile(file)) {
        step("view " + view, () -> steps.buildView(file, night, true),
            b -> String.format("%,d rows, definition %s (conf/features/%s.yaml)", b.rows(), b.hash(), view));
      }
    }
    List<TrainingPipeline.Outcome> trained = new ArrayList<>();
    for (UseCase u : UseCase.values()) {
      trained.add(step("train " + u.id(), () -> steps.train(u, night, TrainingPipeline.Promotion.gated()),
          o -> String.format("%s v%s %s: %s", o.version().name(), o.version().version(),
              o.promoted() ? "@champion" : "@challenger (gate kept the champion)", Summary.headline(o))));
    }
    // a model trained and scored on a declared view: conf/models/sales_daily.yaml names conf/features/sales_daily.yaml
    java.nio.file.Path viewSpec = java.nio.file.Path.of("conf/models/sales_daily.yaml");
    TrainingPipeline.Outcome viewModel = null;
    if (java.nio.file.Files.isRegularFile(viewSpec) && java.nio.file.Files.isRegularFile(java.nio.file.Path.of("conf/features/sales_daily.yaml"))) {
      viewModel = step("train view sales_daily",
          () -> steps.train(ModelSpecs.load(viewSpec).withoutSearch(), night, TrainingPipeline.Promotion.gated(), Device.CPU),
          o -> String.format("%s v%s %s: %s", o.version().name(), o.version().version(),
              o.promoted() ? "@champion" : "@challenger (gate kept the champion)", Summary.headline(o)));
      String name = viewModel.version().name();
      step("score view sales_daily",
          () -> steps.scoreView(steps.load(ModelUri.alias(name, "champion")), night),
          (ViewScorer.Result r) -> String.format("%,d predictions for %s from data through the day before -> predictions/%s",
              r.rows(), night, name));
    }
    for (UseCase u : UseCase.values()) {
      ScoringOptions options = u == UseCase.DEMAND ? demandOptions() : ScoringOptions.DEFAULT;
      step("score " + u.id(), () -> steps.score(ModelUri.alias(u.modelName(), "champion"), night, options),
          (BatchScorer.Result r) -> String.format("%,d predictions (model v%s%s)", r.rows(), r.modelVersion(),
              options.isDefault() ? "" : "; " + options.describe()));
    }
    ReplenishmentPlanner.Result orders = step("act demand", () -> steps.planReplenishment(night, 0.95),
        r -> String.format("%d of %d store-items to reorder, %,.0f units", r.orders(), r.proposals(), r.units()));
    WorkOrderPlanner.Result work = step("act maintenance", () -> steps.planWorkOrders(night, 0.5, 5),
        r -> String.format("%d work orders (%d scheduled for %s)", r.workOrders(), r.scheduled(), night.plusDays(1)));
    for (UseCase u : UseCase.values()) {
      step("monitor " + u.id(), () -> steps.monitor(u, night), Monitor.Result::headline);
    }

    System.out.println();
    System.out.println("Nightshift demo: the night of " + night + " (seed " + data.seed + ")");
    System.out.printf("  %-30s %-8s %s%n", "step", "time", "result");
    for (String[] r : rows) {
      System.out.printf("  %-30s %-8s %s%n", r[0], r[1], r[2]);
    }
    System.out.println();
    System.out.println("Where to look:");
    System.out.println("  MLflow UI:      " + ctx.trackingUri() + "  (experiments nightshift-demand and"
        + " nightshift-maintenance; Models tab: @champion)");
    for (TrainingPipeline.Outcome o : trained) {
      System.out.println("  " + o.useCase().id() + " run:" + " ".repeat(Math.max(1, 12 - o.useCase().id().length())) + o.runUrl());
    }
    if (viewModel != null) {
      System.out.println("  sales_daily run: " + viewModel.runUrl() + " (trained on the declared view)");
    }
    System.out.println("  Delta tables:   " + ctx.warehouse().path("{features,predictions,actions,monitoring}"));
    System.out.println("  Order export:   " + orders.export());
    System.out.println("  Work orders:    " + work.export());
    System.out.println("  Raw data:       " + ctx.warehouse().path("raw") + " (" + gen.salesRows() + " sales rows)");
    return NightshiftCli.OK;
  }

  private <T> T step(String name, Supplier<T> work, java.util.function.Function<T, String> describe) {
    long t0 = System.nanoTime();
    T result = work.get();
    long seconds = Math.round((System.nanoTime() - t0) / 1e9);
    rows.add(new String[] {name, seconds + "s", describe.apply(result)});
    System.out.printf("[demo] %-20s done in %3ds: %s%n", name, seconds, describe.apply(result));
    return result;
  }
}
