package io.nightshift.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.RawData;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.scoring.monitoring.Monitor;
import io.nightshift.testing.SparkTestSession;
import io.nightshift.training.model.ForecastQuantiles;
import io.nightshift.training.model.LoadedModel;
import io.nightshift.training.model.MlModelWriter;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.tracking.InMemoryRegistry;
import io.nightshift.training.tracking.ModelUri;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Multi-horizon (recursive) forecasts and store reconciliation, end to end through {@link BatchScorer} on hand-made
 * data and a booster whose every prediction is known: it forecasts {@code lag_7 + 10 * on_promo} for sales of 10
 * and 40 (an exact two-level tree). So a recursive forecast repeats last week's sales pattern week after week, and
 * every value below can be worked out by hand.
 *
 * <p>Data: stores 1 and 2 with items 1 and 2, sales 10 every day, except store 1 item 1 sold 40 on the last three
 * days up to {@code D} (a planted step); the plan has no promotion except store 1 item 2 on {@code D+10}.
 */
class HorizonForecastTest {
  static final LocalDate D = LocalDate.of(2024, 3, 31);
  static final LocalDate START = D.minusDays(99);
  static final int PLAN_DAYS = 28;
  static SparkSession spark;
  static Warehouse warehouse;
  static final InMemoryRegistry registry = new InMemoryRegistry();
  static LoadedModel model;
  static List<Row> sevenDays;
  static List<Row> twentyEightDays;
  static List<Row> reconciled;
  static List<Row> reconciledStores;
  static Row reconciledManifest;
  static long predictionCommits;

  @BeforeAll
  static void setUp() throws Exception {
    spark = SparkTestSession.get();
    warehouse = new Warehouse(SparkTestSession.tempDir("horizon").toString());
    List<Row> sales = new ArrayList<>();
    for (LocalDate d = START; !d.isAfter(D); d = d.plusDays(1)) {
      for (int store = 1; store <= 2; store++) {
        for (int item = 1; item <= 2; item++) {
          boolean step = store == 1 && item == 1 && d.isAfter(D.minusDays(3));
          sales.add(RowFactory.create(Date.valueOf(d), store, item, step ? 40 : 10));
        }
      }
    }
    RawData.write(spark.createDataFrame(sales, RawData.SALES), warehouse.rawSales());
    writePlan(D.plusDays(10));
    DemandFeatures.build(spark, warehouse, D);

    List<String> features = DemandFeatures.VIEW.features();
    Map<String, Double> metrics = new HashMap<>();
    metrics.put(ForecastQuantiles.metric(0.1), -1.0);
    metrics.put(ForecastQuantiles.metric(0.5), 0.0);
    metrics.put(ForecastQuantiles.metric(0.9), 1.0);
    ModelMetadata meta =
        new ModelMetadata("nightshift-demand", "demand", "REGRESSION", DemandFeatures.VIEW.name(), List.of("store", "item"),
            "date", "sales", features, D.toString(), warehouse.features(UseCase.DEMAND), 0, "", "", "", "", 2.0, metrics,
            Map.of());
    registry.putFiles("mem://lag7", Map.of(MlModelWriter.MODEL_FILE, lagSevenPlusPromo(features), ModelMetadata.FILE, meta.toJson()));
    registry.setAlias("nightshift-demand", "champion",
        registry.createVersion("nightshift-demand", "mem://lag7", "run-lag7", "", Map.of()).version());
    model = LoadedModel.load(registry, ModelUri.parse("nightshift-demand@champion"));

    BatchScorer.score(spark, warehouse, model, D, "test");
    sevenDays = partition(D);
    long before = DeltaTables.version(spark, warehouse.predictions(UseCase.DEMAND));
    BatchScorer.score(spark, warehouse, model, D, "test", new ScoringOptions(28, ScoringOptions.Reconciliation.NONE));
    predictionCommits = DeltaTables.version(spark, warehouse.predictions(UseCase.DEMAND)) - before;
    twentyEightDays = partition(D);
    BatchScorer.score(spark, warehouse, model, D, "test", new ScoringOptions(14, ScoringOptions.Reconciliation.STORE));
    reconciled = partition(D);
    reconciledStores = storeTotals(D);
    reconciledManifest = manifest();
  }

  /** The plan: price 2, no promotion, through D+28, except one promotion of store 1 item 2 (null: none). */
  static void writePlan(LocalDate promoDay) {
    writePlan(d -> d.equals(promoDay));
  }

  static void writePlan(java.util.function.Predicate<LocalDate> promo) {
    RawData.write(spark.createDataFrame(planRows(promo), RawData.PRICE_PLAN), warehouse.rawPricePlan());
  }

  static List<Row> planRows(java.util.function.Predicate<LocalDate> promo) {
    List<Row> plan = new ArrayList<>();
    for (LocalDate d = START; !d.isAfter(D.plusDays(PLAN_DAYS)); d = d.plusDays(1)) {
      for (int store = 1; store <= 2; store++) {
        for (int item = 1; item <= 2; item++) {
          boolean on = store == 1 && item == 2 && promo.test(d);
          plan.add(RowFactory.create(Date.valueOf(d), store, item, 2.0, on ? 1 : 0));
        }
      }
    }
    return plan;
  }

  /** One exact tree: lag_7 (10 or 40) plus 10 on promotion; every other feature is ignored. */
  static byte[] lagSevenPlusPromo(List<String> features) throws Exception {
    int lag = features.indexOf("lag_7");
    int promo = features.indexOf("on_promo");
    int n = 40;
    float[] data = new float[n * features.size()];
    float[] labels = new float[n];
    java.util.Arrays.fill(data, Float.NaN);
    for (int i = 0; i < n; i++) {
      float l = i % 2 == 0 ? 10f : 40f;
      float p = (i / 2) % 2;
      data[i * features.size() + lag] = l;
      data[i * features.size() + promo] = p;
      labels[i] = l + 10 * p;
    }
    DMatrix train = new DMatrix(data, n, features.size(), Float.NaN);
    train.setLabel(labels);
    Map<String, Object> params = new HashMap<>();
    params.put("objective", "reg:squarederror");
    params.put("eta", 1.0);
    params.put("max_depth", 2);
    params.put("lambda", 0.0);
    params.put("base_score", 25.0);
    params.put("tree_method", "exact");
    params.put("nthread", 1);
    Booster booster = XGBoost.train(train, params, 1, new HashMap<>(), null, null);
    return booster.toByteArray("ubj");
  }

  static List<Row> partition(LocalDate night) {
    return spark.read().format("delta").load(warehouse.predictions(UseCase.DEMAND))
        .where("score_date = '" + night + "'").orderBy("store", "item", "target_date").collectAsList();
  }

  static List<Row> storeTotals(LocalDate night) {
    return spark.read().format("delta").load(warehouse.path("predictions/demand_store"))
        .where("score_date = '" + night + "'").orderBy("store", "target_date").collectAsList();
  }

  static Row manifest() {
    return spark.read().format("delta").load(warehouse.monitoring("scoring_manifest"))
        .where("use_case = 'demand' AND score_date = '" + D + "'").head();
  }

  static double value(Row r, String column) {
    return r.<Double>getAs(column);
  }

  static int h(Row r) {
    return r.<Integer>getAs("horizon_days");
  }

  static List<Row> series(List<Row> rows, int store, int item) {
    return rows.stream().filter(r -> r.<Integer>getAs("store") == store && r.<Integer>getAs("item") == item).toList();
  }

  @Test
  void twentyEightDaysGiveEveryTargetDateOnceAndTheFirstWeekOfASevenDayRun() {
    assertThat(predictionCommits).isEqualTo(1); // the night is still replaced in one transaction
    assertThat(twentyEightDays).hasSize(4 * 28);
    for (int store = 1; store <= 2; store++) {
      for (int item = 1; item <= 2; item++) {
        List<Row> s = series(twentyEightDays, store, item);
        assertThat(s).extracting(HorizonForecastTest::h)
            .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, 28).boxed().toList());
        assertThat(s).extracting(r -> r.<Date>getAs("target_date").toLocalDate())
            .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, 28).mapToObj(D::plusDays).toList());
      }
    }
    assertThat(sevenDays).hasSize(4 * 7);
    assertThat(twentyEightDays.stream().filter(r -> h(r) <= 7).toList()).containsExactlyElementsOf(sevenDays);
    assertThat(twentyEightDays).allSatisfy(r -> assertThat(value(r, "prediction")).isEqualTo(value(r, "prediction_base")));
  }

  @Test
  void aPlantedStepChangeCarriesThroughTheRecursiveWeeks() {
    List<Integer> days = java.util.stream.IntStream.rangeClosed(1, 28).boxed().toList();
    // store 1 item 1 sold 40 on D-2..D: lag_7 repeats that in D+5..D+7, whose forecasts are next week's lag_7, ...
    assertThat(series(twentyEightDays, 1, 1)).extracting(HorizonForecastTest::h).containsExactlyElementsOf(days);
    for (Row r : series(twentyEightDays, 1, 1)) {
      int dayOfWeek = Math.floorMod(h(r) - 1, 7); // D+1 -> 0, ..., D+7 -> 6
      assertThat(value(r, "prediction")).as("h=%d", h(r)).isEqualTo(dayOfWeek >= 4 ? 40.0 : 10.0);
    }
    // the plan's promotion on D+10 (recursive week 2) raises that day only; a promoted 20 is not "high" next week
    assertThat(series(twentyEightDays, 1, 2)).extracting(HorizonForecastTest::h).containsExactlyElementsOf(days);
    for (Row r : series(twentyEightDays, 1, 2)) {
      assertThat(value(r, "prediction")).as("h=%d", h(r)).isEqualTo(h(r) == 10 ? 20.0 : 10.0);
    }
    assertThat(series(twentyEightDays, 2, 1)).hasSize(28).allSatisfy(r -> assertThat(value(r, "prediction")).isEqualTo(10.0));
  }

  @Test
  void quantilesWidenWithTheSquareRootOfTheWeeksAhead() {
    Row h7 = series(twentyEightDays, 2, 1).get(6);
    Row h14 = series(twentyEightDays, 2, 1).get(13);
    Row h28 = series(twentyEightDays, 2, 1).get(27);
    // forecast 10, calibrated offsets -1/0/+1 standard units of sqrt(10); x1 in week 1, x sqrt(h/7) after
    assertThat(value(h7, "forecast_p90")).isCloseTo(10 + Math.sqrt(10), within(1e-9));
    assertThat(value(h14, "forecast_p90")).isCloseTo(10 + Math.sqrt(10) * Math.sqrt(2), within(1e-9));
    assertThat(value(h28, "forecast_p90")).isCloseTo(10 + Math.sqrt(10) * 2, within(1e-9));
    assertThat(value(h28, "forecast_p10")).isCloseTo(10 - Math.sqrt(10) * 2, within(1e-9));
    assertThat(value(h28, "forecast_p50")).isEqualTo(10.0);
    assertThat(value(h7, "prediction_std")).isEqualTo(2.0);
    assertThat(value(h28, "prediction_std")).isCloseTo(4.0, within(1e-12));
  }

  @Test
  void storeReconciliationMakesItemsSumToTheReconciledStoreTotal() {
    List<Row> items = reconciled;
    List<Row> stores = reconciledStores;
    assertThat(items).hasSize(4 * 14);
    assertThat(stores).hasSize(2 * 14);
    assertThat(items).allSatisfy(r -> assertThat(value(r, "prediction")).isGreaterThanOrEqualTo(0.0));
    // the unreconciled forecasts are kept, and are those of the run without reconciliation
    assertThat(items).extracting(r -> value(r, "prediction_base"))
        .containsExactlyElementsOf(twentyEightDays.stream().filter(r -> h(r) <= 14).map(r -> value(r, "prediction_base")).toList());
    Map<String, Double> sums =
        items.stream().collect(Collectors.groupingBy(
            r -> r.getAs("store") + "|" + r.getAs("target_date"), Collectors.summingDouble(r -> value(r, "prediction"))));
    for (Row s : stores) {
      assertThat(sums.get(s.getAs("store") + "|" + s.getAs("target_date")))
          .isCloseTo(value(s, "reconciled_total"), within(1e-9));
      assertThat(s.<Boolean>getAs("reconciled")).isTrue();
    }

    // store 2 sells 20 a day, exactly what its items forecast: nothing changes
    for (Row r : items) {
      if (r.<Integer>getAs("store") == 2) {
        assertThat(value(r, "prediction")).isEqualTo(value(r, "prediction_base"));
      }
    }
    Row store2 = stores.stream().filter(s -> s.<Integer>getAs("store") == 2).findFirst().orElseThrow();
    assertThat(value(store2, "store_base")).isEqualTo(20.0);
    assertThat(value(store2, "reconciled_total")).isEqualTo(20.0);

    // store 1: the last four weeks' weekday profile (27.5 on the step weekdays, 20 else) at last week's level
    // (230/7 against the four weeks' 162.5/7): 38.92 on step weekdays, 28.31 on the others
    double level = (230.0 / 7) / (162.5 / 7);
    for (Row s : stores) {
      if (s.<Integer>getAs("store") != 1) {
        continue;
      }
      int horizon = s.<Integer>getAs("horizon_days");
      boolean stepDay = Math.floorMod(horizon - 1, 7) >= 4;
      assertThat(value(s, "store_base")).as("h=%d", horizon).isCloseTo((stepDay ? 27.5 : 20.0) * level, within(1e-9));
      // its 7-day-ahead error over the last 28 days: 30 on three days -> variance 2700/28, growing after week 1
      assertThat(value(s, "store_base_variance")).isCloseTo(2700.0 / 28 * Math.max(1, horizon / 7.0), within(1e-9));
      // the reconciled total lies between the items' sum and the store base, weighted by their variances
      double items1 = value(s, "items_base_total");
      double w = value(s, "items_base_variance") / (value(s, "items_base_variance") + value(s, "store_base_variance"));
      assertThat(value(s, "reconciled_total"))
          .isCloseTo(items1 + w * (value(s, "store_base") - items1), within(1e-9));
      assertThat(w).isStrictlyBetween(0.0, 1.0);
    }
    // on a step day item 1 (forecast 40, the wider spread) takes more of the cut than item 2 (forecast 10)
    Row item1 = series(items, 1, 1).get(4);
    Row item2 = series(items, 1, 2).get(4);
    double cut1 = value(item1, "prediction_base") - value(item1, "prediction");
    double cut2 = value(item2, "prediction_base") - value(item2, "prediction");
    assertThat(cut2).isPositive();
    assertThat(cut1).isGreaterThan(3 * cut2); // variances from the P10-P90 spread: 40 vs 10 -> 4x
    assertThat(reconciledManifest.<String>getAs("reconciliation")).isEqualTo("store");
  }

  @Test
  void aReplayFromTheManifestIsIdenticalAfterThePricePlanChanged() {
    BatchScorer.Manifest m =
        new BatchScorer.Manifest(
            reconciledManifest.getAs("model_name"), reconciledManifest.getAs("model_version"),
            reconciledManifest.<Long>getAs("feature_table_version"),
            new ScoringOptions(reconciledManifest.<Integer>getAs("horizon_days"),
                ScoringOptions.Reconciliation.parse("test", reconciledManifest.getAs("reconciliation"))),
            reconciledManifest.<Long>getAs("price_plan_version"));
    assertThat(m.options()).isEqualTo(new ScoringOptions(14, ScoringOptions.Reconciliation.STORE));
    assertThat(m.pricePlanVersion()).isNotNull();
    assertThat(reconciledManifest.<String>getAs("strategy")).isEqualTo("recursive");
    try {
      // afterwards the plan of the recursive weeks changes: store 1 item 2 is promoted every day of week 2
      writePlan(d -> d.isAfter(D.plusDays(7)) && !d.isAfter(D.plusDays(14)));
      BatchScorer.score(spark, warehouse, model, D, "test", new ScoringOptions(14, ScoringOptions.Reconciliation.STORE));
      List<Row> changed = partition(D);
      assertThat(series(changed, 1, 2).get(10).<Double>getAs("prediction_base")).isEqualTo(20.0); // D+11 promoted
      assertThat(series(reconciled, 1, 2).get(10).<Double>getAs("prediction_base")).isEqualTo(10.0);
      assertThat(BatchScorer.manifest(spark, warehouse, UseCase.DEMAND, D).pricePlanVersion())
          .isGreaterThan(m.pricePlanVersion());

      BatchScorer.replay(spark, warehouse, model, D, "test", m);
      assertThat(partition(D)).containsExactlyElementsOf(reconciled);
      assertThat(storeTotals(D)).containsExactlyElementsOf(reconciledStores);
      assertThat(manifest().<Long>getAs("price_plan_version")).isEqualTo(m.pricePlanVersion());
    } finally {
      writePlan(D.plusDays(10));
    }
  }

  @Test
  void aReplayWhosePricePlanSnapshotWasRecreatedIsAnInputErrorAndWritesNothing() throws Exception {
    BatchScorer.score(spark, warehouse, model, D, "test", new ScoringOptions(14, ScoringOptions.Reconciliation.STORE));
    BatchScorer.Manifest m = BatchScorer.manifest(spark, warehouse, UseCase.DEMAND, D);
    String snapshot = warehouse.monitoring(BatchScorer.PRICE_PLAN_SNAPSHOT);
    assertThat(m.pricePlanVersion()).isNotNull();
    assertThat(m.pricePlanTableId()).isEqualTo(DeltaTables.tableId(spark, snapshot, m.pricePlanVersion()));
    java.io.File table = new java.io.File(snapshot);
    java.io.File kept = SparkTestSession.tempDir("horizon-plan-snapshot-kept").toFile();
    org.apache.commons.io.FileUtils.copyDirectory(table, kept);
    try {
      // the snapshot table is deleted and written again, and its version numbers pass the one the night recorded:
      // that version now names other rows (here the same plan, which a replay must not trust either)
      Dataset<Row> rows = spark.read().format("delta").load(snapshot).localCheckpoint();
      org.apache.commons.io.FileUtils.deleteDirectory(table);
      do {
        DeltaTables.overwrite(rows, snapshot);
      } while (DeltaTables.version(spark, snapshot) <= m.pricePlanVersion());
      long predictions = DeltaTables.version(spark, warehouse.predictions(UseCase.DEMAND));
      long stores = DeltaTables.version(spark, warehouse.path("predictions/demand_store"));
      long manifests = DeltaTables.version(spark, warehouse.monitoring("scoring_manifest"));
      long snapshots = DeltaTables.version(spark, snapshot);

      assertThatThrownBy(() -> BatchScorer.replay(spark, warehouse, model, D, "test", m))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("version " + m.pricePlanVersion() + " of monitoring/" + BatchScorer.PRICE_PLAN_SNAPSHOT)
          .hasMessageContaining("recreated")
          .hasMessageContaining("score the night again without --replay");
      assertThat(DeltaTables.version(spark, warehouse.predictions(UseCase.DEMAND))).isEqualTo(predictions);
      assertThat(DeltaTables.version(spark, warehouse.path("predictions/demand_store"))).isEqualTo(stores);
      assertThat(DeltaTables.version(spark, warehouse.monitoring("scoring_manifest"))).isEqualTo(manifests);
      assertThat(DeltaTables.version(spark, snapshot)).isEqualTo(snapshots);
      assertThat(partition(D)).containsExactlyElementsOf(reconciled);
    } finally {
      // the snapshot table as it was, for the other tests' replays
      org.apache.commons.io.FileUtils.deleteDirectory(table);
      org.apache.commons.io.FileUtils.copyDirectory(kept, table);
      org.apache.spark.sql.delta.DeltaLog.clearCache();
    }
  }

  @Test
  void aRepeatedPlanRowOfARecursiveDayIsAnInputErrorAndWritesNothing() {
    // a revised price for store 1 item 1 on D+10 landed beside the plan instead of replacing its row
    List<Row> plan = planRows(d -> d.equals(D.plusDays(10)));
    plan.add(RowFactory.create(Date.valueOf(D.plusDays(10)), 1, 1, 2.5, 0));
    long predictions = DeltaTables.version(spark, warehouse.predictions(UseCase.DEMAND));
    long manifests = DeltaTables.version(spark, warehouse.monitoring("scoring_manifest"));
    try {
      RawData.write(spark.createDataFrame(plan, RawData.PRICE_PLAN), warehouse.rawPricePlan());
      assertThatThrownBy(() -> BatchScorer.score(spark, warehouse, model, D, "test",
              new ScoringOptions(21, ScoringOptions.Reconciliation.NONE)))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("Unusable rows in raw/price_plan (" + warehouse.rawPricePlan() + ")")
          .hasMessageContaining("more than one row for store-item-day(s) 1-1 on " + D.plusDays(10) + " (2 rows)")
          .hasMessageContaining("keep one price/promotion row per store, item and day");
      assertThat(DeltaTables.version(spark, warehouse.predictions(UseCase.DEMAND))).isEqualTo(predictions);
      assertThat(DeltaTables.version(spark, warehouse.monitoring("scoring_manifest"))).isEqualTo(manifests);
    } finally {
      writePlan(D.plusDays(10));
    }
  }

  @Test
  void badHorizonsAreInputErrorsNamingTheOptionAndTheFix() {
    assertThatThrownBy(() -> ScoringOptions.of(0, "none"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Invalid value for --horizon-days: '0'")
        .hasMessageContaining("from 1 to 56");
    assertThatThrownBy(() -> ScoringOptions.of(57, "none"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--horizon-days: '57'");
    assertThatThrownBy(() -> ScoringOptions.of(7, "stores"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Invalid value for --reconcile: 'stores'")
        .hasMessageContaining("use none or store");

    // the plan ends on D+28: five weeks cannot be forecast, and nothing is written
    long predictions = DeltaTables.version(spark, warehouse.predictions(UseCase.DEMAND));
    long manifests = DeltaTables.version(spark, warehouse.monitoring("scoring_manifest"));
    assertThatThrownBy(() -> BatchScorer.score(spark, warehouse, model, D, "test",
            new ScoringOptions(35, ScoringOptions.Reconciliation.NONE)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("No rows in raw/price_plan for 4 of 4 store-items on some of the days 2024-04-08..2024-05-05")
        .hasMessageContaining("land the price/promotion plan through 2024-05-05")
        .hasMessageContaining("--horizon-days 28 or less");
    assertThat(DeltaTables.version(spark, warehouse.predictions(UseCase.DEMAND))).isEqualTo(predictions);
    assertThat(DeltaTables.version(spark, warehouse.monitoring("scoring_manifest"))).isEqualTo(manifests);
  }

  @Test
  void monitoringReportsAccuracyForEveryHorizonOfALongForecast() {
    LocalDate earlier = D.minusDays(14);
    BatchScorer.score(spark, warehouse, model, earlier, "test", new ScoringOptions(14, ScoringOptions.Reconciliation.NONE));
    Monitor.Result r = Monitor.run(spark, warehouse, registry, UseCase.DEMAND, D);
    // the night D-14 forecast 10 everywhere; store 1 item 1 sold 40 on D-2..D, i.e. 12..14 days ahead
    Map<Integer, Row> byHorizon =
        r.accuracy().stream().collect(Collectors.toMap(a -> a.<Integer>getAs("horizon_days"), Function.identity()));
    assertThat(byHorizon.keySet()).containsExactlyInAnyOrderElementsOf(
        java.util.stream.IntStream.rangeClosed(1, 14).boxed().toList());
    assertThat(value(byHorizon.get(11), "wape")).isEqualTo(0.0);
    assertThat(value(byHorizon.get(14), "wape")).isCloseTo(30.0 / 70, within(1e-12));
    assertThat(byHorizon.get(14).<Long>getAs("n")).isEqualTo(4L);
    assertThat(r.accuracy()).isSortedAccordingTo(Comparator.comparing(a -> a.<Integer>getAs("horizon_days")));
    // the plot of tonight (scored 14 days ahead) adds that longest horizon
    assertThat(r.plots()).anySatisfy(p -> assertThat(p).endsWith("forecast_vs_actual.png"));
  }
}
