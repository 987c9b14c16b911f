package io.nightshift.featurestore.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.views.ViewDefinition.CalendarPart;
import io.nightshift.featurestore.views.ViewDefinition.Format;
import io.nightshift.featurestore.views.ViewDefinition.Function;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ViewMaterializerTest {
  static SparkSession spark;
  static Path warehouse;

  /**
   * Store 1 / item 1 sells 1..10 on 2024-01-01..10 except on 01-05 (no row: a gap); store 1 / item 2 sells 100 on
   * 2024-01-09 and 2024-01-10 only. Rows after 2024-01-10 (500 on 01-11) must never reach a build as of 01-10.
   */
  @BeforeAll
  static void data() throws IOException {
    spark = SparkTestSession.get();
    warehouse = SparkTestSession.tempDir("views-wh");
    Path dir = warehouse.resolve("raw/sales_csv");
    Files.createDirectories(dir);
    StringBuilder csv = new StringBuilder("date,store,item,sales,price\n");
    for (int d = 1; d <= 10; d++) {
      if (d != 5) {
        csv.append(String.format("2024-01-%02d,1,1,%d,2.0%n", d, d));
      }
    }
    csv.append("2024-01-09,1,2,100,1.5\n2024-01-10,1,2,100,1.5\n2024-01-11,1,1,500,2.0\n");
    Files.writeString(dir.resolve("part-0.csv"), csv, StandardCharsets.UTF_8);
  }

  static Map<String, String> columns() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("date", "date");
    c.put("store", "int");
    c.put("item", "int");
    c.put("sales", "int");
    c.put("price", "double");
    return c;
  }

  static ViewDefinition.Builder sales() {
    return unlabelled().owner("test").label("sales");
  }

  /** The sales CSV by store and item over date, without a label (so features may include a row's own sales). */
  static ViewDefinition.Builder unlabelled() {
    return ViewDefinition.builder("sales_view")
        .entities("store", "item")
        .eventTime("date", TimeType.DATE)
        .source(Format.CSV, "raw/sales_csv", Map.of("header", "true"), columns());
  }

  static Map<String, Row> byKey(List<Row> rows) {
    Map<String, Row> m = new TreeMap<>();
    for (Row r : rows) {
      m.put(r.getAs("store") + "/" + r.getAs("item") + "/" + r.getAs("date"), r);
    }
    return m;
  }

  @Test
  void windowsEndBeforeTheRowAndCountDaysNotRows() {
    ViewDefinition d =
        sales()
            .aggregate("sales", List.of(Function.SUM, Function.MEAN, Function.COUNT, Function.MAX, Function.LAST), List.of(3))
            .aggregate("sales", List.of(Function.STD), List.of(4))
            .lag("sales", 1, 7)
            .build();
    Map<String, Row> rows =
        byKey(ViewMaterializer.compute(spark, d, warehouse.toString(), Optional.of(LocalDate.of(2024, 1, 10))).collectAsList());

    assertThat(rows).hasSize(11); // 9 + 2 rows through 01-10; the 01-11 row is after the as-of date
    Row jan4 = rows.get("1/1/2024-01-04");
    assertThat((Double) jan4.getAs("sales_sum_3")).isEqualTo(6.0); // 1+2+3: the 4th itself is not included
    assertThat((Double) jan4.getAs("sales_mean_3")).isEqualTo(2.0);
    assertThat((Double) jan4.getAs("sales_count_3")).isEqualTo(3.0);
    assertThat((Double) jan4.getAs("sales_lag_1")).isEqualTo(3.0);
    assertThat((Object) jan4.getAs("sales_lag_7")).isNull(); // 2023-12-28 has no row
    assertThat((Double) jan4.getAs("sales_std_4")).isCloseTo(1.0, within(1e-12)); // std of 1, 2, 3

    Row jan7 = rows.get("1/1/2024-01-07"); // window 01-04..01-06 has a gap on 01-05: 4 + 6 over 2 days
    assertThat((Double) jan7.getAs("sales_sum_3")).isEqualTo(10.0);
    assertThat((Double) jan7.getAs("sales_mean_3")).isEqualTo(5.0);
    assertThat((Double) jan7.getAs("sales_count_3")).isEqualTo(2.0);
    assertThat((Double) jan7.getAs("sales_max_3")).isEqualTo(6.0);
    assertThat((Double) jan7.getAs("sales_last_3")).isEqualTo(6.0);
    assertThat((Double) jan7.getAs("sales_lag_1")).isEqualTo(6.0);

    Row jan6 = rows.get("1/1/2024-01-06");
    assertThat((Object) jan6.getAs("sales_lag_1")).isNull(); // 01-05 is missing: no fallback to 01-04

    Row first = rows.get("1/1/2024-01-01");
    assertThat((Object) first.getAs("sales_sum_3")).isNull(); // no history at all
    assertThat((Double) first.getAs("sales_count_3")).isEqualTo(0.0);

    // entities never mix: item 2's first day sees nothing of item 1
    Row other = rows.get("1/2/2024-01-09");
    assertThat((Object) other.getAs("sales_sum_3")).isNull();
    assertThat((Double) rows.get("1/2/2024-01-10").getAs("sales_sum_3")).isEqualTo(100.0);

    // nothing from after the as-of date, even in windows of the last day
    assertThat((Double) rows.get("1/1/2024-01-10").getAs("sales_max_3")).isEqualTo(9.0);
    assertThat(rows.values()).allSatisfy(r -> assertThat((Double) r.getAs("sales")).isLessThan(500.0));
  }

  @Test
  void includeCurrentAddsTheRowsOwnValues() {
    // without a label: a window that includes the row must not aggregate the row's own label
    ViewDefinition d =
        unlabelled()
            .aggregate("sales", List.of(Function.SUM), List.of(3))
            .includeCurrent(true)
            .build();
    Map<String, Row> rows =
        byKey(ViewMaterializer.compute(spark, d, warehouse.toString(), Optional.of(LocalDate.of(2024, 1, 10))).collectAsList());
    assertThat((Double) rows.get("1/1/2024-01-04").getAs("sales_sum_3")).isEqualTo(9.0); // 2+3+4
    assertThat((Double) rows.get("1/1/2024-01-01").getAs("sales_sum_3")).isEqualTo(1.0);
  }

  @Test
  void transformationsFilterCalendarAndColumns() {
    // no label: revenue, a feature of its own row, is computed from sales (with label sales, validation refuses it)
    ViewDefinition d =
        unlabelled()
            .filter("sales <> 3")
            .transform("revenue", "sales * price")
            .transform("revenue_share", "revenue / sum(revenue) OVER (PARTITION BY store, date)")
            .columns("price", "revenue", "revenue_share")
            .calendar(CalendarPart.DAY_OF_WEEK, CalendarPart.IS_WEEKEND, CalendarPart.DAY_OF_YEAR, CalendarPart.IS_MONTH_END)
            .build();
    List<Row> all = ViewMaterializer.compute(spark, d, warehouse.toString(), Optional.empty()).collectAsList();
    Map<String, Row> rows = byKey(all);
    assertThat(rows).hasSize(11).doesNotContainKey("1/1/2024-01-03").containsKey("1/1/2024-01-11");
    Row jan10 = rows.get("1/1/2024-01-10");
    assertThat((Double) jan10.getAs("revenue")).isEqualTo(20.0);
    assertThat((Double) jan10.getAs("revenue_share")).isCloseTo(20.0 / 170.0, within(1e-12));
    assertThat((Double) jan10.getAs("price")).isEqualTo(2.0);
    // 2024-01-06 is a Saturday, 01-08 a Monday
    assertThat((Double) rows.get("1/1/2024-01-06").getAs("day_of_week")).isEqualTo(6.0);
    assertThat((Double) rows.get("1/1/2024-01-06").getAs("is_weekend")).isEqualTo(1.0);
    assertThat((Double) rows.get("1/1/2024-01-08").getAs("day_of_week")).isEqualTo(1.0);
    assertThat((Double) rows.get("1/1/2024-01-08").getAs("is_weekend")).isEqualTo(0.0);
    assertThat((Double) rows.get("1/1/2024-01-08").getAs("day_of_year")).isEqualTo(8.0);
    assertThat((Double) rows.get("1/1/2024-01-08").getAs("is_month_end")).isEqualTo(0.0);
    assertThat(all.get(0).schema().fieldNames())
        .containsExactly("store", "item", "date", "price", "revenue", "revenue_share", "day_of_week",
            "is_weekend", "day_of_year", "is_month_end");
  }

  @Test
  void windowedTransformationsNeverSeeRowsAfterTheAsOfDate() {
    // no transformation redefines the event time, so it is final at the source: the as-of cut comes before the
    // window over each series, which must not see 01-11's 500
    ViewDefinition d =
        unlabelled()
            .transform("top", "max(sales) OVER (PARTITION BY store, item)")
            .columns("top")
            .build();
    Map<String, Row> rows =
        byKey(ViewMaterializer.compute(spark, d, warehouse.toString(), Optional.of(LocalDate.of(2024, 1, 10))).collectAsList());
    assertThat(rows).hasSize(11).doesNotContainKey("1/1/2024-01-11");
    assertThat((Double) rows.get("1/1/2024-01-10").getAs("top")).isEqualTo(10.0);
    assertThat((Double) rows.get("1/2/2024-01-10").getAs("top")).isEqualTo(100.0);
  }

  @Test
  void integerEventTimeCountsSteps() throws IOException {
    Path dir = warehouse.resolve("raw/engines");
    Files.createDirectories(dir);
    // unit 1 runs cycles 1..5 with s = 10 * cycle; whitespace-separated like C-MAPSS, two trailing spaces
    StringBuilder txt = new StringBuilder();
    for (int c = 1; c <= 5; c++) {
      txt.append(String.format("1 %d %d.0  %n", c, 10 * c));
    }
    Files.writeString(dir.resolve("train.txt"), txt, StandardCharsets.UTF_8);
    Map<String, String> cols = new LinkedHashMap<>();
    cols.put("unit", "int");
    cols.put("cycle", "int");
    cols.put("s", "double");
    cols.put("pad1", "string");
    cols.put("pad2", "string");
    ViewDefinition d =
        ViewDefinition.builder("engines")
            .entities("unit")
            .eventTime("cycle", TimeType.INTEGER)
            .source(Format.CSV, dir.resolve("train.txt").toString(), Map.of("sep", " "), cols)
            .transform("rul", "max(cycle) OVER (PARTITION BY unit) - cycle")
            .label("rul")
            .columns("s")
            .aggregate("s", List.of(Function.MEAN), List.of(2))
            .includeCurrent(true)
            .build();
    List<Row> rows = ViewMaterializer.compute(spark, d, "/ignored", Optional.empty()).orderBy("cycle").collectAsList();
    assertThat(rows).extracting(r -> (Double) r.getAs("rul")).containsExactly(4.0, 3.0, 2.0, 1.0, 0.0);
    assertThat(rows).extracting(r -> (Double) r.getAs("s_mean_2")).containsExactly(10.0, 15.0, 25.0, 35.0, 45.0);
  }

  @Test
  void aMissingSourceOrMalformedRowNamesThePath() throws IOException {
    ViewDefinition missing =
        sales().aggregate("sales", List.of(Function.SUM), List.of(3)).build();
    ViewDefinition moved =
        ViewDefinition.builder("sales_view")
            .entities("store", "item")
            .eventTime("date", TimeType.DATE)
            .source(Format.CSV, "raw/nowhere", Map.of("header", "true"), columns())
            .columns("price")
            .build();
    assertThatThrownBy(() -> ViewMaterializer.compute(spark, moved, warehouse.toString(), Optional.empty()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("Missing source of feature view sales_view: no files at "
            + warehouse.resolve("raw/nowhere"))
        .hasMessageContaining("source.path");
    assertThat(ViewMaterializer.sourcePath(missing, "s3a://b/wh/")).isEqualTo("s3a://b/wh/raw/sales_csv");
    assertThat(ViewMaterializer.sourcePath(moved, new Warehouse("/data/wh").root())).isEqualTo("/data/wh/raw/nowhere");

    // a value that does not parse as its column's declared type (in a late file) fails the builds (FAILFAST) as an
    // input error that names the file, the row and the column, and nothing is written (the label makes the view
    // read sales: a column the view does not use is never parsed)
    Path bad = warehouse.resolve("raw/sales_bad");
    Files.createDirectories(bad);
    String header = "date,store,item,sales,price\n";
    Files.writeString(bad.resolve("part-0.csv"), header + "2024-01-01,1,1,1,2.0\n2024-01-02,1,1,2,2.0\n");
    ViewDefinition malformed =
        ViewDefinition.builder("sales_bad")
            .entities("store", "item")
            .eventTime("date", TimeType.DATE)
            .source(Format.CSV, "raw/sales_bad", Map.of("header", "true"), columns())
            .label("sales")
            .columns("price")
            .build();
    Warehouse wh = new Warehouse(warehouse.toString());
    ViewRegistry.build(spark, wh, malformed, "sales_bad.yaml", Optional.of(LocalDate.of(2024, 1, 2)), false);
    Files.writeString(bad.resolve("part-1.csv"), header + "2024-01-03,1,1,abc,2.0\n2024-01-04,1,1,4,2.0\n");
    String message =
        "Malformed row in source of feature view sales_bad (" + bad + "): file " + bad.resolve("part-1.csv").toUri()
            + ", row '2024-01-03,1,1,abc,2.0': column sales (int) cannot be 'abc'. Fix: correct or remove the row,"
            + " or declare the column in source.columns with the type its values have.";
    // the nightly build writes the new days
    LocalDate jan4 = LocalDate.of(2024, 1, 4);
    assertThatThrownBy(() -> ViewRegistry.buildMissing(spark, wh, malformed, "sales_bad.yaml", jan4))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(message);
    // a whole build replaces the table
    assertThatThrownBy(() -> ViewRegistry.build(spark, wh, malformed, "sales_bad.yaml", Optional.empty(), false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(message);
    assertThat(DeltaTables.version(spark, wh.featureView("sales_bad"))).isZero();
  }

  /** A view of {@code raw/<dir>} whose date column is declared a string (day/month/year text, not ISO). */
  static ViewDefinition.Builder textDates(String name, String dir) {
    Map<String, String> cols = columns();
    cols.put("date", "string");
    return ViewDefinition.builder(name)
        .entities("store", "item")
        .eventTime("date", TimeType.DATE)
        .source(Format.CSV, "raw/" + dir, Map.of("header", "true"), cols)
        .label("sales");
  }

  @Test
  void theAsOfDateCutsTheEventTimeAsTheTransformationsDefineIt() throws IOException {
    Path dir = warehouse.resolve("raw/sales_dmy");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("part-0.csv"), "date,store,item,sales,price\n01/01/2024,1,1,1,2.0\n"
        + "02/01/2024,1,1,2,2.0\n03/01/2024,1,1,3,2.0\n04/01/2024,1,1,4,2.0\n");
    ViewDefinition d =
        textDates("sales_dmy", "sales_dmy")
            .transform("date", "to_date(date, 'dd/MM/yyyy')")
            .aggregate("sales", List.of(Function.SUM), List.of(2))
            .build();
    Map<String, Row> rows =
        byKey(ViewMaterializer.compute(spark, d, warehouse.toString(), Optional.of(LocalDate.of(2024, 1, 3)))
            .collectAsList());
    assertThat(rows).containsOnlyKeys("1/1/2024-01-01", "1/1/2024-01-02", "1/1/2024-01-03");
    assertThat((Object) rows.get("1/1/2024-01-01").getAs("sales_sum_2")).isNull();
    assertThat((Double) rows.get("1/1/2024-01-02").getAs("sales_sum_2")).isEqualTo(1.0);
    assertThat((Double) rows.get("1/1/2024-01-03").getAs("sales_sum_2")).isEqualTo(3.0);
    List<Row> range =
        ViewMaterializer.computeRange(
                spark, d, warehouse.toString(), LocalDate.of(2024, 1, 3), LocalDate.of(2024, 1, 4))
            .orderBy("date").collectAsList();
    assertThat(range).extracting(r -> r.getAs("date").toString()).containsExactly("2024-01-03", "2024-01-04");
    assertThat(range).extracting(r -> (Double) r.getAs("sales_sum_2")).containsExactly(3.0, 5.0);
  }

  @Test
  void aRowWithoutAnEventTimeIsAnInputErrorNotADroppedRow() throws IOException {
    Path dir = warehouse.resolve("raw/sales_text_dates");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("part-0.csv"), "date,store,item,sales,price\n30/12/2023,1,1,1,2.0\n"
        + "2024-01-01,1,1,2,2.0\n31/12/2024,1,1,3,2.0\n");
    Warehouse wh = new Warehouse(warehouse.toString());
    ViewDefinition unparsed = textDates("sales_text_dates", "sales_text_dates").columns("price").build();
    LocalDate asOf = LocalDate.of(2025, 1, 1);
    assertThatThrownBy(() -> ViewRegistry.build(spark, wh, unparsed, "sales_text_dates.yaml", Optional.of(asOf), false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("Invalid definition sales_text_dates.yaml, event_time.column: feature view sales_text_dates has"
            + " 2 source row(s) whose event time date is null as a date, e.g."
            + " {\"date\":\"30/12/2023\",\"store\":1,\"item\":1,\"sales\":1,\"price\":2.0},"
            + " {\"date\":\"31/12/2024\",\"store\":1,\"item\":1,\"sales\":3,\"price\":2.0}; a row without an"
            + " event time has no place in time. Fix: parse date with a transformation in the pattern of its values,"
            + " e.g. transformations: [{name: date, expr: \"to_date(date, 'dd/MM/yyyy')\"}], or correct the rows or"
            + " leave them out with a filter.");
    assertThat(DeltaTables.exists(spark, wh.featureView("sales_text_dates"))).isFalse();

    // the transformation parses the two, but not the ISO date: transformations[0] is named
    ViewDefinition parsed =
        textDates("sales_text_dates", "sales_text_dates")
            .transform("date", "to_date(date, 'dd/MM/yyyy')")
            .columns("price")
            .build();
    assertThatThrownBy(() -> ViewRegistry.build(spark, wh, parsed, "sales_text_dates.yaml", Optional.of(asOf), false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("Invalid definition sales_text_dates.yaml, transformations[0].expr: feature view sales_text_dates"
            + " has 1 source row(s) whose event time date is null as a date after transformations[0], e.g."
            + " {\"date\":\"2024-01-01\",\"store\":1,\"item\":1,\"sales\":2,\"price\":2.0}; a row without an"
            + " event time has no place in time. Fix: make transformations[0].expr give a date for every row (a"
            + " pattern that matches its values), or correct the rows or leave them out with a filter.");
    assertThat(DeltaTables.exists(spark, wh.featureView("sales_text_dates"))).isFalse();
    // the filter sees the source values: leaving the ISO row out builds the rest
    ViewDefinition filtered =
        textDates("sales_text_dates", "sales_text_dates")
            .filter("date LIKE '%/%/%'")
            .transform("date", "to_date(date, 'dd/MM/yyyy')")
            .columns("price")
            .build();
    ViewRegistry.Build b = ViewRegistry.build(spark, wh, filtered, "sales_text_dates.yaml", Optional.of(asOf), false);
    assertThat(b.rows()).isEqualTo(2L);
  }

  @Test
  void aCsvHeaderInAnotherOrderThanTheDeclaredColumnsIsAnErrorNotASwap() throws IOException {
    // store and item swapped in the second file's header: read by position, item 7 would become store 7
    Path dir = warehouse.resolve("raw/sales_swapped");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("part-0.csv"), "date,store,item,sales,price\n2024-01-01,1,7,1,2.0\n");
    Files.writeString(dir.resolve("part-1.csv"), "date,item,store,sales,price\n2024-01-02,7,1,2,2.0\n");
    ViewDefinition d =
        ViewDefinition.builder("sales_swapped")
            .entities("store", "item")
            .eventTime("date", TimeType.DATE)
            .source(Format.CSV, "raw/sales_swapped", Map.of("header", "true"), columns())
            .label("sales")
            .columns("price")
            .build();
    Warehouse wh = new Warehouse(warehouse.toString());
    assertThatThrownBy(() -> ViewRegistry.build(spark, wh, d, "sales_swapped.yaml", Optional.empty(), false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("source of feature view sales_swapped")
        .hasMessageContaining("part-1.csv")
        .hasMessageContaining("declared column 2 is store, the file's is item")
        .hasMessageContaining("date, item, store, sales, price")
        .hasMessageContaining("Fix: list source.columns in the order of the files' header");
    assertThat(DeltaTables.exists(spark, wh.featureView("sales_swapped"))).isFalse();
  }

  @Test
  void referencesToAnUndeclaredSchemaAreCheckedWhenTheSourceIsRead() {
    spark.sql("SELECT DATE'2024-01-01' AS day, 1 AS store, 2.0D AS units")
        .write().parquet(warehouse.resolve("raw/units_undeclared").toString());
    String path = warehouse.resolve("raw/units_undeclared").toString();
    Warehouse wh = new Warehouse(warehouse.toString());
    ViewDefinition typo =
        ViewDefinition.builder("units_undeclared")
            .entities("store")
            .eventTime("day", TimeType.DATE)
            .source(Format.PARQUET, "raw/units_undeclared", Map.of(), Map.of())
            .transform("units2", "units * 2")
            .aggregate("unitz", List.of(Function.SUM), List.of(3))
            .build();
    assertThatThrownBy(() -> ViewRegistry.build(spark, wh, typo, "units.yaml", Optional.empty(), false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("Invalid definition units.yaml, features.aggregations[0].column: unknown column 'unitz' (the source"
            + " " + path + " has the columns [day, store, units]). Fix: use one of [day, store, units, units2], or"
            + " compute the column with a transformation.");
    assertThat(DeltaTables.exists(spark, wh.featureView("units_undeclared"))).isFalse();
    ViewDefinition badFilter =
        ViewDefinition.builder("units_undeclared")
            .entities("store")
            .eventTime("day", TimeType.DATE)
            .source(Format.PARQUET, "raw/units_undeclared", Map.of(), Map.of())
            .filter("unit > 0")
            .columns("units")
            .build();
    assertThatThrownBy(() -> ViewRegistry.build(spark, wh, badFilter, "units.yaml", Optional.empty(), false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith("Invalid definition units.yaml, filter: unknown column 'unit' (the filter sees source"
            + " columns only; the source " + path + " has the columns [day, store, units])");
    ViewDefinition badTime =
        ViewDefinition.builder("units_undeclared")
            .entities("store")
            .eventTime("date", TimeType.DATE)
            .source(Format.PARQUET, "raw/units_undeclared", Map.of(), Map.of())
            .columns("units")
            .build();
    assertThatThrownBy(() -> ViewMaterializer.readSource(spark, badTime, warehouse.toString()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith("Invalid definition feature view units_undeclared, event_time.column: unknown column"
            + " 'date'");
    assertThat(DeltaTables.exists(spark, wh.featureView("units_undeclared"))).isFalse();
  }

  @Test
  void anUndeclaredEventTimeOfTheWrongTypeIsCheckedWhenTheSourceIsRead() {
    String path = warehouse.resolve("raw/units_numbered_days").toString();
    spark.sql("SELECT 20240101 AS day, 1 AS store, 2.0D AS units").write().parquet(path);
    Warehouse wh = new Warehouse(warehouse.toString());
    ViewDefinition numbered =
        ViewDefinition.builder("units_numbered_days")
            .entities("store")
            .eventTime("day", TimeType.DATE)
            .source(Format.PARQUET, "raw/units_numbered_days", Map.of(), Map.of())
            .columns("units")
            .build();
    assertThatThrownBy(() -> ViewRegistry.build(spark, wh, numbered, "units.yaml", Optional.empty(), false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("Invalid definition units.yaml, event_time: the event time day is of type int in the source "
            + path + ", which event_time.type date cannot use. Fix: give it a date, timestamp or YYYY-MM-DD text, or"
            + " compute the date with a transformation named day, e.g. {name: day, expr: \"to_date(cast(day AS"
            + " string), 'yyyyMMdd')\"}.");
    assertThat(DeltaTables.exists(spark, wh.featureView("units_numbered_days"))).isFalse();
    // the same source with the date computed from the number
    ViewDefinition parsed =
        ViewDefinition.builder("units_numbered_days")
            .entities("store")
            .eventTime("day", TimeType.DATE)
            .source(Format.PARQUET, "raw/units_numbered_days", Map.of(), Map.of())
            .transform("day", "to_date(cast(day AS string), 'yyyyMMdd')")
            .columns("units")
            .build();
    assertThat(ViewMaterializer.compute(spark, parsed, warehouse.toString(), Optional.empty())
            .select("day").as(org.apache.spark.sql.Encoders.DATE()).collectAsList())
        .containsExactly(java.sql.Date.valueOf("2024-01-01"));
  }

  @Test
  void deltaAndParquetSourcesAreCheckedAgainstTheDeclaredTypes() {
    Map<String, String> cols = new LinkedHashMap<>();
    cols.put("day", "date");
    cols.put("store", "int");
    cols.put("units", "double");
    String rows = "SELECT DATE'2024-01-01' AS day, '1' AS store, 2.0D AS units";
    spark.sql(rows).write().format("delta").save(warehouse.resolve("raw/units_delta").toString());
    spark.sql(rows).write().parquet(warehouse.resolve("raw/units_parquet").toString());
    for (Format f : List.of(Format.DELTA, Format.PARQUET)) {
      ViewDefinition d =
          ViewDefinition.builder("units")
              .entities("store")
              .eventTime("day", TimeType.DATE)
              .source(f, "raw/units_" + f.name().toLowerCase(java.util.Locale.ROOT), Map.of(), cols)
              .columns("units")
              .build();
      assertThatThrownBy(() -> ViewMaterializer.readSource(spark, d, warehouse.toString()))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("source.columns.store")
          .hasMessageContaining("'int'")
          .hasMessageContaining("raw/units_" + f.name().toLowerCase(java.util.Locale.ROOT))
          .hasMessageContaining("has store as string");
    }
    cols.put("store", "string");
    cols.put("units", "decimal(10,1)"); // a number for a number: features are read as doubles
    ViewDefinition ok =
        ViewDefinition.builder("units")
            .entities("store")
            .eventTime("day", TimeType.DATE)
            .source(Format.DELTA, "raw/units_delta", Map.of(), cols)
            .columns("units")
            .build();
    assertThat(ViewMaterializer.readSource(spark, ok, warehouse.toString()).columns()).containsExactly("day", "store", "units");
  }
}
