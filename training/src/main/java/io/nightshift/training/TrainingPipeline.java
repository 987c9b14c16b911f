package io.nightshift.training;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.NightshiftException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.quality.QualityGate;
import io.nightshift.training.report.Charts;
import io.nightshift.training.model.LoadedModel;
import io.nightshift.training.model.MlModelWriter;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.tracking.DatasetInput;
import io.nightshift.training.tracking.ExperimentTracker;
import io.nightshift.training.tracking.ModelRegistry;
import io.nightshift.training.tracking.ModelUri;
import io.nightshift.training.tracking.ModelVersion;
import io.nightshift.training.tracking.TrackedRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains one use case's model as of a date and publishes it: the quality gate on the feature table, XGBoost
 * training, an MLflow run (params, metrics, per-round curves, dataset input, tags, the model in MLflow's xgboost
 * flavor, feature importance), a new registered model version as {@code @challenger}, and the promotion gate that
 * decides whether it becomes {@code @champion} (its evidence is the run's blessing record).
 */
public final class TrainingPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingPipeline.class);

  private final SparkSession spark;
  private final Warehouse warehouse;
  private final ExperimentTracker tracker;
  private final ModelRegistry registry;

  public TrainingPipeline(
      SparkSession spark, Warehouse warehouse, ExperimentTracker tracker, ModelRegistry registry) {
    this.spark = spark;
    this.warehouse = warehouse;
    this.tracker = tracker;
    this.registry = registry;
  }

  /** What a training published: the new version (always {@code @challenger}) and the promotion decision. */
  public record Outcome(
      UseCase useCase,
      TrackedRun run,
      ModelVersion version,
      TrainedModel model,
      PromotionGate.Decision decision,
      String runUrl,
      Map<String, Double> runMetrics) {
    public boolean promoted() {
      return decision.promote();
    }
  }

  /** How a new version may replace the champion. */
  public record Promotion(double margin, boolean force) {
    public static Promotion gated() {
      return new Promotion(0.0, false);
    }
  }

  public static final String CHAMPION = "champion";
  public static final String CHALLENGER = "challenger";

  /**
   * Trains, registers the new version as {@code @challenger}, and moves {@code @champion} to it when the promotion
   * gate passes (or when there is no champion yet, or when {@code promotion.force()}).
   *
   * @param tags extra run tags (source, git commit, orchestrator ids)
   */
  public Outcome train(ModelSpec spec, LocalDate asOf, Promotion promotion, Map<String, String> tags) {
    FeatureView view = spec.view();
    UseCase useCase = view.useCase();
    boolean declared = !view.table().equals(view.name()); // a view from conf/features, not a built-in one
    String path = warehouse.path(view.table());
    // pin one version of the feature table: the rows trained, backtested and gated on are the ones the run logs
    DeltaTables.requireTable(spark, path, view.name(), declared
        ? "run 'nightshift features build --view conf/features/" + view.name() + ".yaml --as-of " + asOf + "' first"
        : "run 'nightshift features build --as-of " + asOf + "' first");
    long tableVersion = DeltaTables.version(spark, path);
    Dataset<Row> table = DeltaTables.readVersion(spark, path, view.name(), tableVersion);
    DeltaTables.requireColumns(table, view.name(), view.features());
    QualityGate.Report gate = declared
        ? QualityGate.enforceView(spark, warehouse, view, asOf)
        : QualityGate.enforce(spark, warehouse, useCase, asOf);
    requireVersion(spark, path, view.name(), tableVersion);

    Map<String, String> runTags = new LinkedHashMap<>(tags);
    runTags.put("nightshift.use_case", useCase.id());
    runTags.put("nightshift.as_of", asOf.toString());
    runTags.put("nightshift.feature_table_version", Long.toString(tableVersion));
    runTags.put("nightshift.feature_view", view.name());
    runTags.put("nightshift.task", spec.task().name().toLowerCase(java.util.Locale.ROOT));
    runTags.put("spark.app.id", spark.sparkContext().applicationId());
    runTags.put("mlflow.note.content", note(spec, asOf, path, tableVersion));
    String runName = (declared ? spec.modelName() : useCase.id()) + "-train-" + asOf;
    TrackedRun run = tracker.startRun("nightshift-" + useCase.id(), runName, runTags);
    LOG.info("MLflow run {} started: {}", run.runId(), tracker.runUrl(run));
    boolean ok = false;
    Throwable failure = null;
    Path tmp = null;
    try {
      TrainedModel model;
      HyperparameterSearch.Result search = null;
      if (spec.evaluation().search() != null) {
        search =
            HyperparameterSearch.run(spark, table, spec, asOf, tracker, "nightshift-" + useCase.id(), run, runName);
        Map<String, Object> best = new java.util.HashMap<>(spec.boosterParams());
        best.putAll(search.best().params());
        spec = spec.withBoosterParams(best);
        tracker.setTags(run.runId(), Map.of(
            "nightshift.search.best_run_id", search.best().runId(), "nightshift.search.selection", search.selection()));
      }
      // with a search, the winning parameters are refit as of the run's date: the trials validated on earlier rows
      // (or other entities), and the final validation, which the promotion gate uses, played no part in the choice
      model = XGBoostTrainer.train(spark, table, spec, asOf);
      tracker.logParams(run.runId(), spec.asParams());
      Backtest.Result backtest = spec.evaluation().backtestFolds() > 1
          ? Backtest.run(spark, table, spec, asOf, model)
          : null;
      Map<String, Double> metrics = new LinkedHashMap<>(model.metrics());
      if (backtest != null) {
        metrics.putAll(backtest.summary());
        for (Map.Entry<String, float[]> h : backtest.histories().entrySet()) {
          tracker.logMetricHistory(run.runId(), h.getKey(), h.getValue());
        }
      }
      if (search != null) {
        metrics.put("search_trials", (double) search.trials().size());
        metrics.put("search_best_" + search.metric(), search.best().score());
      }
      metrics.put("train_rows", (double) model.trainRows());
      metrics.put("quality_checks", (double) gate.checks().size());
      tracker.logMetrics(run.runId(), metrics);
      tracker.logMetricHistory(run.runId(), model.curveKey("train"), model.trainCurve());
      tracker.logMetricHistory(run.runId(), model.curveKey("valid"), model.validationCurve());
      tracker.logDatasetInput(
          run.runId(),
          new DatasetInput(view.name(), path, tableVersion, model.trainRows(), view.features(), "training"));
      tracker.logDatasetInput(
          run.runId(),
          new DatasetInput(
              view.name() + " (validation)", path, tableVersion, model.validationRows(), view.features(),
              "validation"));

      ModelMetadata metadata =
          new ModelMetadata(
              spec.modelName(),
              useCase.id(),
              spec.task().name(),
              view.name(),
              view.keys(),
              view.dateColumn(),
              view.labelColumn(),
              view.features(),
              asOf.toString(),
              path,
              tableVersion,
              text(model.trainStart()),
              text(model.trainEnd()),
              text(model.validationStart()),
              text(model.validationEnd()),
              model.residualStd(),
              model.metrics(),
              model.baseline(),
              spec.entitySplit() == null ? null : spec.validationScheme());
      tmp = Files.createTempDirectory("nightshift-model");
      MlModelWriter.write(tmp.resolve("model"), model.booster(), metadata, run.runId());
      writeReports(tmp.resolve("reports"), spec, model, gate, backtest, search);
      tracker.logArtifacts(run.runId(), tmp.resolve("model"), "model");
      tracker.logArtifacts(run.runId(), tmp.resolve("reports"), "");

      ModelVersion version =
          registry.createVersion(
              spec.modelName(),
              run.artifactUri() + "/model",
              run.runId(),
              useCase.id() + " model trained as of " + asOf,
              Map.of("nightshift.use_case", useCase.id(), "nightshift.as_of", asOf.toString()));
      registry.setAlias(spec.modelName(), CHALLENGER, version.version());
      PromotionGate.Decision decision = gate(spec, table, PromotionGate.windows(model, backtest), promotion);
      NightshiftException failed = null;
      if (decision.promote()) {
        // the record below says what happened to @champion, so the alias moves first
        String compared = decision.championVersion() == null ? "" : decision.championVersion();
        // re-read right before the move: another run may have moved @champion since the gate read it
        String current = currentChampion(spec.modelName());
        String problem = null;
        if (!current.equals(compared)) {
          problem =
              "Not moving @" + CHAMPION + " of " + spec.modelName() + " to version " + version.version()
                  + ": " + (current.isEmpty() ? "@" + CHAMPION + " was removed" : "another run promoted version "
                  + current) + " meanwhile, and the promotion gate compared against "
                  + (compared.isEmpty() ? "no champion" : "version " + compared) + ". Version " + version.version()
                  + " stays @" + CHALLENGER + ". Fix: re-run the training so that the promotion gate compares against"
                  + " the current champion.";
          failed = new NightshiftException(problem);
        } else {
          try {
            registry.setAlias(spec.modelName(), CHAMPION, version.version());
          } catch (RuntimeException e) {
            problem =
                "Could not move @" + CHAMPION + " of " + spec.modelName() + " to version " + version.version() + ": "
                    + e.getMessage() + ". Version " + version.version() + " stays @" + CHALLENGER + " and the run"
                    + " records it as not promoted. Fix: check that the MLflow server answers (scripts/mlflow.sh"
                    + " status), then re-run the training.";
            failed = new NightshiftException(problem, e);
          }
          if (failed == null) {
            // MLflow has no compare-and-set for aliases: a run moving it at the same moment shows in a read-back
            String moved = championAfterMove(spec.modelName(), version.version());
            if (!moved.equals(version.version())) {
              problem =
                  "@" + CHAMPION + " of " + spec.modelName() + " names version "
                      + (moved.isEmpty() ? "none" : moved) + " right after this run moved it to version "
                      + version.version() + ": another run moved it at the same moment (MLflow cannot move an alias"
                      + " only if it still names the version compared against). Version " + version.version()
                      + " stays @" + CHALLENGER + ". Fix: run one training of " + spec.modelName() + " at a time;"
                      + " re-run this training so that the promotion gate compares against the current champion.";
              failed = new NightshiftException(problem);
            }
          }
        }
        if (problem != null) {
          decision = decision.rejected(problem + " (the gate had promoted it: " + decision.reason() + ")");
        }
      }
      Path blessing = tmp.resolve("blessing");
      Files.createDirectories(blessing);
      Files.write(
          blessing.resolve("blessing.json"),
          new com.fasterxml.jackson.databind.ObjectMapper()
              .writerWithDefaultPrettyPrinter()
              .writeValueAsBytes(decision.asRecord()));
      tracker.logArtifacts(run.runId(), blessing, "");
      Map<String, String> outcomeTags = new LinkedHashMap<>();
      outcomeTags.put("nightshift.registered_version", version.version());
      outcomeTags.put("nightshift.blessing", decision.promote() ? "PROMOTED" : "REJECTED");
      outcomeTags.put("nightshift.blessing.reason", decision.reason());
      tracker.setTags(run.runId(), outcomeTags);
      if (failed != null) {
        throw failed;
      }
      ok = true;
      LOG.info(
          "Registered {} version {} as @{}{}: {}; validation {}",
          spec.modelName(), version.version(), CHALLENGER, decision.promote() ? " and @" + CHAMPION : "",
          decision.reason(), model.metrics());
      return new Outcome(useCase, run, version, model, decision, tracker.runUrl(run), metrics);
    } catch (IOException e) {
      UncheckedIOException unchecked = new UncheckedIOException(e);
      failure = unchecked;
      throw unchecked;
    } catch (Throwable e) {
      failure = e;
      throw e;
    } finally {
      try {
        endRun(tracker, run.runId(), ok, failure);
      } finally {
        deleteQuietly(tmp);
      }
    }
  }

  /**
   * Ends a run without masking the failure that ended it: when the training already failed ({@code failure} not
   * null), a failing {@code endRun} is added to that failure as suppressed and the training's own exception is the one
   * thrown; after a success it is thrown.
   */
  static void endRun(ExperimentTracker tracker, String runId, boolean ok, Throwable failure) {
    try {
      tracker.endRun(runId, ok);
    } catch (RuntimeException | Error e) {
      if (failure == null) {
        throw e;
      }
      failure.addSuppressed(e);
      LOG.warn("Could not mark MLflow run {} as failed: {}", runId, e.toString());
    }
  }

  /**
   * Fails unless the feature table is still at {@code version}. The quality gate reads the table's latest version
   * itself, so this check after it proves that the gate judged the pinned version the run trains on.
   */
  static void requireVersion(SparkSession spark, String path, String name, long version) {
    long now = DeltaTables.version(spark, path);
    if (now != version) {
      throw new NightshiftException(
          "Feature table " + name + " (" + path + ") changed from version " + version + " to " + now + " while the"
              + " quality gate ran, so the gate did not judge the rows this run would train on. Fix: re-run the"
              + " training once the feature build writing " + name + " has finished.");
    }
  }

  /**
   * The champion version now ("" when there is none), to check that no other run moved {@code @champion} since the
   * promotion gate compared against it. Only MLflow saying that the alias or the model does not exist means none
   * (see MlflowRegistry.versionByAlias); any other failure fails the training.
   */
  private String currentChampion(String model) {
    try {
      return registry.versionByAlias(model, CHAMPION).version();
    } catch (InvalidInputException noChampion) {
      return "";
    }
  }

  /**
   * {@code @champion} read back right after this run moved it to {@code moved}. The move succeeded, so a failing
   * read-back leaves it as moved (with a warning) rather than failing a promotion that happened.
   */
  private String championAfterMove(String model, String moved) {
    try {
      return currentChampion(model);
    } catch (RuntimeException e) {
      LOG.warn("Moved @{} of {} to version {} but could not read it back: {}", CHAMPION, model, moved, e.toString());
      return moved;
    }
  }

  private PromotionGate.Decision gate(
      ModelSpec spec, Dataset<Row> table, List<PromotionGate.Window> windows, Promotion promotion) {
    // only an unknown alias or model means "no champion": a champion whose files cannot be read fails the training
    String championVersion = currentChampion(spec.modelName());
    if (championVersion.isEmpty()) {
      return PromotionGate.firstModel(promotion.margin());
    }
    LoadedModel champion = LoadedModel.load(registry, new ModelUri(spec.modelName(), null, championVersion));
    PromotionGate.Decision d =
        PromotionGate.evaluate(table, spec, windows, champion, promotion.margin(), spec.seed());
    if (promotion.force() && !d.promote()) {
      return d.forced("forced (--force-promote); the gate said: " + d.reason());
    }
    return d;
  }

  private static void writeReports(
      Path dir, ModelSpec spec, TrainedModel model, QualityGate.Report gate, Backtest.Result backtest,
      HyperparameterSearch.Result search)
      throws IOException {
    Files.createDirectories(dir);
    StringBuilder csv = new StringBuilder("feature,total_gain,share\n");
    double total = model.importance().values().stream().mapToDouble(Double::doubleValue).sum();
    model.importance()
        .forEach((f, g) -> csv.append(f).append(',').append(g).append(',').append(total == 0 ? 0 : g / total).append('\n'));
    Files.writeString(dir.resolve("feature_importance.csv"), csv, StandardCharsets.UTF_8);
    Map<String, Double> top = new LinkedHashMap<>();
    model.importance().entrySet().stream()
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .limit(25)
        .forEach(e -> top.put(e.getKey(), total == 0 ? 0 : e.getValue() / total));
    Charts.bars(dir.resolve("feature_importance.png"), "Feature importance (share of total gain)", "feature",
        "share of gain", top, null);
    boolean classifier = spec.task() == Task.BINARY_CLASSIFICATION;
    Charts.predictedVsActual(
        dir.resolve("predicted_vs_actual.png"),
        classifier
            ? "Calibration on the validation window (per decile of predicted probability)"
            : "Predicted vs actual on the validation window (" + model.predictedVsActual().actual().length + " rows)",
        model.predictedVsActual().actual(),
        model.predictedVsActual().predicted());
    Files.writeString(dir.resolve("quality_gate.txt"), gate.render() + "\n", StandardCharsets.UTF_8);
    if (!model.segmentMetrics().isEmpty()) {
      Files.writeString(
          dir.resolve("validation_segments.csv"),
          new Backtest.Result(List.of(Backtest.Fold.of(0, model.validationEnd(), model))).segmentsCsv(),
          StandardCharsets.UTF_8);
    }
    if (backtest != null) {
      Files.writeString(dir.resolve("backtest.csv"), backtest.csv(), StandardCharsets.UTF_8);
      String segments = backtest.segmentsCsv();
      if (segments != null) {
        Files.writeString(dir.resolve("backtest_segments.csv"), segments, StandardCharsets.UTF_8);
      }
    }
    if (search != null) {
      Files.writeString(dir.resolve("search_trials.csv"), search.csv(), StandardCharsets.UTF_8);
    }
  }

  private static String note(ModelSpec spec, LocalDate asOf, String path, long version) {
    return "**" + spec.modelName() + "** trained by Nightshift as of " + asOf + " on `" + path + "` (Delta version "
        + version + "); objective `" + spec.objective() + "`, " + spec.numRound() + " rounds, validation on "
        + spec.validationScheme() + ".";
  }

  private static String text(LocalDate d) {
    return d == null ? null : d.toString();
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("Could not delete temp dir {}: {}", dir, e.getMessage());
    }
  }
}
