package io.nightshift.featurestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.tables.DeltaTable;
import io.nightshift.core.InvalidInputException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.featurestore.views.ViewDefinition;
import io.nightshift.featurestore.views.ViewDefinitions;
import io.nightshift.featurestore.views.ViewRegistry;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class HousekeepingTest {
  static final LocalDate AS_OF = LocalDate.of(2023, 4, 30);

  /** A warehouse of its own with generated raw data through {@link #AS_OF}. */
  private static Warehouse generated(String name) {
    Warehouse w = new Warehouse(SparkTestSession.tempDir(name).toString());
    SyntheticData.generate(SparkTestSession.get(), w, new GeneratorConfig(1, LocalDate.of(2023, 1, 1), AS_OF, 2, 2, 2, 7));
    return w;
  }

  @Test
  void compactsZOrdersVacuumsAndKeepsTheData() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = generated("housekeeping");
    LocalDate asOf = AS_OF;
    String path = w.features(UseCase.DEMAND);
    DeltaTables.overwrite(DemandFeatures.compute(spark, w, asOf).repartition(6), path);
    long rows = spark.read().format("delta").load(path).count();

    List<Housekeeping.TableReport> reports = Housekeeping.run(spark, w, Housekeeping.MIN_RETENTION_HOURS);
    Housekeeping.TableReport r = reports.get(0);
    assertThat(r.table()).isEqualTo(path);
    assertThat(r.zOrderBy()).isEqualTo("store,item");
    assertThat(r.filesBefore()).isEqualTo(6);
    assertThat(r.filesAfter()).isEqualTo(1);
    assertThat(spark.read().format("delta").load(path).count()).isEqualTo(rows);
    List<String> operations =
        DeltaTable.forPath(spark, path).history().select("operation").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertThat(operations).contains("OPTIMIZE", "SET TBLPROPERTIES", "VACUUM END");
    Row props = spark.sql("SHOW TBLPROPERTIES delta.`" + path + "` ('delta.deletedFileRetentionDuration')").head();
    assertThat(props.getString(1)).isEqualTo("interval 168 hours");
  }

  @Test
  void keepsEveryTableOfTheWarehouseIncludingDeclaredViewsAndAnyModelsPredictions() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = generated("housekeeping-all");
    LocalDate asOf = AS_OF;
    java.nio.file.Path file = io.nightshift.testing.LocalMlflowServer.projectRoot().resolve("conf/features/sales_daily.yaml");
    ViewDefinition view = ViewDefinitions.load(file);
    ViewRegistry.build(spark, w, view, file.toString(), java.util.Optional.of(asOf), true);
    // tables that scoring, actions and quarantine write besides the built-in ones, each in three files
    Dataset<Row> rows = spark.range(30).selectExpr("id", "cast(id % 3 as int) as part");
    List<String> others = List.of(
        "predictions/demand_store", "predictions/nightshift-sales-daily", "monitoring/scoring_price_plan",
        "actions/rul_work_orders", "quarantine/sales_daily");
    for (String t : others) {
      DeltaTables.overwrite(rows.repartition(3), w.path(t));
    }
    // a Delta table the user landed as raw data is not Nightshift's to compact or vacuum
    DeltaTables.overwrite(rows.repartition(3), w.path("raw/landed"));

    Map<String, Housekeeping.TableReport> reports = new java.util.HashMap<>();
    Housekeeping.run(spark, w, Housekeeping.MIN_RETENTION_HOURS).forEach(r -> reports.put(r.table(), r));

    List<String> expected = new java.util.ArrayList<>(List.of(w.featureView("sales_daily"), w.featureRegistry()));
    others.forEach(t -> expected.add(w.path(t)));
    assertThat(reports.keySet()).containsExactlyInAnyOrderElementsOf(expected);
    for (String t : others) {
      assertThat(reports.get(w.path(t))).as(t).isEqualTo(new Housekeeping.TableReport(w.path(t), "", 3, 1));
    }
    // the declared view is Z-ordered by the entities its registry record names
    assertThat(reports.get(w.featureView("sales_daily")).zOrderBy()).isEqualTo(String.join(",", view.entities()))
        .isEqualTo("store,item");
    assertThat(reports.get(w.featureRegistry()).filesAfter()).isEqualTo(1);
    assertThat(spark.sql("DESCRIBE DETAIL delta.`" + w.path("raw/landed") + "`").head().<Long>getAs("numFiles"))
        .isEqualTo(3L);
  }

  @Test
  void keepsTheTablesOfAWarehouseGivenAsARelativePath() {
    // the CLI's default warehouse is .nightshift/warehouse, relative to the working directory
    SparkSession spark = SparkTestSession.get();
    java.nio.file.Path absolute = SparkTestSession.tempDir("housekeeping-relative");
    String relative = java.nio.file.Path.of("").toAbsolutePath().relativize(absolute).toString();
    assertThat(relative).doesNotStartWith("/");
    Warehouse w = new Warehouse(relative);
    Dataset<Row> rows = spark.range(30).selectExpr("id");
    DeltaTables.overwrite(rows.repartition(3), w.path("predictions/demand"));

    List<Housekeeping.TableReport> reports = Housekeeping.run(spark, w, Housekeeping.MIN_RETENTION_HOURS);
    assertThat(reports).containsExactly(new Housekeeping.TableReport(w.path("predictions/demand"), "", 3, 1));
    assertThat(spark.read().format("delta").load(absolute.resolve("predictions/demand").toString()).count())
        .isEqualTo(30);
  }

  @Test
  void vacuumListsASmallTableInAFewTasksUnlessTheSessionSaysOtherwise() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String key = Housekeeping.LISTING_PARALLELISM;
    String testValue = spark.conf().get(key);
    Warehouse w = new Warehouse(SparkTestSession.tempDir("housekeeping-listing").toString());
    DeltaTables.overwrite(spark.range(30).selectExpr("id").repartition(3), w.path("predictions/demand"));
    // the largest stage of each run, as a listener on the session's context sees them
    java.util.concurrent.atomic.AtomicInteger largest = new java.util.concurrent.atomic.AtomicInteger();
    org.apache.spark.scheduler.SparkListener listener = new org.apache.spark.scheduler.SparkListener() {
      @Override
      public void onStageSubmitted(org.apache.spark.scheduler.SparkListenerStageSubmitted stage) {
        largest.accumulateAndGet(stage.stageInfo().numTasks(), Math::max);
      }
    };
    spark.sparkContext().addSparkListener(listener);
    try {
      // Spark's default: Delta would list the table in 10,000 tasks
      spark.conf().unset(key);
      Housekeeping.run(spark, w, Housekeeping.MIN_RETENTION_HOURS);
      spark.sparkContext().listenerBus().waitUntilEmpty();
      assertThat(largest.get()).as("tasks of the largest stage").isBetween(1, 2);
      assertThat(spark.conf().contains(key)).as("the session's setting is left as it was").isFalse();

      // a value the session sets is Delta's to use
      spark.conf().set(key, 7);
      largest.set(0);
      Housekeeping.run(spark, w, Housekeeping.MIN_RETENTION_HOURS);
      spark.sparkContext().listenerBus().waitUntilEmpty();
      assertThat(largest.get()).isEqualTo(7);
      assertThat(spark.conf().get(key)).isEqualTo("7");
    } finally {
      spark.sparkContext().removeSparkListener(listener);
      spark.conf().set(key, testValue);
    }
  }

  @Test
  void listingTasksGrowWithTheTableBetweenTheDefaultParallelismAndSparksDefault() {
    assertThat(Housekeeping.listingTasks(2, 0)).isEqualTo(2);
    assertThat(Housekeeping.listingTasks(2, 18)).isEqualTo(2);
    assertThat(Housekeeping.listingTasks(2, 31)).isEqualTo(4);
    assertThat(Housekeeping.listingTasks(200, 5_000)).isEqualTo(500);
    assertThat(Housekeeping.listingTasks(200, 1_000)).isEqualTo(200);
    assertThat(Housekeeping.listingTasks(8, 10_000_000)).isEqualTo(10_000);
  }

  @Test
  void refusesUnsafeRetention() {
    Warehouse w = new Warehouse(SparkTestSession.tempDir("housekeeping2").toString());
    assertThatThrownBy(() -> Housekeeping.run(SparkTestSession.get(), w, 1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--retention-hours")
        .hasMessageContaining("at least 168 hours");
  }
}
