package io.nightshift.scoring;

import io.nightshift.training.model.LoadedModel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.training.ModelSpec;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.TrainedModel;
import io.nightshift.training.XGBoostTrainer;
import io.nightshift.training.model.MlModelWriter;
import io.nightshift.training.model.ForecastQuantiles;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.tracking.InMemoryRegistry;
import io.nightshift.training.tracking.ModelUri;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BatchScorerTest {
  static final LocalDate AS_OF = LocalDate.of(2023, 9, 30);
  static SparkSession spark;
  static Warehouse warehouse;
  static InMemoryRegistry registry = new InMemoryRegistry();
  static LoadedModel model;

  @BeforeAll
  static void trainAndRegister() throws Exception {
    spark = SparkTestSession.get();
    warehouse = new Warehouse(SparkTestSession.tempDir("scoring").toString());
    SyntheticData.generate(spark, warehouse, new GeneratorConfig(5, LocalDate.of(2023, 1, 1), AS_OF, 2, 3, 3, 14));
    DemandFeatures.build(spark, warehouse, AS_OF);
    ModelSpec base = ModelSpecs.demand();
    ModelSpec spec = new ModelSpec(base.modelName(), base.task(), base.view(), base.boosterParams(), 20, 28, 0, 1);
    TrainedModel trained =
        XGBoostTrainer.train(spark, spark.read().format("delta").load(warehouse.features(UseCase.DEMAND)), spec, AS_OF);
    register(spec, trained, spec.view().features());
    model = LoadedModel.load(registry, ModelUri.parse("nightshift-demand@champion"));
  }

  static void register(ModelSpec spec, TrainedModel trained, List<String> features) {
    ModelMetadata meta =
        new ModelMetadata(
            spec.modelName(), "demand", spec.task().name(), spec.view().name(), spec.view().keys(), "date", "sales",
            features, AS_OF.toString(), warehouse.features(UseCase.DEMAND), 0, "", "", "", "", 2.5,
            quantileCalibration(trained.metrics()), trained.baseline());
    String source = "mem://" + spec.modelName() + "/" + features.size();
    registry.putFiles(source, Map.of(MlModelWriter.MODEL_FILE, trained.booster(), ModelMetadata.FILE, meta.toJson()));
    var v = registry.createVersion(spec.modelName(), source, "run-" + features.size(), "", Map.of());
    registry.setAlias(spec.modelName(), features.contains("not_in_table") ? "broken" : "champion", v.version());
  }

  /** Only the quantile offsets, so prediction_std stays the constant residual std these tests expect. */
  static Map<String, Double> quantileCalibration(Map<String, Double> metrics) {
    Map<String, Double> m = new java.util.HashMap<>();
    for (double level : ForecastQuantiles.LEVELS) {
      m.put(ForecastQuantiles.metric(level), metrics.get(ForecastQuantiles.metric(level)));
    }
    return m;
  }

  private static Dataset<Row> partition(LocalDate d) {
    return spark.read().format("delta").load(warehouse.predictions(UseCase.DEMAND)).where("score_date = '" + d + "'");
  }

  /** Each row's prediction by store/item/target date, so partitions compare whatever order their rows come in. */
  private static Map<String, Double> predictions(List<Row> rows) {
    Map<String, Double> m = new TreeMap<>();
    for (Row r : rows) {
      m.put(r.getAs("store") + "/" + r.getAs("item") + "/" + r.getAs("target_date"), r.<Double>getAs("prediction"));
    }
    assertThat(m).as("one row per store, item and target date").hasSize(rows.size());
    return m;
  }

  @Test
  void scoresTheNextSevenDaysWithLineage() {
    BatchScorer.Result r = BatchScorer.score(spark, warehouse, model, AS_OF, "test");
    assertThat(r.rows()).isEqualTo(2L * 3 * 7);
    Dataset<Row> p = partition(AS_OF);
    assertThat(p.selectExpr("min(horizon_days)", "max(horizon_days)").head().toSeq().mkString(","))
        .isEqualTo("1,7");
    assertThat(p.where("prediction < 0").count()).isZero();
    Row any = p.head();
    assertThat(any.<String>getAs("model_version")).isEqualTo("1");
    assertThat(any.<String>getAs("model_run_id")).isEqualTo("run-" + model.metadata().features().size());
    assertThat(any.<Double>getAs("prediction_std")).isEqualTo(2.5);
    // calibrated quantiles: ordered, non-negative, P10 < P90 where the forecast is positive
    assertThat(p.where("forecast_p10 IS NULL OR forecast_p50 IS NULL OR forecast_p90 IS NULL").count()).isZero();
    assertThat(p.where("forecast_p10 < 0 OR forecast_p10 > forecast_p50 OR forecast_p50 > forecast_p90").count()).isZero();
    assertThat(p.where("prediction > 1 AND forecast_p10 >= forecast_p90").count()).isZero();
    // forecast_std is the unclipped spread: where P10 is not clipped, exactly (P90 - P10) / (2 x Z90)
    assertThat(p.where("forecast_std IS NULL OR forecast_std <= 0").count()).isZero();
    assertThat(p.where("forecast_p10 > 0 AND abs(forecast_std - (forecast_p90 - forecast_p10) / "
        + (2 * BatchScorer.Z90) + ") > 1e-9").count()).isZero();
    Row manifest =
        spark.read().format("delta").load(warehouse.monitoring("scoring_manifest")).where("score_date = '" + AS_OF + "'").head();
    assertThat(manifest.<Long>getAs("rows")).isEqualTo(42L);
  }

  @Test
  void forecastUncertaintyGrowsWithTheSquareRootOfTheForecast() {
    ModelMetadata meta =
        new ModelMetadata("m", "demand", "REGRESSION", "v", List.of("store"), "date", "sales", List.of("x"), "", "", 0,
            "", "", "", "", 2.0, Map.of("valid_mean_label", 4.0), Map.of());
    Row r = spark.range(1).select(
        BatchScorer.predictionStd(meta, org.apache.spark.sql.functions.lit(9.0)).as("at9"),
        BatchScorer.predictionStd(meta, org.apache.spark.sql.functions.lit(4.0)).as("atMean")).head();
    assertThat(r.getDouble(0)).isCloseTo(3.0, within(1e-12)); // 2 * sqrt(9 / 4)
    assertThat(r.getDouble(1)).isCloseTo(2.0, within(1e-12));
  }

  @Test
  void quantilesWidenAroundTheMedianWhichKeepsItsOffsetAtEveryHorizon() {
    // standardized-residual quantiles -1 / -0.25 / +1.5 (a model that over-forecasts its median a little); forecast
    // 16: one standard unit is sqrt(16) = 4
    ModelMetadata meta =
        new ModelMetadata("m", "demand", "REGRESSION", "v", List.of("store"), "date", "sales", List.of("x"), "", "", 0,
            "", "", "", "", 2.0,
            Map.of(ForecastQuantiles.metric(0.1), -1.0, ForecastQuantiles.metric(0.5), -0.25,
                ForecastQuantiles.metric(0.9), 1.5),
            Map.of());
    org.apache.spark.sql.Column f = org.apache.spark.sql.functions.lit(16.0);
    List<org.apache.spark.sql.Column> cols = new ArrayList<>();
    for (double widening : new double[] {1.0, 2.0}) { // the first week, and four weeks ahead (sqrt(28 / 7))
      org.apache.spark.sql.Column w = org.apache.spark.sql.functions.lit(widening);
      for (double level : ForecastQuantiles.LEVELS) {
        cols.add(BatchScorer.quantile(meta, level, f, w));
      }
    }
    Row r = spark.range(1).select(cols.toArray(new org.apache.spark.sql.Column[0])).head();
    // week 1: 16 + 4 r_q
    assertThat(r.getDouble(0)).isCloseTo(12.0, within(1e-12));
    assertThat(r.getDouble(1)).isCloseTo(15.0, within(1e-12));
    assertThat(r.getDouble(2)).isCloseTo(22.0, within(1e-12));
    // four weeks ahead: the median stays at 15, the distances to it double: 15 - 2 x 3, 15 + 2 x 7
    assertThat(r.getDouble(3)).isCloseTo(9.0, within(1e-12));
    assertThat(r.getDouble(4)).isCloseTo(15.0, within(1e-12));
    assertThat(r.getDouble(5)).isCloseTo(29.0, within(1e-12));

    // the std of the spread, before clipping: (1.5 + 1) x 4 / (2 x 1.28155) in week one, twice that four weeks ahead;
    // a forecast of 0.3 (one standard unit of 1) keeps its full spread though its P10 (0.3 - 1) is clipped to 0
    Row std = spark.range(1).select(
        BatchScorer.quantileStd(meta, f, org.apache.spark.sql.functions.lit(1.0)),
        BatchScorer.quantileStd(meta, f, org.apache.spark.sql.functions.lit(2.0)),
        BatchScorer.quantileStd(meta, org.apache.spark.sql.functions.lit(0.3), org.apache.spark.sql.functions.lit(1.0)),
        BatchScorer.quantile(meta, 0.1, org.apache.spark.sql.functions.lit(0.3), org.apache.spark.sql.functions.lit(1.0)))
        .head();
    assertThat(std.getDouble(0)).isCloseTo(3.901521, within(1e-6));
    assertThat(std.getDouble(1)).isCloseTo(7.803041, within(1e-6));
    assertThat(std.getDouble(2)).isCloseTo(0.975380, within(1e-6));
    assertThat(std.getDouble(3)).isZero();
  }

  @Test
  void batchedNativePredictionsEqualPerMatrixPredictions() throws Exception {
    BatchScorer.score(spark, warehouse, model, AS_OF, "test");
    List<String> features = model.metadata().features();
    List<Row> rows =
        spark.read().format("delta").load(warehouse.features(UseCase.DEMAND))
            .where("date > '" + AS_OF + "'").orderBy("store", "item", "date").collectAsList();
    float[] data = new float[rows.size() * features.size()];
    for (int i = 0; i < rows.size(); i++) {
      for (int j = 0; j < features.size(); j++) {
        Object v = rows.get(i).getAs(features.get(j));
        data[i * features.size() + j] = v == null ? Float.NaN : ((Number) v).floatValue();
      }
    }
    Booster booster = XGBoost.loadModel(model.booster());
    float[][] expected = booster.predict(new DMatrix(data, rows.size(), features.size(), Float.NaN));
    List<Row> scored = partition(AS_OF).orderBy("store", "item", "target_date").collectAsList();
    assertThat(scored).hasSize(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      assertThat(scored.get(i).<Double>getAs("prediction")).isCloseTo(Math.max(0, expected[i][0]), within(1e-5));
    }
  }

  @Test
  void rerunningADateReplacesItsPartitionExactly() {
    LocalDate other = AS_OF.minusDays(3);
    BatchScorer.score(spark, warehouse, model, other, "test");
    BatchScorer.score(spark, warehouse, model, AS_OF, "test");
    List<Row> first = new ArrayList<>(partition(AS_OF).collectAsList());
    long otherRows = partition(other).count();
    BatchScorer.score(spark, warehouse, model, AS_OF, "test");
    Dataset<Row> second = partition(AS_OF);
    assertThat(second.count()).isEqualTo(first.size());
    assertThat(second.collectAsList()).containsExactlyInAnyOrderElementsOf(first);
    assertThat(partition(other).count()).isEqualTo(otherRows);
  }

  @Test
  void replayFromTheManifestGivesIdenticalOutputAfterTheFeaturesChanged() {
    LocalDate night = AS_OF.minusDays(1);
    BatchScorer.score(spark, warehouse, model, night, "test");
    List<Row> original = partition(night).collectAsList();
    BatchScorer.Manifest m = BatchScorer.manifest(spark, warehouse, UseCase.DEMAND, night);
    assertThat(m.modelVersion()).isEqualTo("1");
    // a replay by the same code says nothing about it; one by other code names both versions
    assertThat(m.codeVersion()).isEqualTo("test");
    assertThat(m.codeChange("test")).isNull();
    assertThat(m.codeChange("abc1234"))
        .isEqualTo("the night was scored with code version test and replayed with abc1234: rows may differ where the"
            + " scoring code changed between them");
    BatchScorer.Manifest dev = new BatchScorer.Manifest(m.modelName(), m.modelVersion(), m.featureTableVersion(),
        m.options(), m.pricePlanVersion(), null, null, "dev");
    assertThat(dev.codeChange("dev")).contains("record no git commit (code version dev)");

    // the feature table changes afterwards (e.g. a late correction of raw sales)
    String path = warehouse.features(UseCase.DEMAND);
    Dataset<Row> changed = spark.read().format("delta").load(path)
        .withColumn("lag_7", org.apache.spark.sql.functions.col("lag_7").plus(50));
    io.nightshift.featurestore.DeltaTables.overwrite(changed.localCheckpoint(), path);
    BatchScorer.score(spark, warehouse, model, night, "test");
    // today's data gives other forecasts for the same store, item and target dates
    Map<String, Double> before = predictions(original);
    assertThat(predictions(partition(night).collectAsList())).containsOnlyKeys(before.keySet()).isNotEqualTo(before);

    BatchScorer.Result replayed = BatchScorer.score(spark, warehouse, model, night, "test", m.featureTableVersion());
    assertThat(replayed.featureTableVersion()).isEqualTo(m.featureTableVersion());
    assertThat(partition(night).collectAsList()).containsExactlyInAnyOrderElementsOf(original);
    // restore the table for the other tests
    io.nightshift.featurestore.DeltaTables.overwrite(
        spark.read().format("delta").option("versionAsOf", m.featureTableVersion()).load(path).localCheckpoint(), path);
  }

  /** A warehouse of its own with demand features built as of {@link #AS_OF}, for tests that recreate or vacuum them. */
  private static Warehouse ownWarehouse(String name) {
    Warehouse w = new Warehouse(SparkTestSession.tempDir(name).toString());
    SyntheticData.generate(spark, w, new GeneratorConfig(5, LocalDate.of(2023, 1, 1), AS_OF, 2, 3, 3, 14));
    DemandFeatures.build(spark, w, AS_OF);
    return w;
  }

  private static Dataset<Row> partition(Warehouse w, LocalDate d) {
    return spark.read().format("delta").load(w.predictions(UseCase.DEMAND)).where("score_date = '" + d + "'");
  }

  @Test
  void replayOfANightWhoseFeatureTableWasRecreatedIsAnInputErrorAndWritesNothing() throws Exception {
    Warehouse w = ownWarehouse("replay-recreated");
    LocalDate night = AS_OF.minusDays(1);
    String path = w.features(UseCase.DEMAND);
    DeltaTables.overwrite(spark.read().format("delta").load(path).localCheckpoint(), path); // scored from version 1
    BatchScorer.score(spark, w, model, night, "test");
    List<Row> original = partition(w, night).collectAsList();
    BatchScorer.Manifest m = BatchScorer.manifest(spark, w, UseCase.DEMAND, night);
    assertThat(m.featureTableVersion()).isPositive();
    assertThat(m.featureTableId()).isEqualTo(DeltaTables.tableId(spark, path, m.featureTableVersion()));

    // the table is deleted and built again (with other data), and nightly overwrites take its version numbers past
    // the one the night recorded: that version number now names other data
    Dataset<Row> changed = spark.read().format("delta").load(path)
        .withColumn("lag_7", org.apache.spark.sql.functions.col("lag_7").plus(50)).localCheckpoint();
    org.apache.commons.io.FileUtils.deleteDirectory(new java.io.File(path));
    do {
      DeltaTables.overwrite(changed, path);
    } while (DeltaTables.version(spark, path) <= m.featureTableVersion());
    long predictions = DeltaTables.version(spark, w.predictions(UseCase.DEMAND));
    long manifests = DeltaTables.version(spark, w.monitoring("scoring_manifest"));

    assertThatThrownBy(() -> BatchScorer.replay(spark, w, model, night, "test", m))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("version " + m.featureTableVersion() + " of features/demand_daily")
        .hasMessageContaining("recreated")
        .hasMessageContaining("score the night again without --replay");
    assertThat(DeltaTables.version(spark, w.predictions(UseCase.DEMAND))).isEqualTo(predictions);
    assertThat(DeltaTables.version(spark, w.monitoring("scoring_manifest"))).isEqualTo(manifests);
    assertThat(partition(w, night).collectAsList()).containsExactlyInAnyOrderElementsOf(original);

    // a manifest written before table ids were recorded is read as before, its ids null (not checked)
    String manifestPath = w.monitoring("scoring_manifest");
    DeltaTables.overwrite(spark.read().format("delta").load(manifestPath)
        .drop("feature_table_id", "price_plan_table_id").localCheckpoint(), manifestPath);
    BatchScorer.Manifest old = BatchScorer.manifest(spark, w, UseCase.DEMAND, night);
    assertThat(old.featureTableId()).isNull();
    assertThat(old).isEqualTo(new BatchScorer.Manifest(
        m.modelName(), m.modelVersion(), m.featureTableVersion(), m.options(), m.pricePlanVersion(), null, null,
        "test"));
  }

  @Test
  void replayOfANightWhoseFeatureFilesWereVacuumedIsAnInputErrorAndWritesNothing() {
    Warehouse w = ownWarehouse("replay-vacuumed");
    LocalDate night = AS_OF.minusDays(1);
    String path = w.features(UseCase.DEMAND);
    BatchScorer.score(spark, w, model, night, "test");
    BatchScorer.Manifest m = BatchScorer.manifest(spark, w, UseCase.DEMAND, night);
    List<Row> original = partition(w, night).collectAsList();

    // the table is rewritten and VACUUM removes the files of the version the night was scored from (its log stays)
    Vacuum.rewriteAndRemoveOldFiles(spark, path);
    long predictions = DeltaTables.version(spark, w.predictions(UseCase.DEMAND));
    long manifests = DeltaTables.version(spark, w.monitoring("scoring_manifest"));

    assertThatThrownBy(() -> BatchScorer.replay(spark, w, model, night, "test", m))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("version " + m.featureTableVersion() + " of features/demand_daily")
        .hasMessageContaining("score the night again without --replay");
    assertThat(DeltaTables.version(spark, w.predictions(UseCase.DEMAND))).isEqualTo(predictions);
    assertThat(DeltaTables.version(spark, w.monitoring("scoring_manifest"))).isEqualTo(manifests);
    assertThat(partition(w, night).collectAsList()).containsExactlyInAnyOrderElementsOf(original);
  }

  @Test
  void dateWithoutFeatureRowsIsAnInputError() {
    assertThatThrownBy(() -> BatchScorer.score(spark, warehouse, model, LocalDate.of(2030, 1, 1), "test"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("No rows in features/demand_daily for forecast dates after 2030-01-01")
        .hasMessageContaining("nightshift features build --as-of 2030-01-01");
  }

  @Test
  void featuresBuiltForAnEarlierNightAreAnInputErrorNotAShortHorizon() {
    // built as of AS_OF, the table forecasts AS_OF+1..AS_OF+7: scoring AS_OF+3 would cover only 4 of the 7 days
    LocalDate later = AS_OF.plusDays(3);
    BatchScorer.score(spark, warehouse, model, AS_OF, "test");
    assertThatThrownBy(() -> BatchScorer.score(spark, warehouse, model, later, "test"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("No rows in features/demand_daily for forecast dates 2023-10-08 to 2023-10-10")
        .hasMessageContaining("rows for 2023-10-04 to 2023-10-07 only")
        .hasMessageContaining("nightshift features build --as-of 2023-10-03");
    // nothing written for that night
    assertThat(spark.read().format("delta").load(warehouse.predictions(UseCase.DEMAND))
        .where("score_date = '" + later + "'").count()).isZero();
  }

  @Test
  void modelWhoseFeaturesAreMissingFromTheTableIsAnInputError() {
    List<String> features = new ArrayList<>(model.metadata().features());
    features.add("not_in_table");
    ModelSpec spec = ModelSpecs.demand();
    register(spec, new TrainedModel(model.booster(), features, Map.of(), "rmse", new float[0], new float[0], Map.of(),
        AS_OF, AS_OF, AS_OF, AS_OF, 0, 0, 0, Map.of(), TrainedModel.PredictedVsActual.EMPTY, List.of()), features);
    LoadedModel broken = LoadedModel.load(registry, ModelUri.parse("models:/nightshift-demand@broken"));
    assertThatThrownBy(() -> BatchScorer.score(spark, warehouse, broken, AS_OF, "test"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("does not match feature table features/demand_daily")
        .hasMessageContaining("[not_in_table]");
  }
}
