package io.nightshift.jobs;

import io.nightshift.core.UseCase;
import io.nightshift.scoring.BatchScorer;
import io.nightshift.scoring.ViewScorer;
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
      names = "--replay",
      description = "Re-score the night exactly as before: the model version and feature-table version of its manifest.")
  boolean replay;

  @Override
  public Integer call() {
    LocalDate d = Options.date("--date", date);
    PipelineSteps steps = new PipelineSteps(root.context());
    if (replay) {
      for (UseCase u : Options.useCases(useCase)) {
        BatchScorer.Result r = steps.replay(u, d);
        System.out.printf(
            "%s: replayed %s with model version %s on feature table version %d: %d predictions -> %s%n",
            r.useCase(), d, r.modelVersion(), r.featureTableVersion(), r.rows(), r.table());
      }
      return NightshiftCli.OK;
    }
    List<ModelUri> models = new ArrayList<>();
    if (model != null) {
      models.add(ModelUri.parse(model));
    } else {
      for (UseCase u : Options.useCases(useCase)) {
        models.add(ModelUri.alias(u.modelName(), "champion"));
      }
    }
    for (ModelUri m : models) {
      if (model != null) {
        io.nightshift.training.model.LoadedModel loaded = steps.load(m);
        if (ViewScorer.handles(loaded.metadata())) { // trained on a view declared in conf/features
          ViewScorer.Result r = steps.scoreView(loaded, d);
          System.out.printf("%s: %d predictions for %s with %s (version %s, features/%s version %d) -> %s%n",
              r.model(), r.rows(), d, m, r.modelVersion(), loaded.metadata().featureView(), r.featureTableVersion(),
              r.table());
          continue;
        }
      }
      BatchScorer.Result r = steps.score(m, d);
      System.out.printf(
          "%s: %d predictions for %s with %s (version %s, feature table version %d) -> %s%n",
          r.useCase(), r.rows(), d, m, r.modelVersion(), r.featureTableVersion(), r.table());
    }
    return NightshiftCli.OK;
  }
}
