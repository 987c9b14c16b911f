package io.nightshift.jobs;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.scoring.BatchScorer;
import io.nightshift.scoring.Prepared;
import io.nightshift.scoring.ViewScorer;
import io.nightshift.scoring.ScoringOptions;
import io.nightshift.training.tracking.ModelUri;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "score", description = "Score a night with a registered model; replaces that date's predictions.")
final class ScoreCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;

  @Option(names = "--date", required = true, description = "The night to score (YYYY-MM-DD).")
  String date;

  @Option(names = "--use-case", defaultValue = "all", description = "demand, maintenance or all (default); scores NAME@champion.")
  String useCase;

  @Option(
      names = "--model",
      description = "A model to use instead: NAME@ALIAS or NAME/VERSION (models:/ prefix optional). A model trained on a"
          + " view from conf/features scores each entity's current row into predictions/NAME.")
  String model;

  @Option(
      names = "--horizon-days",
      defaultValue = "7",
      description = "Demand: forecast the days --date+1 .. --date+N, N from 1 to " + ScoringOptions.MAX_HORIZON_DAYS
          + " (default: ${DEFAULT-VALUE}: what one feature build forecasts directly; longer horizons are forecast"
          + " recursively in 7-day blocks and need the price plan through --date+N).")
  int horizonDays;

  @Option(
      names = "--reconcile",
      defaultValue = "none",
      description = "Demand: none (default) or store: adjust item forecasts so that they sum to a reconciled store total"
          + " (variance-weighted with a seasonal forecast of the store's total sales).")
  String reconcile;

  @Option(
      names = "--replay",
      description = "Re-score the night exactly as before: the model version, feature-table version, horizon and"
          + " reconciliation of its manifest. With --model NAME (a model trained on a view from conf/features), that"
          + " model's night.")
  boolean replay;

  @Override
  public Integer call() {
    LocalDate d = Options.date("--date", date);
    ScoringOptions options = ScoringOptions.of(horizonDays, reconcile); // bad values fail before any Spark work
    List<UseCase> useCases = Options.useCases(useCase);
    String replayModel = null;
    if (replay && model != null) {
      // a model trained on a declared view: its nights are recorded under its name; the manifest names the version
      replayModel = model.contains("@") || model.startsWith("models:/") || model.matches(".*/\\d+")
          ? ModelUri.parse(model).name()
          : model.trim();
      for (UseCase u : UseCase.values()) {
        if (u.modelName().equals(replayModel)) {
          throw Errors.invalidOption(
              "--model", model,
              "the nights of " + replayModel + " are replayed by use case, with the model version of their"
                  + " manifests: drop --model and run 'nightshift score --date " + d + " --replay --use-case " + u.id()
                  + "'");
        }
      }
    }
    if (!options.isDefault()) {
      if (replay) {
        throw Errors.invalidOption(
            "--replay", d.toString(),
            "a replay uses the horizon and reconciliation of the night's manifest; drop --horizon-days and --reconcile");
      }
      if (model == null && !useCases.contains(UseCase.DEMAND)) {
        throw Errors.invalidOption(
            "--horizon-days/--reconcile", horizonDays + "/" + reconcile,
            "they apply to demand forecasts only; drop them or score with --use-case demand");
      }
    }
    PipelineSteps steps = new PipelineSteps(root.context());
    if (replayModel != null) {
      BatchScorer.Manifest m = steps.manifest(replayModel, d);
      ViewScorer.Result r = steps.replayView(replayModel, d, m);
      System.out.printf("%s: replayed %s with model version %s on feature table version %d: %d predictions -> %s%n",
          r.model(), d, r.modelVersion(), r.featureTableVersion(), r.rows(), r.table());
      printCodeChange(r.model(), m);
      return NightshiftCli.OK;
    }
    // with several use cases, every night is checked (models, feature tables, price plan) before the first is written
    List<Runnable> writes = new ArrayList<>();
    if (replay) {
      for (UseCase u : useCases) {
        BatchScorer.Manifest m = steps.manifest(u.id(), d);
        Prepared<BatchScorer.Result> night = steps.prepareReplay(u, d, m);
        writes.add(() -> {
          BatchScorer.Result r = night.write();
          System.out.printf(
              "%s: replayed %s with model version %s on feature table version %d%s: %d predictions -> %s%n",
              r.useCase(), d, r.modelVersion(), r.featureTableVersion(), describe(r), r.rows(), r.table());
          printCodeChange(r.useCase().toString(), m);
        });
      }
      writes.forEach(Runnable::run);
      return NightshiftCli.OK;
    }
    List<ModelUri> models = new ArrayList<>();
    if (model != null) {
      models.add(ModelUri.parse(model));
    } else {
      for (UseCase u : useCases) {
        models.add(ModelUri.alias(u.modelName(), "champion"));
      }
    }
    for (ModelUri m : models) {
      if (model != null) {
        io.nightshift.training.model.LoadedModel loaded = steps.load(m);
        if (ViewScorer.handles(loaded.metadata())) { // trained on a view declared in conf/features
          if (!options.isDefault()) {
            throw Errors.invalidOption("--horizon-days/--reconcile", options.describe(),
                "leave them out for " + m + ": it scores each entity's current row of features/"
                    + loaded.metadata().featureView() + "; they apply to the built-in demand forecast");
          }
          ViewScorer.Result r = steps.scoreView(loaded, d); // the one model of this run
          System.out.printf("%s: %d predictions for %s with %s (version %s, features/%s version %d) -> %s%n",
              r.model(), r.rows(), d, m, r.modelVersion(), loaded.metadata().featureView(), r.featureTableVersion(),
              r.table());
          continue;
        }
      }
      // --use-case all: the horizon and reconciliation are the demand forecast's
      boolean maintenance = model == null && m.name().equals(UseCase.MAINTENANCE.modelName());
      Prepared<BatchScorer.Result> night = steps.prepareScore(m, d, maintenance ? ScoringOptions.DEFAULT : options);
      writes.add(() -> {
        BatchScorer.Result r = night.write();
        System.out.printf(
            "%s: %d predictions for %s with %s (version %s, feature table version %d%s) -> %s%n",
            r.useCase(), r.rows(), d, m, r.modelVersion(), r.featureTableVersion(), describe(r), r.table());
      });
    }
    writes.forEach(Runnable::run);
    return NightshiftCli.OK;
  }

  private static String describe(BatchScorer.Result r) {
    return r.useCase() == UseCase.DEMAND && !r.options().isDefault() ? "; " + r.options().describe() : "";
  }

  /** The note on the code a replay ran, when it is not the code that scored the night (see Manifest#codeChange). */
  private static void printCodeChange(String what, BatchScorer.Manifest m) {
    String codeChange = m.codeChange(JobContext.codeVersion());
    if (codeChange != null) {
      System.out.printf("%s: note: %s%n", what, codeChange);
    }
  }
}
