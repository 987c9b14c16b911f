package io.nightshift.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.RawData;
import io.nightshift.scoring.actions.ReplenishmentPlanner;
import io.nightshift.scoring.actions.WorkOrderPlanner;
import io.nightshift.testing.SparkTestSession;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Decisions on hand-made predictions, with every expected quantity worked out by hand. */
class ActionPlannersTest {
  static final LocalDate D = LocalDate.of(2024, 3, 1);
  static SparkSession spark;
  static Warehouse warehouse;

  @BeforeAll
  static void setUp() {
    spark = SparkTestSession.get();
    warehouse = new Warehouse(SparkTestSession.tempDir("actions").toString());
    StructType demand =
        new StructType().add("score_date", "date").add("store", "int").add("item", "int").add("target_date", "date")
            .add("horizon_days", "int").add("prediction", "double").add("prediction_std", "double").add("model_version", "string");
    List<Row> forecasts = new ArrayList<>();
    for (int h = 1; h <= 7; h++) {
      forecasts.add(RowFactory.create(Date.valueOf(D), 1, 1, Date.valueOf(D.plusDays(h)), h, 10.0, 2.0, "3"));
      forecasts.add(RowFactory.create(Date.valueOf(D), 1, 2, Date.valueOf(D.plusDays(h)), h, 1.0, 2.0, "3"));
    }
    DeltaTables.replacePartition(spark.createDataFrame(forecasts, demand), warehouse.predictions(UseCase.DEMAND), "score_date", D.toString());
    RawData.write(spark.createDataFrame(List.of(
        RowFactory.create(1, "grocery", 6, 3, 2.0), RowFactory.create(2, "grocery", 1, 5, 9.0)), RawData.ITEMS), warehouse.rawItems());
    RawData.write(spark.createDataFrame(List.of(
        RowFactory.create(Date.valueOf(D), 1, 1, 5, 6), RowFactory.create(Date.valueOf(D), 1, 2, 40, 0)), RawData.INVENTORY), warehouse.rawInventory());

    StructType maint =
        new StructType().add("score_date", "date").add("machine_id", "int").add("target_date", "date")
            .add("horizon_days", "int").add("prediction", "double").add("prediction_std", "double").add("model_version", "string");
    List<Row> risks = new ArrayList<>();
    double[] p = {0.9, 0.7, 0.55, 0.2};
    for (int m = 0; m < p.length; m++) {
      risks.add(RowFactory.create(Date.valueOf(D), m + 1, Date.valueOf(D), 0, p[m], null, "7"));
    }
    DeltaTables.replacePartition(spark.createDataFrame(risks, maint), warehouse.predictions(UseCase.MAINTENANCE), "score_date", D.toString());
  }

  @Test
  void ordersCoverLeadTimeDemandPlusSafetyStockInPacks() {
    ReplenishmentPlanner.Result r = ReplenishmentPlanner.plan(spark, warehouse, D, 0.95);
    assertThat(r.proposals()).isEqualTo(2);
    assertThat(r.orders()).isEqualTo(1);
    Row item1 = spark.read().format("delta").load(warehouse.replenishmentOrders()).where("item = 1").head();
    // lead time 3 days: demand 30; safety 1.6449 * 2 * sqrt(3) = 5.698; need 35.698 - 5 on hand - 6 on order = 24.7
    assertThat(item1.<Double>getAs("forecast_lead_time")).isEqualTo(30.0);
    assertThat(item1.<Double>getAs("safety_stock")).isCloseTo(5.698, within(1e-3));
    assertThat(item1.<Long>getAs("order_qty")).isEqualTo(30L); // 24.7 rounded up to packs of 6
    Row item2 = spark.read().format("delta").load(warehouse.replenishmentOrders()).where("item = 2").head();
    assertThat(item2.<Double>getAs("forecast_lead_time")).isEqualTo(5.0);
    assertThat(item2.<Long>getAs("order_qty")).isZero(); // 40 on hand covers 5 + 7.36
    assertThat(spark.read().option("header", "true").csv(r.export()).count()).isEqualTo(1);
  }

  /**
   * The replenishment proposal of store 1, item 1 planned at a 95% service level from seven days of the same quantile
   * forecast {prediction, prediction_std, P10, P50, P90} and, unless null, {@code forecastStd} (predictions scored
   * before it was written have no such column), with the item's pack size and lead time and the store-item's stock on
   * hand and on order.
   */
  private static Row planFromQuantiles(
      String dir, double[] forecast, Double forecastStd, int packSize, int leadTimeDays, int onHand, int onOrder) {
    Warehouse w = new Warehouse(SparkTestSession.tempDir(dir).toString());
    StructType demand =
        new StructType().add("score_date", "date").add("store", "int").add("item", "int").add("target_date", "date")
            .add("horizon_days", "int").add("prediction", "double").add("prediction_std", "double")
            .add("forecast_p10", "double").add("forecast_p50", "double").add("forecast_p90", "double")
            .add("model_version", "string");
    if (forecastStd != null) {
      demand = demand.add("forecast_std", "double");
    }
    List<Row> forecasts = new ArrayList<>();
    for (int h = 1; h <= 7; h++) {
      List<Object> values = new ArrayList<>(List.of(Date.valueOf(D), 1, 1, Date.valueOf(D.plusDays(h)), h, forecast[0],
          forecast[1], forecast[2], forecast[3], forecast[4], "3"));
      if (forecastStd != null) {
        values.add(forecastStd);
      }
      forecasts.add(RowFactory.create(values.toArray()));
    }
    DeltaTables.replacePartition(spark.createDataFrame(forecasts, demand), w.predictions(UseCase.DEMAND), "score_date", D.toString());
    RawData.write(
        spark.createDataFrame(List.of(RowFactory.create(1, "grocery", packSize, leadTimeDays, 2.0)), RawData.ITEMS),
        w.rawItems());
    RawData.write(
        spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(D), 1, 1, onHand, onOrder)), RawData.INVENTORY),
        w.rawInventory());
    ReplenishmentPlanner.plan(spark, w, D, 0.95);
    return spark.read().format("delta").load(w.replenishmentOrders()).head();
  }

  @Test
  void safetyStockComesFromTheQuantileForecastsWhenPresent() {
    // forecast 10 a day, prediction_std 2, P10 / P50 / P90 7 / 9.5 / 15, scored before forecast_std was written;
    // packs of 6, lead time 3, 5 on hand, 6 on order
    Row item1 = planFromQuantiles("actions-quantiles", new double[] {10.0, 2.0, 7.0, 9.5, 15.0}, null, 6, 3, 5, 6);
    // daily std (15 - 7) / (2 * 1.28155) = 3.1212, not prediction_std 2.0; safety 1.6449 * 3.1212 * sqrt(3) = 8.893
    assertThat(item1.<Double>getAs("safety_stock")).isCloseTo(8.893, within(1e-3));
    // need 30 + 8.893 - 5 - 6 = 27.89, rounded up to packs of 6
    assertThat(item1.<Long>getAs("order_qty")).isEqualTo(30L);
  }

  @Test
  void aSlowMoversSafetyStockComesFromItsSpreadBeforeP10IsClippedAtZero() {
    // forecast 0.3 a day with offsets -1 / -0.05 / +1.4 standard units (one unit below a forecast of 1): P10 would be
    // -0.7, clipped at 0; P50 0.25; P90 1.7. The scorer's forecast_std is the spread before clipping,
    // (1.4 + 1) / (2 * 1.28155) = 0.93637. Single units, lead time 4, 1 on hand
    double forecastStd = 2.4 / (2 * 1.2815515655446004);
    Row item1 = planFromQuantiles("actions-slow", new double[] {0.3, 0.5, 0.0, 0.25, 1.7}, forecastStd, 1, 4, 1, 0);
    // safety over a 4-day lead time 1.6449 * 0.93637 * sqrt(4) = 3.0804 (from the clipped P90 - P10 the std would be
    // 1.7 / 2.5631 = 0.6633 and the safety 2.182)
    assertThat(item1.<Double>getAs("safety_stock")).isCloseTo(3.0804, within(1e-3));
    // need 1.2 + 3.0804 - 1 on hand = 3.28, rounded up to whole units (3 from the clipped spread)
    assertThat(item1.<Long>getAs("order_qty")).isEqualTo(4L);
  }

  private static final StructType POINT_FORECASTS =
      new StructType().add("score_date", "date").add("store", "int").add("item", "int").add("target_date", "date")
          .add("horizon_days", "int").add("prediction", "double").add("prediction_std", "double")
          .add("model_version", "string");

  /**
   * Lands one store-item's inputs for {@link #D} (store 1, item 2): point forecasts of {@code perDay} for horizons
   * 1..{@code horizons} by model version {@code modelVersion}, its item row and its stock snapshot.
   */
  private static void landOneItem(
      Warehouse w, int horizons, double perDay, double std, String modelVersion, int packSize, int leadTimeDays,
      int onHand) {
    List<Row> forecasts = new ArrayList<>();
    for (int h = 1; h <= horizons; h++) {
      forecasts.add(RowFactory.create(Date.valueOf(D), 1, 2, Date.valueOf(D.plusDays(h)), h, perDay, std, modelVersion));
    }
    DeltaTables.replacePartition(spark.createDataFrame(forecasts, POINT_FORECASTS), w.predictions(UseCase.DEMAND),
        "score_date", D.toString());
    RawData.write(spark.createDataFrame(List.of(RowFactory.create(2, "grocery", packSize, leadTimeDays, 9.0)),
        RawData.ITEMS), w.rawItems());
    RawData.write(spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(D), 1, 2, onHand, 0)),
        RawData.INVENTORY), w.rawInventory());
  }

  @Test
  void proposalsAreWrittenFromTheInputsThatWereChecked() {
    Warehouse w = new Warehouse(SparkTestSession.tempDir("actions-pinned").toString());
    landOneItem(w, 7, 10.0, 0.0, "3", 5, 3, 4);
    Prepared<ReplenishmentPlanner.Result> night = ReplenishmentPlanner.prepare(spark, w, D, 0.95);

    // after the checks, files that would fail them land (pack size 0, a second snapshot row) and the forecasts change
    landOneItem(w, 7, 20.0, 0.0, "4", 0, 7, 100);
    RawData.write(spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(D), 1, 2, 100, 0),
        RowFactory.create(Date.valueOf(D), 1, 2, 50, 0)), RawData.INVENTORY), w.rawInventory());

    ReplenishmentPlanner.Result r = night.write();
    assertThat(r.proposals()).isEqualTo(1L);
    Row order = spark.read().format("delta").load(w.replenishmentOrders()).head();
    // as checked: lead time 3 at 10 a day, 4 on hand, packs of 5: 30 - 4 = 26, rounded up to 30
    assertThat(order.<Double>getAs("forecast_lead_time")).isEqualTo(30.0);
    assertThat(order.<Integer>getAs("on_hand")).isEqualTo(4);
    assertThat(order.<Long>getAs("order_qty")).isEqualTo(30L);
    assertThat(order.<String>getAs("model_version")).isEqualTo("3");
  }

  @Test
  void aForecastShorterThanALeadTimeIsAnInputErrorAndWritesNothing() {
    Warehouse w = new Warehouse(SparkTestSession.tempDir("actions-short").toString());
    landOneItem(w, 4, 1.0, 1.0, "3", 1, 5, 0);
    assertThatThrownBy(() -> ReplenishmentPlanner.plan(spark, w, D, 0.95))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("No rows in predictions/demand for horizons 5..5 of score date 2024-03-01")
        .hasMessageContaining("item(s) 2 have lead times up to 5 days")
        .hasMessageContaining("--horizon-days 5");
    assertThat(DeltaTables.exists(spark, w.replenishmentOrders())).isFalse();
  }

  @Test
  void aLeadTimeBeyondTheLongestForecastIsAnItemMasterErrorNotAHorizonToScoreWith() {
    // no --horizon-days reaches 60 days: the fix is the item master, not a score command that would be refused
    Warehouse w = new Warehouse(SparkTestSession.tempDir("actions-lead").toString());
    forecastItems(w, D, 2, 10.0);
    RawData.write(spark.createDataFrame(List.of(
        RowFactory.create(1, "grocery", 6, 3, 2.0), RowFactory.create(2, "grocery", 6, 60, 2.0)), RawData.ITEMS), w.rawItems());
    RawData.write(spark.createDataFrame(List.of(
        RowFactory.create(Date.valueOf(D), 1, 1, 0, 0), RowFactory.create(Date.valueOf(D), 1, 2, 0, 0)), RawData.INVENTORY),
        w.rawInventory());
    assertThatThrownBy(() -> ReplenishmentPlanner.plan(spark, w, D, 0.95))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Unusable rows in raw/items (" + w.rawItems() + ")")
        .hasMessageContaining("lead_time_days above 56 for item(s) 2")
        .hasMessageContaining("lead_time_days from 1 to 56 (the longest forecast, --horizon-days 56)")
        .hasMessageNotContaining("--horizon-days 60");
    assertThat(DeltaTables.exists(spark, w.replenishmentOrders())).isFalse();
  }

  @Test
  void itemsMissingFromTheItemMasterOrWithoutAPackSizeAreAnInputErrorAndWriteNothing() {
    Warehouse w = new Warehouse(SparkTestSession.tempDir("actions-items").toString());
    forecastItems(w, D, 4, 10.0);
    // item 1 is fine; item 2 has packs of 0; item 3 has no row; item 4 has two rows
    RawData.write(spark.createDataFrame(List.of(
        RowFactory.create(1, "grocery", 6, 3, 2.0), RowFactory.create(2, "grocery", 0, 3, 2.0),
        RowFactory.create(4, "grocery", 6, 3, 2.0), RowFactory.create(4, "grocery", 12, 3, 2.0)), RawData.ITEMS), w.rawItems());
    RawData.write(spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(D), 1, 1, 0, 0)), RawData.INVENTORY), w.rawInventory());
    assertThatThrownBy(() -> ReplenishmentPlanner.plan(spark, w, D, 0.95))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Unusable rows in raw/items (" + w.rawItems() + ")")
        .hasMessageContaining("no row for item(s) 3")
        .hasMessageContaining("more than one row for item(s) 4")
        .hasMessageContaining("pack_size missing or below 1 for item(s) 2")
        .hasMessageNotContaining("lead_time_days missing")
        .hasMessageContaining("exactly one row in raw/items with pack_size >= 1");
    assertThat(DeltaTables.exists(spark, w.replenishmentOrders())).isFalse();
  }

  @Test
  void storeItemsMissingFromTheStockSnapshotOrWithNegativeStockAreAnInputErrorAndWriteNothing() {
    Warehouse w = new Warehouse(SparkTestSession.tempDir("actions-stock").toString());
    forecastItems(w, D, 4, 10.0);
    List<Row> items = new ArrayList<>();
    for (int item = 1; item <= 4; item++) {
      items.add(RowFactory.create(item, "grocery", 6, 3, 2.0));
    }
    RawData.write(spark.createDataFrame(items, RawData.ITEMS), w.rawItems());
    // store 1: item 1 is fine; item 2 has no row that night (only the night before); item 3 has two rows; item 4 has
    // negative stock on hand and no on-order quantity; store 2 is not forecast and does not matter
    RawData.write(spark.createDataFrame(List.of(
        RowFactory.create(Date.valueOf(D), 1, 1, 5, 6), RowFactory.create(Date.valueOf(D.minusDays(1)), 1, 2, 5, 6),
        RowFactory.create(Date.valueOf(D), 1, 3, 5, 0), RowFactory.create(Date.valueOf(D), 1, 3, 7, 0),
        RowFactory.create(Date.valueOf(D), 1, 4, -3, null), RowFactory.create(Date.valueOf(D), 2, 2, -1, null)),
        RawData.INVENTORY), w.rawInventory());
    assertThatThrownBy(() -> ReplenishmentPlanner.plan(spark, w, D, 0.95))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Unusable rows in raw/inventory (" + w.rawInventory() + "): snapshot of 2024-03-01")
        .hasMessageContaining("no row for store 1 item 2;")
        .hasMessageContaining("more than one row for store 1 item 3;")
        .hasMessageContaining("on_hand missing or negative for store 1 item 4;")
        .hasMessageContaining("on_order missing or negative for store 1 item 4.")
        .hasMessageNotContaining("store 2")
        .hasMessageContaining("exactly one row per forecast store-item for 2024-03-01 in raw/inventory");
    assertThat(DeltaTables.exists(spark, w.replenishmentOrders())).isFalse();
  }

  @Test
  void rerunReplacesTheDecisionDate() {
    // item 1 (lead time 3, packs of 6), 5 on hand and 6 on order both days; the day before D forecasts 5 a day
    Warehouse w = new Warehouse(SparkTestSession.tempDir("actions-rerun").toString());
    LocalDate before = D.minusDays(1);
    forecastItem1(w, before, 5.0);
    forecastItem1(w, D, 10.0);
    RawData.write(
        spark.createDataFrame(List.of(RowFactory.create(1, "grocery", 6, 3, 2.0)), RawData.ITEMS), w.rawItems());
    RawData.write(spark.createDataFrame(List.of(
        RowFactory.create(Date.valueOf(before), 1, 1, 5, 6), RowFactory.create(Date.valueOf(D), 1, 1, 5, 6)),
        RawData.INVENTORY), w.rawInventory());
    ReplenishmentPlanner.plan(spark, w, before, 0.95);
    ReplenishmentPlanner.plan(spark, w, D, 0.95);
    Row dayBefore = orderOf(w, before);
    assertThat(dayBefore.<Double>getAs("forecast_lead_time")).isEqualTo(15.0);
    assertThat(dayBefore.<Long>getAs("order_qty")).isEqualTo(12L); // 15 + 5.698 - 11 = 9.7: two packs
    assertThat(orderOf(w, D).<Double>getAs("forecast_lead_time")).isEqualTo(30.0);

    // D is re-scored with twice the demand, then planned again: its row is replaced, the day before is untouched
    forecastItem1(w, D, 20.0);
    ReplenishmentPlanner.plan(spark, w, D, 0.95);
    assertThat(spark.read().format("delta").load(w.replenishmentOrders()).count()).isEqualTo(2);
    Row replanned = orderOf(w, D);
    assertThat(replanned.<Double>getAs("forecast_lead_time")).isEqualTo(60.0);
    assertThat(replanned.<Long>getAs("order_qty")).isEqualTo(60L); // 60 + 5.698 - 11 = 54.7: ten packs
    assertThat(orderOf(w, before)).isEqualTo(dayBefore);
  }

  /** Replaces score date {@code d}'s forecasts: store 1 / item 1 sells {@code perDay} on each of the next 7 days. */
  private static void forecastItem1(Warehouse w, LocalDate d, double perDay) {
    forecastItems(w, d, 1, perDay);
  }

  /** Forecasts of {@code perDay} units (std 2) for items 1..{@code items} of store 1, 7 days ahead of {@code d}. */
  private static void forecastItems(Warehouse w, LocalDate d, int items, double perDay) {
    StructType demand =
        new StructType().add("score_date", "date").add("store", "int").add("item", "int").add("target_date", "date")
            .add("horizon_days", "int").add("prediction", "double").add("prediction_std", "double")
            .add("model_version", "string");
    List<Row> forecasts = new ArrayList<>();
    for (int h = 1; h <= 7; h++) {
      for (int item = 1; item <= items; item++) {
        forecasts.add(RowFactory.create(Date.valueOf(d), 1, item, Date.valueOf(d.plusDays(h)), h, perDay, 2.0, "3"));
      }
    }
    DeltaTables.replacePartition(
        spark.createDataFrame(forecasts, demand), w.predictions(UseCase.DEMAND), "score_date", d.toString());
  }

  /** The one proposal of decision date {@code d}. */
  private static Row orderOf(Warehouse w, LocalDate d) {
    List<Row> rows =
        spark.read().format("delta").load(w.replenishmentOrders()).where("decision_date = '" + d + "'").collectAsList();
    assertThat(rows).as("proposals of %s", d).hasSize(1);
    return rows.get(0);
  }

  @Test
  void workOrdersAreRankedPrioritizedAndCappedByCrews() {
    WorkOrderPlanner.Result r = WorkOrderPlanner.plan(spark, warehouse, D, 0.5, 2);
    assertThat(r.workOrders()).isEqualTo(3);
    assertThat(r.scheduled()).isEqualTo(2);
    List<Row> rows = spark.read().format("delta").load(warehouse.workOrders()).orderBy("rank").collectAsList();
    assertThat(rows).extracting(x -> x.<Integer>getAs("machine_id")).containsExactly(1, 2, 3);
    assertThat(rows).extracting(x -> x.<String>getAs("priority")).containsExactly("P1", "P2", "P3");
    assertThat(rows).extracting(x -> x.<String>getAs("status")).containsExactly("scheduled", "scheduled", "backlog");
    assertThat(rows.get(0).<Date>getAs("scheduled_date").toLocalDate()).isEqualTo(D.plusDays(1));
  }

  @Test
  void reasonsListTheFeaturesThatRaiseTheRisk() {
    StructType schema =
        new StructType().add("contributions", org.apache.spark.sql.types.DataTypes.createArrayType(
            io.nightshift.training.predict.NativePredictor.CONTRIBUTION));
    Row contributions = RowFactory.create(List.of(
        RowFactory.create("vibration_mean_7d", 0.8412), RowFactory.create("pressure", -0.5),
        RowFactory.create("temperature_trend", 0.3071)));
    var df = spark.createDataFrame(List.of(contributions), schema);
    assertThat(df.select(WorkOrderPlanner.reasons(df)).head().getString(0))
        .isEqualTo("vibration_mean_7d +0.84; temperature_trend +0.31");
    var without = spark.range(1).toDF();
    assertThat(without.select(WorkOrderPlanner.reasons(without)).head().isNullAt(0)).isTrue();
  }

  @Test
  void missingPredictionsOrBadSettingsAreInputErrors() {
    assertThatThrownBy(() -> ReplenishmentPlanner.plan(spark, warehouse, D.plusDays(1), 0.95))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("No rows in predictions/demand for score date 2024-03-02")
        .hasMessageContaining("nightshift score --date 2024-03-02");
    assertThatThrownBy(() -> ReplenishmentPlanner.plan(spark, warehouse, D, 1.2))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--service-level");
    assertThatThrownBy(() -> WorkOrderPlanner.plan(spark, warehouse, D, 0.5, -1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--crews");
  }
}
