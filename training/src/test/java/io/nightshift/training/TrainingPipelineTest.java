package io.nightshift.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.tables.DeltaTable;
import io.nightshift.core.NightshiftException;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.testing.SparkTestSession;
import io.nightshift.training.tracking.InMemoryRegistry;
import io.nightshift.training.tracking.ModelVersion;
import io.nightshift.training.tracking.TrackedRun;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.io.FileUtils;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The pipeline's races and failure paths, with an in-memory tracker and registry. */
class TrainingPipelineTest {
  static SparkSession spark;

  @BeforeAll
  static void setUp() {
    spark = SparkTestSession.get();
    TrainingFixtures.warehouse();
  }

  /** A warehouse of its own holding a copy of the fixtures' maintenance feature table, free to be changed. */
  private static Warehouse copyOfFeatures(ModelSpec spec) {
    Warehouse source = TrainingFixtures.warehouse();
    Warehouse copy = new Warehouse(SparkTestSession.tempDir("pipeline").toString());
    try {
      FileUtils.copyDirectory(new File(source.path(spec.view().table())), new File(copy.path(spec.view().table())));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return copy;
  }

  private static ModelSpec spec() {
    return TrainingFixtures.quick(ModelSpecs.maintenance(), 5);
  }

  @Test
  void trainsOnTheFeatureTableVersionItLogsWhileAnotherWriterChangesIt() {
    ModelSpec spec = spec();
    Warehouse warehouse = copyOfFeatures(spec);
    String path = warehouse.path(spec.view().table());
    long pinned = DeltaTables.version(spark, path);
    RecordingTracker tracker =
        new RecordingTracker() {
          @Override
          public TrackedRun startRun(String experiment, String runName, Map<String, String> tags) {
            // a concurrent writer empties the table after the run has read its version, before it trains
            DeltaTable.forPath(spark, path).delete();
            return super.startRun(experiment, runName, tags);
          }
        };

    TrainingPipeline.Outcome outcome =
        new TrainingPipeline(spark, warehouse, tracker, new InMemoryRegistry())
            .train(spec, TrainingFixtures.AS_OF, TrainingPipeline.Promotion.gated(), Map.of());

    assertThat(DeltaTables.version(spark, path)).isEqualTo(pinned + 1);
    assertThat(spark.read().format("delta").load(path).count()).isZero();
    assertThat(tracker.run(outcome.run().runId()).tags)
        .containsEntry("nightshift.feature_table_version", Long.toString(pinned));
    assertThat(outcome.model().trainRows()).isPositive(); // the rows of the logged version, not the emptied table
    assertThat(outcome.model().validationRows()).isPositive();
  }

  @Test
  void aFeatureTableChangedWhileTheQualityGateRanFailsTheTraining() {
    ModelSpec spec = spec();
    Warehouse warehouse = copyOfFeatures(spec);
    String path = warehouse.path(spec.view().table());
    long pinned = DeltaTables.version(spark, path);
    TrainingPipeline.requireVersion(spark, path, "features/maintenance", pinned);
    DeltaTable.forPath(spark, path).delete(); // another writer commits while the gate runs

    assertThatThrownBy(() -> TrainingPipeline.requireVersion(spark, path, "features/maintenance", pinned))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("changed from version " + pinned + " to " + (pinned + 1))
        .hasMessageContaining("Fix: re-run the training");
  }

  @Test
  void aChampionPromotedByAnotherRunAfterTheGateIsNotOverwritten() {
    ModelSpec spec = spec();
    Warehouse warehouse = copyOfFeatures(spec);
    InMemoryRegistry registry =
        new InMemoryRegistry() {
          boolean gateLookedUp;

          @Override
          public ModelVersion versionByAlias(String name, String alias) {
            if (alias.equals(TrainingPipeline.CHAMPION) && !gateLookedUp) {
              gateLookedUp = true;
              try {
                return super.versionByAlias(name, alias); // no champion yet: the gate sees a first model
              } finally {
                // meanwhile another run registers version 7 and promotes it
                promoteVersion7OfAnotherRun(this, name);
              }
            }
            return super.versionByAlias(name, alias);
          }
        };
    RecordingTracker tracker = new RecordingTracker();

    assertThatThrownBy(() -> gatedTraining(spec, warehouse, tracker, registry))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("Not moving @champion of " + spec.modelName() + " to version 1")
        .hasMessageContaining("another run promoted version 7 meanwhile")
        .hasMessageContaining("compared against no champion")
        .hasMessageContaining("Fix: re-run the training");
    assertThat(registry.aliases(spec.modelName())).containsEntry(TrainingPipeline.CHAMPION, "7");
    assertThat(registry.aliasMoves()).containsExactly("challenger=1");
    assertThat(tracker.runs.get(0).succeeded).isFalse();
    // the audit trail records the promotion that did not happen as rejected, and why
    assertThat(tracker.runs.get(0).tags)
        .containsEntry("nightshift.blessing", "REJECTED")
        .hasEntrySatisfying(
            "nightshift.blessing.reason",
            r -> assertThat(r).contains("another run promoted version 7 meanwhile").contains("no champion yet"));
    assertThat(tracker.runs.get(0).jsonArtifacts.get("blessing.json"))
        .contains("\"decision\" : \"REJECTED\"")
        .contains("another run promoted version 7 meanwhile");
  }

  /** The characters MLflow allows in a metric name (its server rejects a log-batch with any other). */
  private static final java.util.regex.Pattern MLFLOW_METRIC_NAME = java.util.regex.Pattern.compile("[\\w\\-. /:]+");

  @Test
  void perRoundCurvesOfAClassifierWithoutAnEvalMetricAreNamedAfterItsDefaultMetric() {
    Map<String, Object> params = new java.util.HashMap<>(spec().boosterParams());
    params.remove("eval_metric"); // binary:logistic evaluates logloss
    RecordingTracker tracker = new RecordingTracker();
    new TrainingPipeline(spark, TrainingFixtures.warehouse(), tracker, new InMemoryRegistry())
        .train(spec().withBoosterParams(params), TrainingFixtures.AS_OF, TrainingPipeline.Promotion.gated(), Map.of());

    assertThat(tracker.runs.get(0).histories).containsOnlyKeys("train-logloss", "valid-logloss");
    assertThat(tracker.runs.get(0).histories.get("valid-logloss")).hasSize(5);
  }

  @Test
  void withoutAnEvalMetricTheCurvesAreNamedAfterXgboostsDefaultMetricOfTheObjective() {
    ModelSpec demand = TrainingFixtures.quick(ModelSpecs.demand(), 5);
    Map<String, Object> params = new java.util.HashMap<>(demand.boosterParams());
    params.remove("eval_metric"); // reg:tweedie with tweedie_variance_power 1.3 evaluates tweedie-nloglik@1.3
    RecordingTracker tracker = new RecordingTracker();
    new TrainingPipeline(spark, TrainingFixtures.warehouse(), tracker, new InMemoryRegistry())
        .train(demand.withBoosterParams(params), TrainingFixtures.AS_OF, TrainingPipeline.Promotion.gated(), Map.of());

    assertThat(tracker.runs.get(0).histories)
        .containsOnlyKeys("train-tweedie-nloglik_at_1.3", "valid-tweedie-nloglik_at_1.3");
    assertThat(tracker.runs.get(0).histories.keySet()).allMatch(k -> MLFLOW_METRIC_NAME.matcher(k).matches());
  }

  @Test
  void aFailedChampionMoveIsRecordedAsNotPromotedAndFailsTheRun() {
    ModelSpec spec = spec();
    Warehouse warehouse = copyOfFeatures(spec);
    RuntimeException down = new IllegalStateException("HTTP 503 from the registry");
    InMemoryRegistry registry =
        new InMemoryRegistry() {
          @Override
          public void setAlias(String name, String alias, String version) {
            if (alias.equals(TrainingPipeline.CHAMPION)) {
              throw down;
            }
            super.setAlias(name, alias, version);
          }
        };
    RecordingTracker tracker = new RecordingTracker();

    assertThatThrownBy(() -> gatedTraining(spec, warehouse, tracker, registry))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("Could not move @champion of " + spec.modelName() + " to version 1")
        .hasMessageContaining("HTTP 503 from the registry")
        .hasRootCauseMessage("HTTP 503 from the registry");
    assertThat(registry.aliases(spec.modelName())).doesNotContainKey(TrainingPipeline.CHAMPION);
    assertThat(tracker.runs.get(0).succeeded).isFalse();
    assertThat(tracker.runs.get(0).tags)
        .containsEntry("nightshift.blessing", "REJECTED")
        .hasEntrySatisfying("nightshift.blessing.reason", r -> assertThat(r).contains("HTTP 503 from the registry"));
    assertThat(tracker.runs.get(0).jsonArtifacts.get("blessing.json"))
        .contains("\"decision\" : \"REJECTED\"")
        .contains("HTTP 503 from the registry");
  }

  @Test
  void aChampionMovedByAnotherRunAtTheSameMomentIsReportedNotClaimed() {
    ModelSpec spec = spec();
    Warehouse warehouse = copyOfFeatures(spec);
    InMemoryRegistry registry =
        new InMemoryRegistry() {
          @Override
          public void setAlias(String name, String alias, String version) {
            super.setAlias(name, alias, version);
            if (alias.equals(TrainingPipeline.CHAMPION)) {
              // another run's move lands right after this run's
              promoteVersion7OfAnotherRun(this, name);
            }
          }
        };
    RecordingTracker tracker = new RecordingTracker();

    assertThatThrownBy(() -> gatedTraining(spec, warehouse, tracker, registry))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("@champion of " + spec.modelName() + " names version 7")
        .hasMessageContaining("another run moved it at the same moment")
        .hasMessageContaining("Fix: ");
    assertThat(registry.aliases(spec.modelName())).containsEntry(TrainingPipeline.CHAMPION, "7");
    assertThat(tracker.runs.get(0).succeeded).isFalse();
    assertThat(tracker.runs.get(0).tags).containsEntry("nightshift.blessing", "REJECTED");
    assertThat(tracker.runs.get(0).jsonArtifacts.get("blessing.json")).contains("\"decision\" : \"REJECTED\"");
  }

  @Test
  void aFailingEndRunDoesNotMaskTheFailureNorKeepTheTempDir() {
    ModelSpec spec = spec();
    Warehouse warehouse = copyOfFeatures(spec);
    RuntimeException registryDown = new IllegalStateException("registry down");
    RuntimeException endRunFailed = new IllegalStateException("endRun failed");
    List<Path> uploaded = new ArrayList<>();
    RecordingTracker tracker =
        new RecordingTracker() {
          @Override
          public void logArtifacts(String runId, Path localDir, String artifactPath) {
            uploaded.add(localDir);
          }

          @Override
          public void endRun(String runId, boolean succeeded) {
            throw endRunFailed;
          }
        };
    InMemoryRegistry registry =
        new InMemoryRegistry() {
          @Override
          public ModelVersion createVersion(
              String name, String source, String runId, String description, Map<String, String> tags) {
            throw registryDown;
          }
        };

    assertThatThrownBy(() -> gatedTraining(spec, warehouse, tracker, registry))
        .isSameAs(registryDown)
        .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(endRunFailed));
    assertThat(uploaded).isNotEmpty();
    assertThat(uploaded.get(0).getParent()).doesNotExist(); // the model's temp dir
  }

  /** A gated training of {@code spec} on {@code warehouse} as of the fixtures' date. */
  private static void gatedTraining(
      ModelSpec spec, Warehouse warehouse, RecordingTracker tracker, InMemoryRegistry registry) {
    new TrainingPipeline(spark, warehouse, tracker, registry)
        .train(spec, TrainingFixtures.AS_OF, TrainingPipeline.Promotion.gated(), Map.of());
  }

  /** What another run of the same model does meanwhile: registers version 7 and moves @champion to it. */
  private static void promoteVersion7OfAnotherRun(InMemoryRegistry registry, String name) {
    registry.add(new ModelVersion(name, "7", "other-run", "mem://other-run/model", Map.of(), List.of()));
    registry.aliases(name).put(TrainingPipeline.CHAMPION, "7");
  }
}
