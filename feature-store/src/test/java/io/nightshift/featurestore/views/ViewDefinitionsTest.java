package io.nightshift.featurestore.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.featurestore.views.ViewDefinition.CalendarPart;
import io.nightshift.featurestore.views.ViewDefinition.Format;
import io.nightshift.featurestore.views.ViewDefinition.Function;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import io.nightshift.featurestore.quality.Expectation;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ViewDefinitionsTest {
  static final Path SHIPPED = Path.of(System.getProperty("nightshift.root", "..")).resolve("conf/features");

  static final String VALID =
      String.join(
          "\n",
          "name: sales_view",
          "owner: team",
          "entities: [store, item]",
          "event_time: {column: date, type: date}",
          "source:",
          "  format: csv",
          "  path: raw/sales",
          "  options: {header: 'true'}",
          "  columns: {date: date, store: int, item: int, sales: int, price: double}",
          "transformations:",
          "  - {name: revenue, expr: 'sales * price'}",
          "label: sales",
          "features:",
          "  columns: [price]",
          "  aggregations:",
          "    - {column: revenue, functions: [mean, max], windows: [7, 28d]}",
          "  lags:",
          "    - {column: sales, periods: [1, 7]}",
          "  calendar: [day_of_week, month]",
          "");

  static Path write(String yaml) {
    try {
      Path f = SparkTestSession.tempDir("views").resolve("view.yaml");
      Files.writeString(f, yaml, StandardCharsets.UTF_8);
      return f;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void everyShippedViewIsValid() throws IOException {
    List<ViewDefinition> views = ViewDefinitions.loadAll(SHIPPED);
    assertThat(views)
        .extracting(ViewDefinition::name)
        .containsExactly("cmapss_fd001", "machine_telemetry_daily", "sales_daily", "store_item_demand");
    try (var files = Files.list(SHIPPED)) {
      assertThat(files.filter(f -> f.toString().endsWith(".yaml")).count()).isEqualTo(views.size());
    }
    for (ViewDefinition v : views) {
      assertThat(v.featureNames()).as(v.name()).isNotEmpty().doesNotHaveDuplicates();
      assertThat(v.owner()).as(v.name()).isNotBlank();
      assertThat(v.description()).as(v.name()).isNotBlank();
    }
  }

  @Test
  void parsesEveryPartOfADefinition() {
    ViewDefinition d = ViewDefinitions.load(write(VALID));
    assertThat(d.name()).isEqualTo("sales_view");
    assertThat(d.entities()).containsExactly("store", "item");
    assertThat(d.timeType()).isEqualTo(TimeType.DATE);
    assertThat(d.source().format()).isEqualTo(Format.CSV);
    assertThat(d.source().columns()).containsOnlyKeys("date", "store", "item", "sales", "price");
    assertThat(d.source().columns().keySet()).containsExactly("date", "store", "item", "sales", "price");
    assertThat(d.label()).contains("sales");
    assertThat(d.aggregations().get(0).windows()).containsExactly(7, 28);
    assertThat(d.aggregations().get(0).functions()).containsExactly(Function.MEAN, Function.MAX);
    assertThat(d.calendar()).containsExactly(CalendarPart.DAY_OF_WEEK, CalendarPart.MONTH);
    assertThat(d.featureNames())
        .containsExactly(
            "price", "revenue_mean_7", "revenue_max_7", "revenue_mean_28", "revenue_max_28", "sales_lag_1",
            "sales_lag_7", "day_of_week", "month");
  }

  @Test
  void theJavaBuilderValidatesLikeYaml() {
    ViewDefinition d =
        ViewDefinition.builder("engine_cycles")
            .owner("me")
            .entities("unit")
            .eventTime("cycle", TimeType.INTEGER)
            .source(Format.PARQUET, "/data/engines", Map.of(), Map.of())
            .columns("s2")
            .aggregate("s2", List.of(Function.MEAN), List.of(5))
            .build();
    assertThat(d.featureNames()).containsExactly("s2", "s2_mean_5");
    assertThatThrownBy(
            () ->
                ViewDefinition.builder("engine_cycles")
                    .entities("unit")
                    .eventTime("cycle", TimeType.INTEGER)
                    .source(Format.PARQUET, "/data/engines", Map.of(), Map.of())
                    .columns("s2")
                    .calendar(CalendarPart.MONTH)
                    .build())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("features.calendar")
        .hasMessageContaining("needs a date event time");
  }

  static void assertInvalid(String yaml, String... fragments) {
    Path f = write(yaml);
    var assertion = assertThatThrownBy(() -> ViewDefinitions.load(f)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(f.toString()).hasMessageContaining("Fix:");
    for (String s : fragments) {
      assertion.hasMessageContaining(s);
    }
  }

  @Test
  void unknownColumnsAreNamedWithTheKeyAndTheKnownColumns() {
    assertInvalid(VALID.replace("{column: revenue,", "{column: revenu,"),
        "features.aggregations[0].column", "unknown column 'revenu'", "revenue");
    assertInvalid(VALID.replace("expr: 'sales * price'", "expr: 'sales * cost'"),
        "transformations[0].expr", "unknown column 'cost'");
    assertInvalid(VALID.replace("entities: [store, item]", "entities: [store, sku]"), "entities", "unknown column 'sku'");
    assertInvalid(VALID.replace("label: sales", "label: units"), "label", "unknown column 'units'");
    assertInvalid(VALID.replace("periods: [1, 7]}", "periods: [1, 7]}\n    - {column: qty, periods: [1]}"),
        "features.lags[1].column", "unknown column 'qty'");
  }

  @Test
  void aDateEventTimeIsFinalBeforeAnyWindowFunction() {
    String redefined = VALID.replace("  - {name: revenue, expr: 'sales * price'}\n",
        "  - {name: revenue, expr: 'sales * price'}\n  - {name: date, expr: 'date_add(date, 1)'}\n");
    assertThat(ViewMaterializer.eventTimeDefinition(ViewDefinitions.load(write(redefined)))).isEqualTo(1);
    assertInvalid(redefined.replace("expr: 'sales * price'", "expr: 'sales / sum(sales) OVER (PARTITION BY date)'"),
        "transformations[0].expr", "uses a window function, but the event time date is only final after"
            + " transformations[1]", "move this transformation after transformations[1]");
    assertInvalid(redefined.replace("expr: 'date_add(date, 1)'", "expr: 'min(date) OVER (PARTITION BY store)'"),
        "transformations[1].expr", "compute the event time without a window function");
  }

  @Test
  void windowsThatIncludeTheRowCannotAggregateItsLabel() {
    String current = VALID.replace("features:\n", "features:\n  include_current: true\n");
    Path direct = write(current.replace("{column: revenue,", "{column: sales,"));
    assertThatThrownBy(() -> ViewDefinitions.load(direct))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("Invalid definition " + direct + ", features.aggregations[0].column: with include_current: true"
            + " the windows of sales end at the row itself, and sales is the label: each row's features would include"
            + " its own label (target leakage). Fix: set features.include_current: false (windows then end the step"
            + " before the row), or aggregate a column that is not computed from the label.");
    // revenue = sales * price carries the label too
    assertInvalid(current, "features.aggregations[0].column: with include_current: true the windows of revenue end"
        + " at the row itself, and revenue is computed from the label sales (transformations[0]): each row's features"
        + " would include its own label (target leakage)", "set features.include_current: false");
    // another column may include the row; a lag of the label is always of an earlier row (periods are >= 1)
    ViewDefinition ok = ViewDefinitions.load(write(current.replace("{column: revenue,", "{column: price,")));
    assertThat(ok.includeCurrent()).isTrue();
    assertInvalid(VALID.replace("periods: [1, 7]", "periods: [0, 7]"), "features.lags[0].periods", "bad window '0'");
  }

  @Test
  void aDeclaredEventTimeMustHaveATypeItsTimeTypeCanUse() {
    assertInvalid(VALID.replace("columns: {date: date,", "columns: {date: int,"),
        "source.columns.date: the event time date is declared as int, which event_time.type date cannot use",
        "compute the date with a transformation named date");
    String integerTime =
        VALID.replace("event_time: {column: date, type: date}", "event_time: {column: date, type: integer}")
            .replace("  calendar: [day_of_week, month]\n", "").replace("28d", "28");
    assertInvalid(integerTime, "source.columns.date: the event time date is declared as date, which event_time.type"
        + " integer cannot use", "give it whole numbers");
    // text dates, timestamps and whole steps are fine, and so is a number the view turns into a date first
    for (String ok : List.of("string", "timestamp")) {
      assertThat(ViewDefinitions.load(write(VALID.replace("columns: {date: date,", "columns: {date: " + ok + ","))))
          .isNotNull();
    }
    assertThat(ViewDefinitions.load(write(integerTime.replace("columns: {date: date,", "columns: {date: bigint,"))))
        .isNotNull();
    assertThat(ViewDefinitions.load(write(VALID.replace("columns: {date: date,", "columns: {date: int,").replace(
        "transformations:\n", "transformations:\n  - {name: date, expr: \"to_date(cast(date AS string), 'yyyyMMdd')\"}\n"))))
        .isNotNull();
  }

  @Test
  void aPlainColumnComputedFromTheLabelIsRefusedWhateverTheWindows() {
    // revenue = sales * price: the row's own label scaled; its past (aggregations without the row) stays allowed
    String leaking = VALID.replace("columns: [price]", "columns: [price, revenue]");
    assertInvalid(leaking, "features.columns[1]: revenue is computed from the label sales (transformations[0]): as a"
        + " feature of its own row it would carry that row's label (target leakage)", "leave revenue out of"
        + " features.columns");
    assertInvalid(leaking.replace("features:\n", "features:\n  include_current: true\n"), "features.columns[1]");
    // without a label nothing is leaked
    ViewDefinition unlabelled = ViewDefinitions.load(write(leaking.replace("label: sales\n", "")));
    assertThat(unlabelled.columns()).containsExactly("price", "revenue");
  }

  @Test
  void duplicateFeatureNamesAreRejected() {
    assertInvalid(VALID.replace("functions: [mean, max]", "functions: [mean, max, mean]"),
        "duplicate feature name 'revenue_mean_7'");
    assertInvalid(VALID.replace("columns: [price]", "columns: [price, sales]"),
        "feature 'sales' has the name of an entity, the event time or the label");
  }

  @Test
  void badWindowsAreRejected() {
    assertInvalid(VALID.replace("windows: [7, 28d]", "windows: [0, 28]"),
        "features.aggregations[0].windows[0]", "bad window '0'", "between 1 and");
    assertInvalid(VALID.replace("windows: [7, 28d]", "windows: [7, 2h]"), "bad window '2h'", "positive whole number of days");
    assertInvalid(VALID.replace("windows: [7, 28d]", "windows: [-3]"), "bad window '-3'");
    assertInvalid(VALID.replace("windows: [7, 28d]", "windows: []"), "features.aggregations[0].windows", "is missing or empty");
    assertInvalid(VALID.replace("periods: [1, 7]", "periods: [1, 99999]"), "features.lags[0].periods", "bad window '99999'");
    String integerTime =
        VALID.replace("event_time: {column: date, type: date}", "event_time: {column: date, type: integer}")
            .replace("  calendar: [day_of_week, month]\n", "");
    assertInvalid(integerTime, "bad window '28d': days need a date event time");
  }

  @Test
  void unknownNamesAndBrokenSqlAreRejected() {
    assertInvalid(VALID.replace("functions: [mean, max]", "functions: [mean, median]"),
        "features.aggregations[0].functions", "unknown value 'median'", "[sum, mean, min, max, std, count, last]");
    assertInvalid(VALID.replace("calendar: [day_of_week, month]", "calendar: [weekday]"),
        "features.calendar", "unknown value 'weekday'");
    assertInvalid(VALID.replace("format: csv", "format: orc"), "source.format", "unknown value 'orc'");
    assertInvalid(VALID.replace("expr: 'sales * price'", "expr: 'sales * (price'"),
        "transformations[0].expr", "is not a Spark SQL expression");
    assertInvalid(VALID.replace("sales: int, price", "sales: integr, price"),
        "source.columns.sales", "'integr' is not a Spark SQL type");
    assertInvalid(VALID.replace("owner: team", "owner: team\nschedule: daily"), "schedule", "is not a known key");
    assertInvalid(VALID.replace("name: sales_view", "name: sales-view"), "name", "is not a table name");
  }

  @Test
  void missingPartsAndBadYamlAreRejected() {
    assertInvalid(VALID.replace("entities: [store, item]\n", ""), "entities", "is missing");
    assertInvalid(VALID.replace("  columns: {date: date, store: int, item: int, sales: int, price: double}\n", ""),
        "source.columns", "is missing for a CSV source");
    assertInvalid("name: [unclosed\n", "(YAML)", "cannot be parsed");
    assertInvalid(
        VALID.substring(0, VALID.indexOf("features:")) + "features:\n  columns: []\n", "features.columns",
        "is not a non-empty list");
  }

  @Test
  void windowFunctionsAndLambdasInTransformationsAreAccepted() {
    assertThat(ViewDefinitions.references("max(cycle) OVER (PARTITION BY unit) - cycle", "f", "k"))
        .containsExactly("cycle", "unit");
    assertThat(ViewDefinitions.references("aggregate(readings, 0D, (acc, x) -> acc + x * scale)", "f", "k"))
        .containsExactly("readings", "scale");
  }

  @Test
  void theDefinitionHashFollowsTheComputationNotTheDescription() {
    ViewDefinition a = ViewDefinitions.load(write(VALID));
    ViewDefinition sameButDescribed = ViewDefinitions.load(write(VALID.replace("owner: team", "owner: other\ndescription: x")));
    ViewDefinition otherWindow = ViewDefinitions.load(write(VALID.replace("windows: [7, 28d]", "windows: [7, 29]")));
    assertThat(ViewDefinitions.definitionHash(a))
        .hasSize(16)
        .isEqualTo(ViewDefinitions.definitionHash(sameButDescribed))
        .isNotEqualTo(ViewDefinitions.definitionHash(otherWindow));
  }

  @Test
  void aViewCannotTakeTheNameOfABuiltInFeatureTable() {
    // features/NAME is a view's table: a view named like a built-in table would read and overwrite it
    for (String builtIn : List.of("demand_daily", "machine_daily", "Demand_Daily")) {
      Path f = write(VALID.replace("name: sales_view", "name: " + builtIn));
      assertThatThrownBy(() -> ViewDefinitions.load(f))
          .isInstanceOf(InvalidInputException.class)
          .hasMessage("Invalid definition " + f + ", name: '" + builtIn + "' is the name of the built-in feature table"
              + " features/" + builtIn.toLowerCase(java.util.Locale.ROOT) + " (built by 'nightshift features build'),"
              + " which the view's table would replace. Fix: give the view another name, e.g. name: " + builtIn
              + "_view.");
    }
    assertThatThrownBy(
            () -> ViewDefinition.builder("machine_daily")
                .entities("unit")
                .eventTime("cycle", TimeType.INTEGER)
                .source(Format.PARQUET, "/data/engines", Map.of(), Map.of())
                .columns("s2")
                .build())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("name: 'machine_daily' is the name of the built-in feature table features/machine_daily");
    assertThat(ViewDefinitions.load(write(VALID.replace("name: sales_view", "name: demand_daily_view"))).name())
        .isEqualTo("demand_daily_view");
  }

  @Test
  void aDirectoryWithTwoViewsOfOneNameIsRejected() throws IOException {
    Path dir = SparkTestSession.tempDir("views-dir");
    Files.writeString(dir.resolve("a.yaml"), VALID);
    Files.writeString(dir.resolve("b.yaml"), VALID);
    assertThatThrownBy(() -> ViewDefinitions.loadAll(dir))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("b.yaml")
        .hasMessageContaining("view 'sales_view' is defined twice");
  }

  @Test
  void expectationsAreParsedCheckedAndLeftOutOfTheHash() {
    String declared = VALID + String.join("\n",
        "expectations:",
        "  not_null: {sales: 0.01, price: 0}",
        "  unique: [store, item, date]",
        "  ranges: {sales: {min: 0}, price: {min: 0.5, max: 99.5}}",
        "  allowed_values: {store: [1, 2]}",
        "  freshness_days: 2",
        "  row_count: {min: 100}",
        "");
    ViewDefinition d = ViewDefinitions.load(write(declared));
    assertThat(d.expectations()).containsExactly(
        new Expectation.NotNull("sales", 0.01),
        new Expectation.NotNull("price", 0.0),
        new Expectation.Unique(List.of("store", "item", "date")),
        new Expectation.Range("sales", 0.0, null),
        new Expectation.Range("price", 0.5, 99.5),
        new Expectation.AllowedValues("store", List.of("1", "2")),
        new Expectation.Freshness("date", 2),
        new Expectation.RowCount(100, 0.5));
    // expectations judge the table; they do not change its values, so no rebuild is asked for
    assertThat(ViewDefinitions.definitionHash(d))
        .isEqualTo(ViewDefinitions.definitionHash(ViewDefinitions.load(write(VALID))));
    // a view's contract for training carries them
    assertThat(d.asFeatureView(io.nightshift.core.UseCase.DEMAND, "f").expectations()).isEqualTo(d.expectations());

    assertInvalid(VALID + "expectations:\n  not_null: [salez]\n", "expectations:", "unknown column 'salez'");
    assertInvalid(VALID + "expectations:\n  ranges: {sales: {min: 5, max: 1}}\n", "expectations.ranges.sales:",
        "min <= max");
    assertInvalid(VALID + "expectations:\n  not_null: {sales: 2}\n", "expectations.not_null.sales:",
        "between 0 and 1");
    assertInvalid(VALID + "expectations:\n  fresh: 1\n", "expectations.fresh");
    assertInvalid(VALID + "expectations:\n  row_count: {min: -3}\n", "expectations.row_count:");
    // features and the label are written as doubles: their allowed values are numbers
    assertThat(ViewDefinitions.load(write(VALID + "expectations:\n  allowed_values: {sales: [0, 1.5], price: [2]}\n"))
        .expectations()).hasSize(2);
    assertInvalid(VALID + "expectations:\n  allowed_values: {sales: [0, many]}\n", "expectations.allowed_values.sales:",
        "feature view sales_view writes sales as a double, but 'many' is not a number");
    assertInvalid(
        VALID.replace("{column: date, type: date}", "{column: date, type: integer}").replace("  calendar: [day_of_week, month]\n", "")
            .replace("windows: [7, 28d]", "windows: [7, 28]").replace("columns: {date: date,", "columns: {date: int,")
            + "expectations:\n  freshness_days: 1\n",
        "expectations.freshness_days:", "needs a date event time");
  }

  @Test
  void aViewWithoutLabelCannotTrain() {
    ViewDefinition d = ViewDefinitions.load(write(VALID.replace("label: sales\n", "")));
    assertThatThrownBy(() -> d.asFeatureView(io.nightshift.core.UseCase.DEMAND, "conf/features/x.yaml"))
        .isInstanceOf(io.nightshift.core.InvalidInputException.class)
        .hasMessageContaining("conf/features/x.yaml")
        .hasMessageContaining("label: is missing")
        .hasMessageContaining("add label:");
  }
}
