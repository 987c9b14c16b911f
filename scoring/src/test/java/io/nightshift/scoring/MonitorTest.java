package io.nightshift.scoring;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.scoring.monitoring.Monitor;
import io.nightshift.training.ModelSpec;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.TrainedModel;
import io.nightshift.training.XGBoostTrainer;
import io.nightshift.training.model.LoadedModel;
import io.nightshift.training.model.MlModelWriter;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.tracking.InMemoryRegistry;
import io.nightshift.training.tracking.ModelUri;
import io.nightshift.testing.SparkTestSession;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** Drift against the baseline stored with the model, on a planted shift. */
class MonitorTest {
  static final LocalDate D = LocalDate.of(2023, 9, 30);

  @Test
  void plantedShiftInOneFeatureRaisesDriftSignalsForThatFeatureAndThePredictionsOnly() throws java.io.IOException {
    SparkSession spark = SparkTestSession.get();
    Champion c = champion(spark, "monitor", 5, 10, 20);
    Warehouse warehouse = c.warehouse();
    String path = c.path();
    InMemoryRegistry registry = c.registry();
    LoadedModel model = c.model();
    assertThat(c.trained().baseline()).containsKeys("rmean_28", "price", "prediction");
    assertThat(c.trained().baseline().get("rmean_28").fractions())
        .hasSize(c.trained().baseline().get("rmean_28").edges().size() + 2);

    // the night before is monitored too: re-running D must leave its rows as they are
    LocalDate dayBefore = D.minusDays(1);
    BatchScorer.score(spark, warehouse, model, dayBefore, "test");
    BatchScorer.score(spark, warehouse, model, D, "test");
    Monitor.Result previous = Monitor.run(spark, warehouse, registry, UseCase.DEMAND, dayBefore);
    assertThat(previous.drift()).isNotEmpty();
    List<Row> driftBefore = rowsOf(spark, warehouse, "feature_drift", "monitor_date", dayBefore);
    List<Row> signalsBefore = rowsOf(spark, warehouse, "retraining_signals", "signal_date", dayBefore);
    assertThat(driftBefore).hasSize(previous.drift().size());
    Monitor.Result before = Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D);
    assertThat(psi(before, "rmean_28")).isLessThan(0.25);
    assertThat(before.drift()).extracting(r -> r.<String>getAs("column"))
        .contains("rmean_28", "lag_7", "price", "prediction")
        .doesNotContain("day_of_year", "store_id");
    assertThat(before.signals()).isEmpty();
    assertThat(before.retrain()).isFalse();

    // plant a shift: tonight's 28-day means triple
    Dataset<Row> table = spark.read().format("delta").load(path);
    Dataset<Row> shifted =
        table.withColumn("rmean_28",
            when(col("date").gt(lit(Date.valueOf(D))), col("rmean_28").multiply(3)).otherwise(col("rmean_28")));
    DeltaTables.overwrite(shifted.localCheckpoint(), path);
    // the night was scored before the shift: its drift is measured on the version it was scored from, not the latest
    Monitor.Result unchanged = Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D);
    assertThat(unchanged.drift()).containsExactlyElementsOf(before.drift());
    assertThat(unchanged.signals()).isEmpty();
    // scored again from the shifted table, the night drifts
    BatchScorer.score(spark, warehouse, model, D, "test");
    Monitor.Result after = Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D);
    assertThat(psi(after, "rmean_28")).isGreaterThanOrEqualTo(0.25);
    assertThat(psi(after, "price")).isEqualTo(psi(before, "price"));
    // no other feature signals; the predictions, made from the shifted feature, drift too
    assertThat(after.signals()).extracting(r -> r.<String>getAs("subject"))
        .containsExactlyInAnyOrder("rmean_28", "prediction");
    assertThat(after.retrain()).isTrue();
    // the plots of the night: drift per feature and forecast vs actual, real PNG files under reports/
    assertThat(after.plots()).hasSize(2);
    java.nio.file.Path dir = java.nio.file.Path.of(warehouse.reports("monitoring/demand/" + D));
    assertThat(dir.resolve("feature_drift.png")).exists();
    assertThat(javax.imageio.ImageIO.read(dir.resolve("forecast_vs_actual.png").toFile()).getWidth()).isPositive();
    // re-running the night replaces its rows (not added to them), and the night before keeps its own
    Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D);
    assertThat(rowsOf(spark, warehouse, "feature_drift", "monitor_date", D)).hasSize(after.drift().size());
    assertThat(spark.read().format("delta").load(warehouse.monitoring("retraining_signals"))
        .where("signal_date = '" + D + "' AND kind = 'drift' AND subject = 'rmean_28'").count()).isEqualTo(1);
    assertThat(rowsOf(spark, warehouse, "retraining_signals", "signal_date", D)).hasSize(2);
    assertThat(rowsOf(spark, warehouse, "feature_drift", "monitor_date", dayBefore)).isEqualTo(driftBefore);
    assertThat(rowsOf(spark, warehouse, "retraining_signals", "signal_date", dayBefore)).isEqualTo(signalsBefore);
    assertThat(spark.read().format("delta").load(warehouse.monitoring("feature_drift")).count())
        .isEqualTo(driftBefore.size() + after.drift().size());

    // a night that cannot be monitored (the model version that scored it is gone from the registry) writes nothing
    LocalDate unmonitored = D.minusDays(2);
    BatchScorer.score(spark, warehouse, model, unmonitored, "test");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Monitor.run(spark, warehouse, new InMemoryRegistry(), UseCase.DEMAND, unmonitored))
        .hasMessageContaining("Unknown model: no registered model named nightshift-demand");
    for (String t : List.of("prediction_stats", "accuracy", "feature_drift")) {
      assertThat(rowsOf(spark, warehouse, t, "monitor_date", unmonitored)).as(t).isEmpty();
    }

    // the feature table rebuilt without the night's rows: the version the night was scored from still holds them
    DeltaTables.overwrite(
        spark.read().format("delta").load(path).where(col("date").leq(lit(Date.valueOf(D)))).localCheckpoint(), path);
    assertThat(Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D).drift())
        .containsExactlyElementsOf(after.drift());

    // the feature table recreated, so the version the night was scored from is gone: its features' drift is not
    // measured (an empty sample is not the largest drift there is), the prediction's still is, and no feature raises
    // a signal
    long scoredFrom = spark.read().format("delta").load(warehouse.predictions(UseCase.DEMAND))
        .where(col("score_date").equalTo(lit(Date.valueOf(D)))).select("feature_table_version").head().getLong(0);
    assertThat(scoredFrom).isPositive();
    Dataset<Row> scoredRows =
        spark.read().format("delta").option("versionAsOf", scoredFrom).load(path).localCheckpoint();
    Dataset<Row> kept = spark.read().format("delta").load(path).localCheckpoint();
    org.apache.commons.io.FileUtils.deleteDirectory(new java.io.File(path));
    DeltaTables.overwrite(kept, path);
    Monitor.Result gone = Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D);
    assertFeaturesNotMeasured(gone);
    assertThat(psi(gone, "prediction")).isEqualTo(psi(after, "prediction"));
    assertThat(gone.signals()).extracting(r -> r.<String>getAs("subject")).containsExactly("prediction");
    assertThat(gone.plots()).hasSize(2);

    // recreated again and overwritten night after night until its version numbers pass the one the night was scored
    // from: that version number of the new table is other data (here the night's rows with a planted shift in
    // price), not what the night saw, so its features' drift is still not measured rather than a drift alarm
    org.apache.commons.io.FileUtils.deleteDirectory(new java.io.File(path));
    Dataset<Row> repriced = scoredRows.withColumn("price", col("price").multiply(5)).localCheckpoint();
    do {
      DeltaTables.overwrite(repriced, path);
    } while (DeltaTables.version(spark, path) <= scoredFrom);
    Monitor.Result recreated = Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D);
    assertFeaturesNotMeasured(recreated);
    assertThat(psi(recreated, "prediction")).isEqualTo(psi(after, "prediction"));
    assertThat(recreated.signals()).extracting(r -> r.<String>getAs("subject")).containsExactly("prediction");
    assertThat(rowsOf(spark, warehouse, "feature_drift", "monitor_date", D))
        .filteredOn(r -> "no_data".equals(r.getAs("status"))).hasSize(recreated.drift().size() - 1);
  }

  @Test
  void aScoredVersionWhoseFilesWereVacuumedIsNotMeasuredInsteadOfFailingTheNight() {
    SparkSession spark = SparkTestSession.get();
    Champion c = champion(spark, "monitor-vacuum", 3, 4, 10);
    Warehouse warehouse = c.warehouse();
    String path = c.path();
    InMemoryRegistry registry = c.registry();
    LoadedModel model = c.model();
    BatchScorer.score(spark, warehouse, model, D, "test");
    Monitor.Result measured = Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D);
    assertThat(measured.drift()).extracting(r -> r.<String>getAs("status")).doesNotContain("no_data");

    // the table is rewritten and VACUUM removes the files of the version the night was scored from (its log stays)
    Vacuum.rewriteAndRemoveOldFiles(spark, path);
    Monitor.Result vacuumed = Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D);
    assertFeaturesNotMeasured(vacuumed);
    assertThat(psi(vacuumed, "prediction")).isEqualTo(psi(measured, "prediction"));
    assertThat(rowsOf(spark, warehouse, "feature_drift", "monitor_date", D)).hasSize(vacuumed.drift().size());
  }

  @Test
  void aNightScoredForFewerThanSevenDaysIsProfiledOnTheDaysItScored() {
    SparkSession spark = SparkTestSession.get();
    Champion c = champion(spark, "monitor-short-horizon", 3, 4, 10);
    ScoringOptions twoDays = new ScoringOptions(2, ScoringOptions.Reconciliation.NONE);
    BatchScorer.score(spark, c.warehouse(), c.model(), D, "test", twoDays);
    Monitor.Result plain = Monitor.run(spark, c.warehouse(), c.registry(), UseCase.DEMAND, D);
    assertThat(plain.stats().<Long>getAs("rows")).isEqualTo(2L * 3 * 4);

    // plant a shift in days 3..7 after the night, which a two-day forecast never scores, and score the night again
    // from that version: what it scored is unchanged, and so is its drift
    Dataset<Row> table = spark.read().format("delta").load(c.path());
    DeltaTables.overwrite(table.withColumn("rmean_28",
        when(col("date").gt(lit(Date.valueOf(D.plusDays(2)))), col("rmean_28").multiply(3)).otherwise(col("rmean_28")))
        .localCheckpoint(), c.path());
    BatchScorer.score(spark, c.warehouse(), c.model(), D, "test", twoDays);
    Monitor.Result shifted = Monitor.run(spark, c.warehouse(), c.registry(), UseCase.DEMAND, D);

    assertThat(psi(shifted, "rmean_28")).isEqualTo(psi(plain, "rmean_28")).isLessThan(0.25);
    assertThat(shifted.drift()).containsExactlyElementsOf(plain.drift());
    assertThat(shifted.signals()).extracting(r -> r.<String>getAs("subject")).doesNotContain("rmean_28");
  }

  @Test
  void aNightWhosePlotsCannotBeWrittenLeavesTheMonitoringTablesAsTheyWere() throws java.io.IOException {
    SparkSession spark = SparkTestSession.get();
    Champion c = champion(spark, "monitor-plots-fail", 3, 4, 10);
    Warehouse warehouse = c.warehouse();
    BatchScorer.score(spark, warehouse, c.model(), D.minusDays(1), "test");
    BatchScorer.score(spark, warehouse, c.model(), D, "test");
    Monitor.run(spark, warehouse, c.registry(), UseCase.DEMAND, D.minusDays(1));
    List<String> tables = List.of("prediction_stats", "accuracy", "feature_drift", "retraining_signals");
    Map<String, Long> versions = new java.util.LinkedHashMap<>();
    tables.forEach(t -> versions.put(t, DeltaTables.version(spark, warehouse.monitoring(t))));

    // the night's report folder is a plain file: its plots cannot be written
    java.nio.file.Path dir = java.nio.file.Path.of(warehouse.reports("monitoring/demand/" + D));
    java.nio.file.Files.createDirectories(dir.getParent());
    java.nio.file.Files.writeString(dir, "not a folder");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Monitor.run(spark, warehouse, c.registry(), UseCase.DEMAND, D))
        .hasMessageContaining("Cannot write the monitoring plots to");

    Map<String, Long> after = new java.util.LinkedHashMap<>();
    tables.forEach(t -> after.put(t, DeltaTables.version(spark, warehouse.monitoring(t))));
    assertThat(after).isEqualTo(versions);
    for (String t : List.of("prediction_stats", "accuracy", "feature_drift")) {
      assertThat(rowsOf(spark, warehouse, t, "monitor_date", D)).as(t).isEmpty();
    }
  }

  /** A warehouse of generated sales as of {@link #D}, their demand features, and a model of them as @champion. */
  private record Champion(
      Warehouse warehouse, String path, TrainedModel trained, InMemoryRegistry registry, LoadedModel model) {}

  private static Champion champion(SparkSession spark, String dir, int stores, int items, int rounds) {
    Warehouse warehouse = new Warehouse(SparkTestSession.tempDir(dir).toString());
    SyntheticData.generate(spark, warehouse, new GeneratorConfig(9, LocalDate.of(2023, 1, 1), D, stores, items, 2, 14));
    DemandFeatures.build(spark, warehouse, D);
    ModelSpec base = ModelSpecs.demand();
    ModelSpec spec = new ModelSpec(base.modelName(), base.task(), base.view(), base.boosterParams(), rounds, 28, 0, 1);
    String path = warehouse.features(UseCase.DEMAND);
    TrainedModel trained = XGBoostTrainer.train(spark, spark.read().format("delta").load(path), spec, D);
    InMemoryRegistry registry = new InMemoryRegistry();
    ModelMetadata meta =
        new ModelMetadata(spec.modelName(), "demand", spec.task().name(), spec.view().name(), spec.view().keys(), "date",
            "sales", spec.view().features(), D.toString(), path, 0, "", "", "", "", trained.residualStd(),
            trained.metrics(), trained.baseline());
    registry.putFiles("mem://m", Map.of(MlModelWriter.MODEL_FILE, trained.booster(), ModelMetadata.FILE, meta.toJson()));
    registry.setAlias(spec.modelName(), "champion", registry.createVersion(spec.modelName(), "mem://m", "r", "", Map.of()).version());
    return new Champion(
        warehouse, path, trained, registry, LoadedModel.load(registry, ModelUri.parse("nightshift-demand@champion")));
  }

  /** The rows of {@code monitoring/<table>} dated {@code date} in {@code dateColumn}, in a fixed order. */
  private static List<Row> rowsOf(SparkSession spark, Warehouse warehouse, String table, String dateColumn,
      LocalDate date) {
    Dataset<Row> t = spark.read().format("delta").load(warehouse.monitoring(table))
        .where(dateColumn + " = '" + date + "'");
    return t.orderBy(t.columns()[0], java.util.Arrays.copyOfRange(t.columns(), 1, t.columns().length)).collectAsList();
  }

  /** Every feature's drift row is {@code no_data} with no PSI: the night's feature version was not measured. */
  private static void assertFeaturesNotMeasured(Monitor.Result r) {
    assertThat(r.drift()).filteredOn(x -> !"prediction".equals(x.getAs("column"))).isNotEmpty()
        .allSatisfy(x -> {
          assertThat(x.<String>getAs("status")).isEqualTo("no_data");
          assertThat(x.isNullAt(x.fieldIndex("psi"))).isTrue();
        });
  }

  private static double psi(Monitor.Result r, String column) {
    return r.drift().stream().filter(x -> column.equals(x.getAs("column"))).findFirst().orElseThrow().getAs("psi");
  }
}
