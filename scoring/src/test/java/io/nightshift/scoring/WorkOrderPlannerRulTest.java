package io.nightshift.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.scoring.actions.WorkOrderPlanner;
import io.nightshift.testing.SparkTestSession;
import io.nightshift.training.predict.NativePredictor;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Work orders from hand-made remaining-useful-life predictions laid out as ViewScorer writes them (score date, entity
 * keys, event time, prediction, ...), every expected rank, priority and reason worked out by hand.
 */
class WorkOrderPlannerRulTest {
  static final LocalDate D = LocalDate.of(2024, 3, 1);

  static Row contribution(String feature, double value) {
    return RowFactory.create(feature, value);
  }

  /** predictions/engines-rul for D: key unit, event time cycle. */
  static void engines(SparkSession spark, Warehouse w) {
    engines(spark, w, D);
  }

  /** predictions/engines-rul for {@code date}, the same engines as for D. */
  static void engines(SparkSession spark, Warehouse w, LocalDate date) {
    engines(spark, w, date, ENGINES);
  }

  static final Object[][] ENGINES = {
      // unit, cycle, predicted life, margin, contributions (largest absolute first, as scoring keeps them)
      {1, 200, 25.0, 25.0, List.of(contribution("s11_mean_10", -8.4199), contribution("cycles_run", 5.0),
          contribution("s4", -3.1))},
      {2, 150, 10.0, 10.0, List.of(contribution("s4", -12.0), contribution("s11_mean_10", -2.5))},
      {3, 120, 20.0, 20.0, List.of(contribution("s7", 1.0))}, // nothing shortens its life
      {4, 100, 80.0, 80.0, List.of(contribution("s4", 20.0))}, // beyond the horizon
      {5, 190, 20.0, 20.0, List.of(contribution("s2", -0.5))}, // ties with unit 3
      {6, 210, 30.0, 30.0, List.of(contribution("s3", -1.0))}, // exactly at the horizon
      {7, 260, 0.0, -6.0, List.of(contribution("s11_mean_10", -30.0), contribution("s4", -16.0))}, // clamped
  };

  /** predictions/engines-rul for {@code date}: one row per {unit, cycle, predicted life, margin, contributions}. */
  static void engines(SparkSession spark, Warehouse w, LocalDate date, Object[][] engines) {
    StructType schema = new StructType().add("score_date", "date").add("unit", "int").add("cycle", "int")
        .add("prediction", "double").add("predicted_end_of_life", "double").add("model_name", "string")
        .add("model_version", "string").add("model_run_id", "string").add("feature_table_version", "long")
        .add("margin", "double").add("bias", "double")
        .add("contributions", DataTypes.createArrayType(NativePredictor.CONTRIBUTION));
    List<Row> rows = new ArrayList<>();
    for (Object[] e : engines) {
      double life = (Double) e[2];
      rows.add(RowFactory.create(Date.valueOf(date), e[0], e[1], life, (Integer) e[1] + life, "engines-rul", "4",
          "run-4", 2L, e[3], 40.0, e[4]));
    }
    DeltaTables.replacePartition(spark.createDataFrame(rows, schema), w.path("predictions/engines-rul"), "score_date",
        date.toString());
  }

  /** predictions/fleet-rul for D: keys site and engine, no contributions (scored before they were kept). */
  static void fleet(SparkSession spark, Warehouse w) {
    StructType schema = new StructType().add("score_date", "date").add("site", "string").add("engine", "int")
        .add("cycle", "int").add("prediction", "double").add("predicted_end_of_life", "double")
        .add("model_name", "string").add("model_version", "string");
    List<Row> rows = List.of(
        RowFactory.create(Date.valueOf(D), "north", 3, 50, 12.0, 62.0, "fleet-rul", "1"),
        RowFactory.create(Date.valueOf(D), "south", 1, 70, 40.0, 110.0, "fleet-rul", "1"));
    DeltaTables.replacePartition(spark.createDataFrame(rows, schema), w.path("predictions/fleet-rul"), "score_date",
        D.toString());
  }

  static Dataset<Row> orders(SparkSession spark, Warehouse w, String model) {
    return orders(spark, w, model, D);
  }

  static Dataset<Row> orders(SparkSession spark, Warehouse w, String model, LocalDate date) {
    return spark.read().format("delta").load(w.rulWorkOrders())
        .where("model_name = '" + model + "' AND decision_date = '" + date + "'").orderBy("rank");
  }

  @Test
  void assetsWithinTheHorizonAreRankedByShortestLifePrioritizedAndCappedByCrews() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("rul-orders").toString());
    engines(spark, w);

    WorkOrderPlanner.RulResult r = WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul", 30, 2);
    assertThat(r.workOrders()).isEqualTo(6); // unit 4 (80 cycles) is beyond the 30-cycle horizon
    assertThat(r.scheduled()).isEqualTo(2);
    assertThat(r.table()).isEqualTo(w.path("actions/rul_work_orders"));
    List<Row> rows = orders(spark, w, "engines-rul").collectAsList();
    // shortest predicted life first; units 3 and 5 tie at 20 cycles and go by unit
    assertThat(rows).extracting(x -> x.<Integer>getAs("unit")).containsExactly(7, 2, 3, 5, 1, 6);
    assertThat(rows).extracting(x -> x.<Integer>getAs("rank")).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(rows).extracting(x -> x.<String>getAs("asset")).containsExactly("7", "2", "3", "5", "1", "6");
    assertThat(rows).extracting(x -> x.<Double>getAs("predicted_rul")).containsExactly(0.0, 10.0, 20.0, 20.0, 25.0, 30.0);
    assertThat(rows).extracting(x -> x.<Integer>getAs("cycle")).containsExactly(260, 150, 120, 190, 200, 210);
    assertThat(rows.get(0).<Double>getAs("predicted_end_of_life")).isEqualTo(260.0);
    // P1 up to 10 cycles (a third of 30), P2 up to 20, P3 beyond: the boundaries belong to the more urgent class
    assertThat(rows).extracting(x -> x.<String>getAs("priority")).containsExactly("P1", "P1", "P2", "P2", "P3", "P3");
    assertThat(rows).extracting(x -> x.<String>getAs("status"))
        .containsExactly("scheduled", "scheduled", "backlog", "backlog", "backlog", "backlog");
    assertThat(rows).extracting(x -> x.<Date>getAs("scheduled_date"))
        .containsExactly(Date.valueOf(D.plusDays(1)), Date.valueOf(D.plusDays(1)), null, null, null, null);
    // only the contributions that shorten the life, most first
    assertThat(rows).extracting(x -> x.<String>getAs("reasons")).containsExactly(
        "s11_mean_10 -30.00; s4 -16.00", "s4 -12.00; s11_mean_10 -2.50", null, "s2 -0.50", "s11_mean_10 -8.42; s4 -3.10",
        "s3 -1.00");
    assertThat(rows).allSatisfy(x -> {
      assertThat(x.<Date>getAs("decision_date")).isEqualTo(Date.valueOf(D));
      assertThat(x.<String>getAs("model_name")).isEqualTo("engines-rul");
      assertThat(x.<String>getAs("model_version")).isEqualTo("4");
    });
    assertThat(Arrays.asList(spark.read().format("delta").load(r.table()).columns())).containsSubsequence(
        "decision_date", "model_name", "rank", "unit", "asset", "cycle", "predicted_rul", "predicted_end_of_life",
        "priority", "scheduled_date", "status", "reasons", "model_version");

    assertThat(r.export()).isEqualTo(w.path("exports/rul_work_orders/engines-rul/" + D));
    List<Row> csv = spark.read().option("header", "true").csv(r.export()).collectAsList();
    assertThat(csv).extracting(x -> x.<String>getAs("asset")).containsExactly("7", "2", "3", "5", "1", "6");
    assertThat(csv.get(1).<String>getAs("reasons")).isEqualTo("s4 -12.00; s11_mean_10 -2.50");
  }

  @Test
  void assetsPastTheirPredictedEndOfLifeGoMostOverdueFirst() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("rul-orders-overdue").toString());
    // units 2, 5 and 9 are all predicted past their end of life (life clamped at 0): unit 9 by 40 cycles, unit 5 by
    // 6, unit 2 by 1; the key order (2, 5, 9) is the opposite of the urgency
    engines(spark, w, D, new Object[][] {
        {2, 150, 0.0, -1.0, List.of(contribution("s4", -3.0))},
        {5, 190, 0.0, -6.0, List.of(contribution("s4", -9.0))},
        {9, 300, 0.0, -40.0, List.of(contribution("s11_mean_10", -45.0))},
        {1, 120, 4.0, 4.0, List.of(contribution("s2", -2.0))},
    });

    WorkOrderPlanner.RulResult r = WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul", 30, 1);
    assertThat(r.scheduled()).isEqualTo(1);
    List<Row> rows = orders(spark, w, "engines-rul").collectAsList();
    assertThat(rows).extracting(x -> x.<Integer>getAs("unit")).containsExactly(9, 5, 2, 1);
    assertThat(rows).extracting(x -> x.<Double>getAs("predicted_rul")).containsExactly(0.0, 0.0, 0.0, 4.0);
    assertThat(rows).extracting(x -> x.<String>getAs("status")).containsExactly("scheduled", "backlog", "backlog", "backlog");
  }

  @Test
  void reRunsReplaceOnlyTheirDateAndModel() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("rul-orders-rerun").toString());
    // the night before is planned first: re-running D must leave its orders as they are
    LocalDate dayBefore = D.minusDays(1);
    engines(spark, w, dayBefore);
    assertThat(WorkOrderPlanner.planFromRul(spark, w, dayBefore, "engines-rul", 30, 2).workOrders()).isEqualTo(6);
    String[] columnsBefore = orders(spark, w, "engines-rul", dayBefore).columns();
    List<Row> ordersBefore = orders(spark, w, "engines-rul", dayBefore).collectAsList();
    assertThat(ordersBefore).hasSize(6);
    engines(spark, w);
    fleet(spark, w);

    WorkOrderPlanner.RulResult fleet = WorkOrderPlanner.planFromRul(spark, w, D, "fleet-rul", 30, 5);
    assertThat(fleet.workOrders()).isEqualTo(1);
    Row north = orders(spark, w, "fleet-rul").head();
    assertThat(north.<String>getAs("site")).isEqualTo("north");
    assertThat(north.<Integer>getAs("engine")).isEqualTo(3);
    assertThat(north.<String>getAs("asset")).isEqualTo("north/3");
    assertThat(north.<String>getAs("priority")).isEqualTo("P2");
    assertThat(north.isNullAt(north.fieldIndex("reasons"))).isTrue(); // scored without contributions

    WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul", 30, 2);
    List<Row> first = orders(spark, w, "engines-rul").collectAsList();
    WorkOrderPlanner.RulResult again = WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul", 30, 2);
    assertThat(again.workOrders()).isEqualTo(6);
    assertThat(orders(spark, w, "engines-rul").collectAsList()).isEqualTo(first);
    // 6 + fleet's 1 for D, no copies, and the 6 of the night before
    assertThat(spark.read().format("delta").load(w.rulWorkOrders()).count()).isEqualTo(13);
    assertThat(spark.read().option("header", "true").csv(again.export()).count()).isEqualTo(6);

    // a narrower horizon replaces the model's orders of the night (not added to them), the other model's stay
    WorkOrderPlanner.RulResult narrow = WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul", 10, 2);
    assertThat(narrow.workOrders()).isEqualTo(2);
    assertThat(orders(spark, w, "engines-rul").collectAsList()).extracting(x -> x.<Integer>getAs("unit"))
        .containsExactly(7, 2);
    // with 10 cycles: P1 up to 3.33, P2 up to 6.67; unit 2 (10 cycles) is P3
    assertThat(orders(spark, w, "engines-rul").collectAsList()).extracting(x -> x.<String>getAs("priority"))
        .containsExactly("P1", "P3");
    assertThat(orders(spark, w, "fleet-rul").selectExpr("asset", "predicted_rul", "priority", "status").collectAsList())
        .containsExactly(RowFactory.create("north/3", 12.0, "P2", "scheduled"));

    // no asset within the horizon: the model's night is emptied, not left as it was
    WorkOrderPlanner.RulResult none = WorkOrderPlanner.planFromRul(spark, w, D, "fleet-rul", 5, 5);
    assertThat(none.workOrders()).isZero();
    assertThat(orders(spark, w, "fleet-rul").count()).isZero();
    assertThat(orders(spark, w, "engines-rul").count()).isEqualTo(2);
    // the night before kept its orders through every re-run of D (the table has gained fleet-rul's key columns since)
    assertThat(orders(spark, w, "engines-rul", dayBefore)
            .select(columnsBefore[0], Arrays.copyOfRange(columnsBefore, 1, columnsBefore.length)).collectAsList())
        .isEqualTo(ordersBefore);
    assertThat(spark.read().format("delta").load(w.rulWorkOrders()).count()).isEqualTo(8);
  }

  /** A one-engine predictions/NAME for D with its own key and event-time columns. */
  static void oneEngine(SparkSession spark, Warehouse w, String model, String keyDdl, String timeDdl) {
    spark.sql("SELECT CAST('" + D + "' AS DATE) AS score_date, " + keyDdl + ", " + timeDdl + ", 5.0D AS prediction, "
            + "CAST('" + D.plusDays(5) + "' AS DATE) AS predicted_end_of_life, '" + model + "' AS model_name,"
            + " '1' AS model_version")
        .write().format("delta").mode("overwrite").save(w.path("predictions/" + model));
  }

  @Test
  void aModelWhoseColumnsCannotJoinTheSharedTableIsAnInputErrorThatWritesNothing() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("rul-orders-shared").toString());
    engines(spark, w);
    WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul", 30, 2);
    long version = io.delta.tables.DeltaTable.forPath(spark, w.rulWorkOrders()).history(1).head().getLong(0);

    // a view whose event time is a date: its predicted end of life is a date, where engines-rul's is a cycle count
    oneEngine(spark, w, "dated-rul", "7 AS tail", "CAST('" + D + "' AS DATE) AS day");
    assertThatThrownBy(() -> WorkOrderPlanner.planFromRul(spark, w, D, "dated-rul", 30, 2))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("actions/rul_work_orders")
        .hasMessageContaining("predicted_end_of_life")
        .hasMessageContaining("engines-rul")
        .hasMessageContaining("Fix:");
    // an entity key with the name of a work-order column, in any case
    oneEngine(spark, w, "asset-rul", "'a-1' AS Asset", "10 AS cycle");
    assertThatThrownBy(() -> WorkOrderPlanner.planFromRul(spark, w, D, "asset-rul", 30, 2))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("predictions/asset-rul")
        .hasMessageContaining("Asset")
        .hasMessageContaining("rename");
    // nothing was written by either
    assertThat(io.delta.tables.DeltaTable.forPath(spark, w.rulWorkOrders()).history(1).head().getLong(0))
        .isEqualTo(version);
    assertThat(spark.read().format("delta").load(w.rulWorkOrders()).select("model_name").distinct().collectAsList())
        .containsExactly(RowFactory.create("engines-rul"));
    assertThat(new java.io.File(w.path("exports/rul_work_orders/dated-rul"))).doesNotExist();
  }

  @Test
  void aModelsExportHasItsOwnColumnsWhateverOtherModelsAddedToTheTable() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("rul-orders-export").toString());
    fleet(spark, w);
    WorkOrderPlanner.RulResult alone = WorkOrderPlanner.planFromRul(spark, w, D, "fleet-rul", 30, 5);
    String header = header(alone.export());
    assertThat(header).isEqualTo("decision_date,model_name,rank,site,engine,asset,cycle,predicted_rul,"
        + "predicted_end_of_life,priority,scheduled_date,status,reasons,model_version");

    engines(spark, w); // adds its key column unit to the shared table
    WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul", 30, 2);
    WorkOrderPlanner.RulResult again = WorkOrderPlanner.planFromRul(spark, w, D, "fleet-rul", 30, 5);
    assertThat(header(again.export())).isEqualTo(header);
  }

  /** The first line of the one CSV file in {@code dir}. */
  static String header(String dir) {
    try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(java.nio.file.Path.of(dir))) {
      java.nio.file.Path csv = files.filter(f -> f.getFileName().toString().endsWith(".csv")).findFirst().orElseThrow();
      return java.nio.file.Files.readAllLines(csv).get(0);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void missingOrNonRulPredictionsAndBadSettingsAreInputErrorsThatWriteNothing() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("rul-orders-errors").toString());
    engines(spark, w);
    spark.sql("SELECT CAST('2024-03-01' AS DATE) AS score_date, 1 AS store, 2.0D AS prediction, 'sales' AS model_name,"
            + " '1' AS model_version")
        .write().format("delta").save(w.path("predictions/sales"));

    assertThatThrownBy(() -> WorkOrderPlanner.planFromRul(spark, w, D, "nope", 30, 2))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Missing table predictions/nope")
        .hasMessageContaining("nightshift score --date 2024-03-01 --model nope@champion");
    assertThatThrownBy(() -> WorkOrderPlanner.planFromRul(spark, w, D.plusDays(1), "engines-rul", 30, 2))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("No rows in predictions/engines-rul for score date 2024-03-02")
        .hasMessageContaining("nightshift score --date 2024-03-02 --model engines-rul@champion");
    assertThatThrownBy(() -> WorkOrderPlanner.planFromRul(spark, w, D, "sales", 30, 2))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--rul-model")
        .hasMessageContaining("predictions/sales has no predicted_end_of_life column")
        .hasMessageContaining("not a remaining-useful-life model");
    assertThatThrownBy(() -> WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul@champion", 30, 2))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--rul-model")
        .hasMessageContaining("without an alias or version");
    for (double horizon : new double[] {0, -5, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThatThrownBy(() -> WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul", horizon, 2))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("Invalid value for --rul-horizon");
    }
    assertThatThrownBy(() -> WorkOrderPlanner.planFromRul(spark, w, D, "engines-rul", 30, -1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Invalid value for --crews");
    assertThat(DeltaTables.exists(spark, w.rulWorkOrders())).isFalse();
  }
}
