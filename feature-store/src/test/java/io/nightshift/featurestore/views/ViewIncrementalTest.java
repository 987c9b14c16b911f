package io.nightshift.featurestore.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.views.ViewDefinition.Format;
import io.nightshift.featurestore.views.ViewDefinition.Function;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** Incremental builds and range rebuilds give exactly the rows of a whole build, and touch only their days. */
class ViewIncrementalTest {
  static final LocalDate D = LocalDate.of(2024, 3, 1);

  static ViewDefinition view() {
    Map<String, String> cols = new LinkedHashMap<>();
    cols.put("day", "date");
    cols.put("store", "int");
    cols.put("units", "double");
    return ViewDefinition.builder("store_units")
        .owner("test")
        .entities("store")
        .eventTime("day", TimeType.DATE)
        .source(Format.DELTA, "raw/units", Map.of(), cols)
        .aggregate("units", List.of(Function.SUM, Function.MEAN), List.of(3, 7))
        .lag("units", 1, 5)
        .build();
  }

  /**
   * {@code days} days x 3 stores of units = 10 * store + id / 3 (store 0: the day index, from 0 on 2024-03-01),
   * plus {@code bump} from day index {@code bumpFrom} on.
   */
  static void writeSource(SparkSession spark, Warehouse wh, int days, double bump, int bumpFrom) {
    spark.sql(String.format(
            "SELECT DATE'2024-03-01' + CAST(id / 3 AS INT) AS day, CAST(id %% 3 AS INT) AS store,"
                + " CAST(10 * (id %% 3) + id / 3 AS DOUBLE) + IF(CAST(id / 3 AS INT) >= %d, %s, 0D) AS units"
                + " FROM range(%d)",
            bumpFrom, bump, days * 3))
        .write().format("delta").mode("overwrite").save(wh.path("raw/units"));
  }

  static List<Row> sorted(Dataset<Row> df) {
    return df.orderBy("store", "day").collectAsList();
  }

  @Test
  void theLookbackIsTheLongestWindowOrLag() {
    assertThat(ViewMaterializer.lookbackDays(view())).isEqualTo(7);
  }

  @Test
  void incrementalBuildsEqualAWholeBuildAndRangesReplaceOnlyTheirDays() {
    SparkSession spark = SparkTestSession.get();
    Warehouse wh = new Warehouse(SparkTestSession.tempDir("incremental").toString());
    Warehouse reference = new Warehouse(SparkTestSession.tempDir("incremental-ref").toString());
    writeSource(spark, wh, 30, 0, 0);
    writeSource(spark, reference, 30, 0, 0);
    String file = "conf/features/store_units.yaml";

    // first build: the whole table through day 10 (2024-03-10)
    ViewRegistry.Build first = ViewRegistry.buildMissing(spark, wh, view(), file, D.plusDays(9));
    assertThat(first.from()).isEmpty();
    assertThat(first.rows()).isEqualTo(30L);
    // then only the missing days 11..25, in one commit
    ViewRegistry.Build next = ViewRegistry.buildMissing(spark, wh, view(), file, D.plusDays(24));
    assertThat(next.from()).contains(D.plusDays(10));
    assertThat(next.to()).contains(D.plusDays(24));
    assertThat(next.rows()).isEqualTo(45L);
    assertThat(next.tableVersion()).isEqualTo(1L);

    ViewRegistry.Build whole = ViewRegistry.build(spark, reference, view(), file, Optional.of(D.plusDays(24)), false);
    Dataset<Row> table = spark.read().format("delta").load(next.tablePath());
    assertThat(sorted(table)).isEqualTo(sorted(spark.read().format("delta").load(whole.tablePath())));

    // the same night again: nothing to build, no commit
    ViewRegistry.Build again = ViewRegistry.buildMissing(spark, wh, view(), file, D.plusDays(24));
    assertThat(again.rows()).isZero();
    assertThat(again.scope()).isEqualTo("up to date through 2024-03-25");
    assertThat(DeltaTables.version(spark, next.tablePath())).isEqualTo(1L);

    // late data changes days 15..30 of the source; rebuilding days 21..25 replaces exactly those days: days 15..20
    // keep the rows built before, although their source rows changed too
    writeSource(spark, wh, 30, 1000, 14);
    writeSource(spark, reference, 30, 1000, 14);
    String outside = "day < DATE'2024-03-21'";
    String inside = "day >= DATE'2024-03-21'";
    List<Row> before = sorted(spark.read().format("delta").load(next.tablePath()).where(outside));
    ViewRegistry.Build range = ViewRegistry.buildRange(spark, wh, view(), file, D.plusDays(20), D.plusDays(24));
    assertThat(range.rows()).isEqualTo(15L);
    assertThat(range.scope()).isEqualTo("2024-03-21..2024-03-25");
    Dataset<Row> after = spark.read().format("delta").load(next.tablePath());
    assertThat(after.count()).isEqualTo(75L);
    assertThat(sorted(after.where(outside))).isEqualTo(before);
    // store 0 on 03-18: units of 03-17 (day index 16) as built before; the source says 1016 now
    assertThat(after.where("store = 0 AND day = DATE'2024-03-18'").head().<Double>getAs("units_lag_1")).isEqualTo(16.0);
    ViewRegistry.Build wholeAgain = ViewRegistry.build(spark, reference, view(), file, Optional.of(D.plusDays(24)), false);
    Dataset<Row> rebuilt = spark.read().format("delta").load(wholeAgain.tablePath());
    assertThat(sorted(rebuilt.where(outside))).as("a whole build sees the changed days").isNotEqualTo(before);
    assertThat(sorted(after.where(inside))).isEqualTo(sorted(rebuilt.where(inside)));

    // re-running the range is exact: same rows, one more commit (the rows are collected before the re-run: a plain
    // Delta read loads the latest snapshot, so comparing it to `after` read again would compare the table to itself)
    List<Row> afterRows = sorted(after);
    ViewRegistry.buildRange(spark, wh, view(), file, D.plusDays(20), D.plusDays(24));
    assertThat(sorted(spark.read().format("delta").load(next.tablePath()))).isEqualTo(afterRows);
    assertThat(DeltaTables.version(spark, next.tablePath())).isEqualTo(3L);
    assertThat(ViewRegistry.history(spark, wh, "store_units").count()).isEqualTo(4L);
  }

  @Test
  void aTransformedEventTimeIsCutAndLookedBackOnAsTheViewDefinesIt() {
    SparkSession spark = SparkTestSession.get();
    Warehouse wh = new Warehouse(SparkTestSession.tempDir("incremental-shifted").toString());
    Warehouse reference = new Warehouse(SparkTestSession.tempDir("incremental-shifted-ref").toString());
    writeSource(spark, wh, 20, 0, 0);
    writeSource(spark, reference, 20, 0, 0);
    // a source row of day X is the view's row of day X + 1: source day index 0 (03-01) is the view's 03-02
    ViewDefinition shifted =
        ViewDefinition.builder("store_units_next")
            .entities("store")
            .eventTime("day", TimeType.DATE)
            .source(Format.DELTA, "raw/units", Map.of(), view().source().columns())
            .transform("day", "date_add(day, 1)")
            .aggregate("units", List.of(Function.SUM), List.of(3))
            .lag("units", 5)
            .build();
    String file = "shifted.yaml";
    ViewRegistry.buildMissing(spark, wh, shifted, file, D.plusDays(5));
    ViewRegistry.Build night = ViewRegistry.buildMissing(spark, wh, shifted, file, D.plusDays(12));
    assertThat(night.from()).contains(D.plusDays(6));
    ViewRegistry.Build whole = ViewRegistry.build(spark, reference, shifted, file, Optional.of(D.plusDays(12)), false);
    Dataset<Row> table = spark.read().format("delta").load(whole.tablePath());
    // the view's days 03-02..03-13: never a day after the as-of date
    assertThat(table.count()).isEqualTo(36L);
    assertThat(table.agg(org.apache.spark.sql.functions.max("day")).head().get(0).toString()).isEqualTo("2024-03-13");
    // store 1 on 03-13 (source day index 11): units 10 + (3 * index + 1) / 3 of source days 8, 9, 10 over the view's
    // 03-10..03-12; lag 5: source day index 6
    Row last = table.where("store = 1 AND day = DATE'2024-03-13'").head();
    assertThat(last.<Double>getAs("units_sum_3")).isCloseTo(58.0, within(1e-9));
    assertThat(last.<Double>getAs("units_lag_5")).isCloseTo(16.0 + 1.0 / 3, within(1e-9));
    assertThat(sorted(spark.read().format("delta").load(night.tablePath()))).isEqualTo(sorted(table));
  }

  @Test
  void overlappingIncrementalBuildsOfTheSameNightWriteEachDayOnce() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Warehouse wh = new Warehouse(SparkTestSession.tempDir("incremental-race").toString());
    Warehouse reference = new Warehouse(SparkTestSession.tempDir("incremental-race-ref").toString());
    writeSource(spark, wh, 20, 0, 0);
    writeSource(spark, reference, 20, 0, 0);
    String file = "conf/features/store_units.yaml";
    ViewRegistry.buildMissing(spark, wh, view(), file, D.plusDays(9));

    // a retry racing a slow first attempt: both read the same latest day (03-10) and both write 03-11..03-20
    int writers = 2;
    CyclicBarrier start = new CyclicBarrier(writers);
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<ViewRegistry.Build>> runs = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        runs.add(pool.submit(() -> {
          start.await();
          return ViewRegistry.buildMissing(spark, wh, view(), file, D.plusDays(19));
        }));
      }
      for (Future<ViewRegistry.Build> run : runs) {
        run.get(); // neither failed
      }
    } finally {
      pool.shutdown();
    }

    Dataset<Row> table = spark.read().format("delta").load(wh.featureView("store_units"));
    assertThat(table.groupBy("store", "day").count().where("count > 1").collectAsList())
        .as("(store, day) written more than once")
        .isEmpty();
    assertThat(table.count()).isEqualTo(60L);
    ViewRegistry.Build whole = ViewRegistry.build(spark, reference, view(), file, Optional.of(D.plusDays(19)), false);
    assertThat(sorted(table)).isEqualTo(sorted(spark.read().format("delta").load(whole.tablePath())));
  }

  @Test
  void theNightlyBuildOfAViewWithWindowedTransformationsRebuildsItWhole() {
    SparkSession spark = SparkTestSession.get();
    Warehouse wh = new Warehouse(SparkTestSession.tempDir("incremental-windowed").toString());
    Warehouse reference = new Warehouse(SparkTestSession.tempDir("incremental-windowed-ref").toString());
    writeSource(spark, wh, 10, 0, 0);
    writeSource(spark, reference, 10, 0, 0);
    ViewDefinition windowed = windowedView();
    ViewRegistry.buildMissing(spark, wh, windowed, "w.yaml", D.plusDays(5));
    ViewRegistry.Build next = ViewRegistry.buildMissing(spark, wh, windowed, "w.yaml", D.plusDays(9));
    assertThat(next.from()).as("a whole build").isEmpty();
    assertThat(next.rows()).isEqualTo(30L);
    ViewRegistry.Build whole = ViewRegistry.build(spark, reference, windowed, "w.yaml", Optional.of(D.plusDays(9)), false);
    assertThat(sorted(spark.read().format("delta").load(next.tablePath())))
        .isEqualTo(sorted(spark.read().format("delta").load(whole.tablePath())));
  }

  static ViewDefinition windowedView() {
    return ViewDefinition.builder("store_share")
        .entities("store")
        .eventTime("day", TimeType.DATE)
        .source(Format.DELTA, "raw/units", Map.of(), view().source().columns())
        .transform("share", "units / sum(units) OVER (PARTITION BY day)")
        .columns("share")
        .build();
  }

  @Test
  void incrementalBuildsRefuseWhatTheyCannotDoExactly() {
    SparkSession spark = SparkTestSession.get();
    Warehouse wh = new Warehouse(SparkTestSession.tempDir("incremental-bad").toString());
    writeSource(spark, wh, 10, 0, 0);
    ViewRegistry.buildMissing(spark, wh, view(), "v.yaml", D.plusDays(5));

    ViewDefinition changed =
        ViewDefinition.builder("store_units")
            .entities("store")
            .eventTime("day", TimeType.DATE)
            .source(Format.DELTA, "raw/units", Map.of(), view().source().columns())
            .aggregate("units", List.of(Function.SUM), List.of(3))
            .build();
    assertThatThrownBy(() -> ViewRegistry.buildMissing(spark, wh, changed, "v.yaml", D.plusDays(9)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("changed since its table was built")
        .hasMessageContaining("--backfill");
    assertThatThrownBy(() -> ViewRegistry.buildRange(spark, wh, changed, "v.yaml", D, D.plusDays(2)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("changed since its table was built");

    ViewDefinition windowed = windowedView();
    assertThatThrownBy(() -> ViewRegistry.buildRange(spark, wh, windowed, "w.yaml", D, D.plusDays(2)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("transformations[0]")
        .hasMessageContaining("window function");
    assertThatThrownBy(() -> ViewRegistry.buildRange(spark, wh, view(), "v.yaml", D.plusDays(3), D))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--from");
  }
}
