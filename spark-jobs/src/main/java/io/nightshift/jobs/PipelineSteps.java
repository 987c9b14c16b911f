package io.nightshift.jobs;

import io.nightshift.featurestore.views.ViewDefinition;
import io.nightshift.featurestore.views.ViewDefinitions;
import io.nightshift.featurestore.views.ViewRegistry;
import io.nightshift.training.model.LoadedModel;
import io.nightshift.core.UseCase;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.featurestore.maintenance.MachineFeatures;
import io.nightshift.featurestore.quality.QualityGate;
import io.nightshift.scoring.BatchScorer;
import io.nightshift.scoring.Prepared;
import io.nightshift.scoring.ViewScorer;
import io.nightshift.scoring.ScoringOptions;
import io.nightshift.scoring.actions.ReplenishmentPlanner;
import io.nightshift.scoring.actions.WorkOrderPlanner;
import io.nightshift.scoring.monitoring.Monitor;
import io.nightshift.training.Device;
import io.nightshift.training.ModelSpec;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.TrainingPipeline;
import io.nightshift.training.tracking.ModelUri;
import java.time.LocalDate;

/** The pipeline's steps as the commands (and the demo) run them; each is a thin call into the library modules. */
final class PipelineSteps {
  private final JobContext ctx;

  PipelineSteps(JobContext ctx) {
    this.ctx = ctx;
  }

  SyntheticData.Summary generate(GeneratorConfig cfg) {
    ctx.stage("generate", "Generate synthetic raw data (seed " + cfg.seed() + ")");
    return SyntheticData.generate(ctx.spark(), ctx.warehouse(), cfg);
  }

  long buildFeatures(UseCase useCase, LocalDate asOf) {
    ctx.stage("features-build-" + useCase.id(), "Build " + QualityGate.view(useCase).name() + " as of " + asOf);
    return useCase == UseCase.DEMAND
        ? DemandFeatures.build(ctx.spark(), ctx.warehouse(), asOf)
        : MachineFeatures.build(ctx.spark(), ctx.warehouse(), asOf);
  }

  /**
   * Builds a declared feature view (validated first) through {@code asOf} and records the build in the registry:
   * only the days its table lacks, or the whole table with {@code backfill}.
   */
  ViewRegistry.Build buildView(java.nio.file.Path file, LocalDate asOf, boolean backfill) {
    ViewDefinition d = ViewDefinitions.load(file);
    ctx.stage("features-view-" + d.name(), "Build feature view " + d.name() + " as of " + asOf);
    return backfill
        ? ViewRegistry.build(ctx.spark(), ctx.warehouse(), d, file.toString(), java.util.Optional.of(asOf), true)
        : ViewRegistry.buildMissing(ctx.spark(), ctx.warehouse(), d, file.toString(), asOf);
  }

  /** Recomputes exactly the days {@code from..to} of a declared feature view. */
  ViewRegistry.Build buildViewRange(java.nio.file.Path file, LocalDate from, LocalDate to) {
    ViewDefinition d = ViewDefinitions.load(file);
    ctx.stage("features-view-" + d.name(), "Rebuild feature view " + d.name() + " for " + from + ".." + to);
    return ViewRegistry.buildRange(ctx.spark(), ctx.warehouse(), d, file.toString(), from, to);
  }

  /**
   * Quarantines the bad rows of a declared view right after {@code build} into the partition {@code asOf}: the rows
   * quarantined there before are replaced where the build recomputed them and kept elsewhere.
   */
  long quarantineView(java.nio.file.Path file, LocalDate asOf, ViewRegistry.Build build) {
    ViewDefinition d = ViewDefinitions.load(file);
    ctx.stage("features-quarantine-" + d.name(), "Quarantine bad rows of features/" + d.name());
    return QualityGate.quarantineView(
        ctx.spark(), ctx.warehouse(), d.name(), d.entities(), d.eventTime(), d.expectations(), asOf,
        build.recomputed(d.eventTime()));
  }

  /** Quarantines the bad rows of a built-in view right after {@link #buildFeatures} rebuilt its whole table. */
  long quarantine(UseCase useCase, LocalDate asOf) {
    ctx.stage("features-quarantine-" + useCase.id(), "Quarantine bad rows of " + QualityGate.view(useCase).name());
    return QualityGate.quarantine(
        ctx.spark(), ctx.warehouse(), useCase, asOf, org.apache.spark.sql.functions.lit(true));
  }

  QualityGate.Report checkFeatures(UseCase useCase, LocalDate asOf) {
    ctx.stage("features-check-" + useCase.id(), "Quality gate on " + QualityGate.view(useCase).name());
    return QualityGate.enforce(ctx.spark(), ctx.warehouse(), useCase, asOf);
  }

  TrainingPipeline.Outcome train(UseCase useCase, LocalDate asOf, TrainingPipeline.Promotion promotion) {
    return train(ModelSpecs.forUseCase(useCase).withoutSearch(), asOf, promotion, Device.CPU);
  }

  TrainingPipeline.Outcome train(
      ModelSpec spec, LocalDate asOf, TrainingPipeline.Promotion promotion, Device device) {
    if (device == Device.CUDA) {
      Device.requireGpus(ctx.spark());
    }
    ctx.stage("train-" + spec.view().useCase().id(), "Train " + spec.modelName() + " as of " + asOf + " on " + device.xgboostName());
    TrainingPipeline pipeline = new TrainingPipeline(ctx.spark(), ctx.warehouse(), ctx.tracker(), ctx.registry());
    return pipeline.train(spec.onDevice(device), asOf, promotion, JobContext.runTags("train"));
  }

  BatchScorer.Result score(ModelUri model, LocalDate date, ScoringOptions options) {
    return prepareScore(model, date, options).write();
  }

  /** Loads the model and checks the night's inputs; the predictions are written by {@link Prepared#write}. */
  Prepared<BatchScorer.Result> prepareScore(ModelUri model, LocalDate date, ScoringOptions options) {
    LoadedModel loaded = LoadedModel.load(ctx.registry(), model);
    String how = options.isDefault() ? "" : " (" + options.describe() + ")";
    String stage = "score-" + loaded.metadata().useCase();
    ctx.stage(stage, "Score " + model + " for " + date + how);
    return staged(stage + "-write", "Write the predictions of " + model + " for " + date + how,
        BatchScorer.prepare(ctx.spark(), ctx.warehouse(), loaded, date, JobContext.codeVersion(), options));
  }

  LoadedModel load(ModelUri model) {
    return LoadedModel.load(ctx.registry(), model);
  }

  /** Scores a model trained on a declared feature view (see {@link ViewScorer}). */
  ViewScorer.Result scoreView(LoadedModel loaded, LocalDate date) {
    String view = loaded.metadata().featureView();
    ctx.stage("features-check-" + view, "Quality gate on features/" + view + " before scoring");
    // the view's expectations come from its definition (conf/features/<view>.yaml, or the one shipped in the jar)
    QualityGate.enforceView(ctx.spark(), ctx.warehouse(),
        io.nightshift.training.FeatureViews.resolve(view, null, "model " + loaded.version().name(),
            UseCase.parseSelection("model use case", loaded.metadata().useCase()).get(0)),
        date);
    ctx.stage("score-" + loaded.version().name(), "Score " + loaded.version().name() + " version "
        + loaded.version().version() + " for " + date + " on features/" + loaded.metadata().featureView());
    return ViewScorer.score(ctx.spark(), ctx.warehouse(), loaded, date, JobContext.codeVersion(), null);
  }

  /**
   * The manifest of {@code key}'s night {@code date} (a use case's id, or the name of a model trained on a declared
   * view), which a replay follows.
   */
  BatchScorer.Manifest manifest(String key, LocalDate date) {
    return BatchScorer.manifest(ctx.spark(), ctx.warehouse(), key, date);
  }

  /**
   * Re-scores {@code date} for the model trained on a declared view named {@code modelName}, exactly as the night's
   * manifest {@code m} recorded it: the model version and feature-table version it names.
   */
  ViewScorer.Result replayView(String modelName, LocalDate date, BatchScorer.Manifest m) {
    LoadedModel loaded = LoadedModel.load(ctx.registry(), new ModelUri(m.modelName(), null, m.modelVersion()));
    ctx.stage("score-replay-" + modelName, "Replay " + modelName + " scoring of " + date + " (version "
        + m.modelVersion() + ", features/" + loaded.metadata().featureView() + " version " + m.featureTableVersion() + ")");
    return ViewScorer.replay(ctx.spark(), ctx.warehouse(), loaded, date, JobContext.codeVersion(), m);
  }

  /**
   * Re-scores a night as its manifest {@code m} says (model version, feature-table version, horizon,
   * reconciliation): the inputs are checked now, the night is written by {@link Prepared#write}.
   */
  Prepared<BatchScorer.Result> prepareReplay(UseCase useCase, LocalDate date, BatchScorer.Manifest m) {
    LoadedModel loaded = LoadedModel.load(ctx.registry(), new ModelUri(m.modelName(), null, m.modelVersion()));
    String stage = "score-replay-" + useCase.id();
    ctx.stage(stage, "Replay " + useCase.id() + " scoring of " + date);
    return staged(stage + "-write", "Write the replayed " + useCase.id() + " predictions of " + date,
        BatchScorer.prepareReplay(ctx.spark(), ctx.warehouse(), loaded, date, JobContext.codeVersion(), m));
  }

  ReplenishmentPlanner.Result planReplenishment(LocalDate date, double serviceLevel) {
    return prepareReplenishment(date, serviceLevel).write();
  }

  Prepared<ReplenishmentPlanner.Result> prepareReplenishment(LocalDate date, double serviceLevel) {
    ctx.stage("act-demand", "Plan replenishment orders for " + date);
    return staged("act-demand-write", "Write the replenishment orders of " + date,
        ReplenishmentPlanner.prepare(ctx.spark(), ctx.warehouse(), date, serviceLevel));
  }

  WorkOrderPlanner.Result planWorkOrders(LocalDate date, double threshold, int crews) {
    return prepareWorkOrders(date, threshold, crews).write();
  }

  Prepared<WorkOrderPlanner.Result> prepareWorkOrders(LocalDate date, double threshold, int crews) {
    ctx.stage("act-maintenance", "Plan work orders for " + date);
    return staged("act-maintenance-write", "Write the work orders of " + date,
        WorkOrderPlanner.prepare(ctx.spark(), ctx.warehouse(), date, threshold, crews));
  }

  /** Work orders from a remaining-useful-life model's predictions (see {@link WorkOrderPlanner#planFromRul}). */
  Prepared<WorkOrderPlanner.RulResult> prepareRulWorkOrders(LocalDate date, String model, double horizon, int crews) {
    ctx.stage("act-rul-" + model, "Plan work orders from " + model + " remaining-life predictions for " + date);
    return staged("act-rul-" + model + "-write", "Write the work orders from " + model + " for " + date,
        WorkOrderPlanner.prepareFromRul(ctx.spark(), ctx.warehouse(), date, model, horizon, crews));
  }

  private <R> Prepared<R> staged(String stage, String description, Prepared<R> output) {
    return () -> {
      ctx.stage(stage, description);
      return output.write();
    };
  }

  Monitor.Result monitor(UseCase useCase, LocalDate date) {
    ctx.stage("monitor-" + useCase.id(), "Monitor " + useCase.id() + " predictions of " + date);
    return Monitor.run(ctx.spark(), ctx.warehouse(), ctx.registry(), useCase, date);
  }

  /** The newest night monitored for {@code useCase}, if any. */
  java.util.Optional<LocalDate> newestMonitored(UseCase useCase) {
    return Monitor.newestMonitored(ctx.spark(), ctx.warehouse(), useCase);
  }
}
