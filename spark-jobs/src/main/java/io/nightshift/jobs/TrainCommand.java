package io.nightshift.jobs;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.training.Device;
import io.nightshift.training.ModelSpec;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.TrainingPipeline;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(
    name = "train",
    description =
        "Train, log to MLflow, register the version as @challenger, and promote it to @champion if it beats the"
            + " champion (promotion gate).")
final class TrainCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;

  @Option(names = "--as-of", required = true, description = "Train on labeled data up to this date (YYYY-MM-DD).")
  String asOf;

  @Option(names = "--use-case", defaultValue = "all", description = "demand, maintenance or all (default).")
  String useCase;

  @Option(
      names = "--promotion-margin",
      defaultValue = "0.0",
      description =
          "Relative improvement the challenger's 90%% CI lower bound must exceed (default: ${DEFAULT-VALUE}).")
  double margin;

  @Option(names = "--force-promote", description = "Make the new version @champion whatever the gate says.")
  boolean force;

  @Option(
      names = "--spec",
      description = "A model spec YAML file instead of the shipped conf/models/<use-case>.yaml; its feature_view may"
          + " name a view from conf/features (build it first with 'features build --view').")
  java.nio.file.Path spec;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      description = "cpu (default) or cuda: GPU executors, the -Pgpu build and conf/spark/gpu.conf.")
  String device;

  @Option(
      names = "--tune",
      description = "Run the spec's hyperparameter search (its search: section) as MLflow child runs and keep the best.")
  boolean tune;

  @Option(
      names = "--backtest-folds",
      description = "Rolling-origin backtest folds, overriding the spec's backtest.folds (1: validation window only).")
  Integer backtestFolds;

  @Override
  public Integer call() {
    LocalDate date = Options.date("--as-of", asOf);
    Device d = Device.parse("--device", device);
    PipelineSteps steps = new PipelineSteps(root.context());
    java.util.List<ModelSpec> specs = new java.util.ArrayList<>();
    if (spec != null) {
      specs.add(ModelSpecs.load(spec));
    } else {
      for (UseCase u : Options.useCases(useCase)) {
        specs.add(ModelSpecs.forUseCase(u));
      }
    }
    if (backtestFolds != null && backtestFolds < 1) {
      throw Errors.invalidOption("--backtest-folds", backtestFolds.toString(), "give 1 or more");
    }
    for (int i = 0; i < specs.size(); i++) {
      ModelSpec s = specs.get(i);
      if (tune && s.evaluation().search() == null) {
        throw Errors.invalidOption(
            "--tune", s.modelName(), "add a search: section (trials, metric, space) to its model spec, see conf/models/");
      }
      if (backtestFolds != null && backtestFolds > 1 && s.entitySplit() != null) {
        throw Errors.invalidOption("--backtest-folds", backtestFolds.toString(),
            "use 1 for " + s.modelName() + ": it validates on held-out entities (validation.split_by), not on a"
                + " rolling time cutoff");
      }
      s = tune ? s : s.withoutSearch();
      specs.set(i, backtestFolds == null ? s : s.withBacktestFolds(backtestFolds));
    }
    for (ModelSpec s : specs) {
      TrainingPipeline.Outcome o = steps.train(s, date, new TrainingPipeline.Promotion(margin, force), d);
      System.out.printf(
          "%s version %s is @challenger%s; validation %s%n  gate: %s%n  run: %s%n",
          o.version().name(), o.version().version(), o.promoted() ? " and now @champion" : " (champion unchanged)",
          Summary.headline(o), o.decision().reason(), o.runUrl());
      if (o.runMetrics().containsKey("backtest_folds")) {
        String key = o.runMetrics().keySet().stream().filter(k -> k.startsWith("backtest_valid_") && k.endsWith("_mean"))
            .filter(k -> k.contains("wape") || k.contains("pr_auc")).findFirst().orElse(null);
        System.out.printf("  backtest: %.0f folds%s%n", o.runMetrics().get("backtest_folds"),
            key == null ? "" : String.format(java.util.Locale.ROOT, ", %s %.4f", key, o.runMetrics().get(key)));
      }
      if (o.runMetrics().containsKey("search_trials")) {
        String best = o.runMetrics().keySet().stream().filter(k -> k.startsWith("search_best_")).findFirst().orElseThrow();
        System.out.printf(java.util.Locale.ROOT,
            "  search: best of %.0f trials by %s (%.4f on rows kept apart from validation), refit as of %s (child"
                + " runs in MLflow)%n", o.runMetrics().get("search_trials"), best.substring("search_best_".length()),
            o.runMetrics().get(best), date);
      }
    }
    return NightshiftCli.OK;
  }
}
