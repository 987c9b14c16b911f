package io.nightshift.featurestore.views;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.nightshift.core.Errors;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.quality.Expectation;
import io.nightshift.featurestore.views.ViewDefinition.Aggregation;
import io.nightshift.featurestore.views.ViewDefinition.CalendarPart;
import io.nightshift.featurestore.views.ViewDefinition.Format;
import io.nightshift.featurestore.views.ViewDefinition.Function;
import io.nightshift.featurestore.views.ViewDefinition.Lag;
import io.nightshift.featurestore.views.ViewDefinition.Source;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import io.nightshift.featurestore.views.ViewDefinition.Transformation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.sql.catalyst.analysis.UnresolvedAttribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.LambdaFunction;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.UnresolvedNamedLambdaVariable;
import org.apache.spark.sql.catalyst.parser.CatalystSqlParser$;
import org.apache.spark.sql.types.DataType;

/**
 * Reads feature view definitions from YAML and validates them before any Spark job runs: required keys, known
 * formats, functions and calendar parts, positive windows and lags, Spark SQL that parses, column references that
 * exist (source columns plus earlier transformations; for a Delta or Parquet source without declared columns, checked
 * against its schema when it is read: {@link #checkSourceColumns}), and feature names that are unique. Every error
 * names the file, the key and the fix.
 *
 * <pre>
 * name: store_item_daily                       # the table: features/store_item_daily (not a built-in one)
 * description: ...
 * owner: demand-team
 * entities: [store, item]
 * event_time: {column: date, type: date}       # type: date (windows in days) or integer (windows in steps)
 * source:
 *   format: csv                                # csv, parquet or delta
 *   path: raw/store-item-demand/train.csv      # relative to the warehouse, or absolute / a URI
 *   options: {header: "true"}                  # Spark reader options
 *   columns: {date: date, store: int, item: int, sales: double}
 * filter: "sales IS NOT NULL"                  # Spark SQL on source rows (optional)
 * transformations:                             # Spark SQL, in order; window functions allowed
 *   - {name: log_sales, expr: "ln(1 + sales)"}  # one named like the event time redefines it (date views: before
 *                                              # any window function)
 * label: sales                                 # optional; carried, never a feature
 * features:
 *   include_current: false                     # windows end before the row (default) or at it (never the label's)
 *   columns: [price]                           # the row's own values
 *   aggregations:
 *     - {column: sales, functions: [mean, std, min, max, sum, count, last], windows: [7, 28]}
 *   lags:
 *     - {column: sales, periods: [1, 7, 364]}
 *   calendar: [day_of_week, month, day_of_year, is_weekend]
 * expectations:                                # optional; the quality gate before training
 *   not_null: [sales]                          # or {sales: 0.01}: the largest share of nulls
 *   unique: [store, item, date]                # entities + event time are always checked
 *   ranges: {sales: {min: 0}}
 *   allowed_values: {store: [1, 2, 3]}
 *   freshness_days: 1                          # date views: newest row vs the as-of date
 *   row_count: {min: 1000, max_change: 0.5}    # and within 50% of the median of earlier runs
 * </pre>
 */
public final class ViewDefinitions {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern WINDOW = Pattern.compile("(\\d+)\\s*(d|days?)?");
  private static final int MAX_WINDOW = 3660;
  private static final Set<String> TOP_LEVEL =
      Set.of("name", "description", "owner", "entities", "event_time", "source", "filter", "transformations", "label",
          "features", "expectations");
  private static final Set<String> EXPECTATION_KEYS =
      Set.of("not_null", "unique", "ranges", "allowed_values", "freshness_days", "row_count");
  private static final Set<String> FEATURE_KEYS = Set.of("include_current", "columns", "aggregations", "lags", "calendar");

  private ViewDefinitions() {}

  /** Every {@code *.yaml} / {@code *.yml} file of a directory, sorted by name; all are validated. */
  public static List<ViewDefinition> loadAll(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw Errors.invalidOption("--views", dir.toString(), "pass a directory of feature view YAML files (conf/features)");
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
    } catch (IOException e) {
      throw Errors.invalidOption("--views", dir.toString(), "make the directory readable: " + e.getMessage());
    }
    List<ViewDefinition> out = new ArrayList<>();
    Set<String> names = new TreeSet<>();
    for (Path f : files) {
      ViewDefinition d = load(f);
      if (!names.add(d.name())) {
        throw Errors.invalidDefinition(f.toString(), "name", "view '" + d.name() + "' is defined twice in " + dir,
            "give each view its own name");
      }
      out.add(d);
    }
    return out;
  }

  /** Parses and validates one YAML file. */
  public static ViewDefinition load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw Errors.invalidOption("--view", file.toString(), "pass an existing feature view YAML file (see conf/features/)");
    }
    JsonNode root;
    try {
      root = YAML.readTree(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw Errors.invalidDefinition(file.toString(), "(YAML)", "cannot be parsed: " + firstLine(e.getMessage()),
          "fix the YAML syntax");
    }
    return parse(root, file.toString());
  }

  /** Parses and validates a definition read from {@code source} (a file name, for messages). */
  public static ViewDefinition parse(JsonNode root, String file) {
    if (root == null || !root.isObject()) {
      throw Errors.invalidDefinition(file, "(root)", "is not a mapping", "write the view as in conf/features/*.yaml");
    }
    onlyKeys(root, TOP_LEVEL, file, "");
    String name = text(root, "name", file, true);
    JsonNode time = required(root, "event_time", file);
    String timeColumn;
    TimeType timeType;
    if (time.isTextual()) {
      timeColumn = time.asText();
      timeType = TimeType.DATE;
    } else {
      onlyKeys(time, Set.of("column", "type"), file, "event_time.");
      timeColumn = text(time, "column", file, true, "event_time.column");
      String t = Optional.ofNullable(text(time, "type", file, false, "event_time.type")).orElse("date");
      timeType = enumValue(TimeType.class, t, file, "event_time.type");
    }
    JsonNode src = required(root, "source", file);
    onlyKeys(src, Set.of("format", "path", "options", "columns"), file, "source.");
    Format format = enumValue(Format.class, text(src, "format", file, true, "source.format"), file, "source.format");
    Source source =
        new Source(
            format,
            text(src, "path", file, true, "source.path"),
            stringMap(src.get("options"), file, "source.options"),
            stringMap(src.get("columns"), file, "source.columns"));
    List<Transformation> transformations = new ArrayList<>();
    JsonNode ts = root.get("transformations");
    if (ts != null && !ts.isNull()) {
      if (!ts.isArray()) {
        throw Errors.invalidDefinition(file, "transformations", "is not a list", "write - {name: col, expr: \"SQL\"} items");
      }
      for (int i = 0; i < ts.size(); i++) {
        String key = "transformations[" + i + "]";
        onlyKeys(ts.get(i), Set.of("name", "expr"), file, key + ".");
        transformations.add(
            new Transformation(text(ts.get(i), "name", file, true, key + ".name"), text(ts.get(i), "expr", file, true, key + ".expr")));
      }
    }
    JsonNode features = root.path("features");
    if (!features.isMissingNode() && !features.isObject()) {
      throw Errors.invalidDefinition(file, "features", "is not a mapping", "use the keys " + new TreeSet<>(FEATURE_KEYS));
    }
    if (features.isObject()) {
      onlyKeys(features, FEATURE_KEYS, file, "features.");
    }
    List<Aggregation> aggregations = new ArrayList<>();
    JsonNode aggs = features.path("aggregations");
    for (int i = 0; i < aggs.size(); i++) {
      String key = "features.aggregations[" + i + "]";
      JsonNode a = aggs.get(i);
      onlyKeys(a, Set.of("column", "functions", "windows"), file, key + ".");
      List<Function> fns = new ArrayList<>();
      for (String f : texts(a.get("functions"), file, key + ".functions")) {
        fns.add(enumValue(Function.class, f, file, key + ".functions"));
      }
      List<Integer> windows = new ArrayList<>();
      JsonNode ws = a.get("windows");
      if (ws == null || !ws.isArray() || ws.isEmpty()) {
        throw Errors.invalidDefinition(file, key + ".windows", "is missing or empty", "list window lengths, e.g. [7, 28]");
      }
      for (int j = 0; j < ws.size(); j++) {
        windows.add(window(ws.get(j).asText(), timeType, file, key + ".windows[" + j + "]"));
      }
      aggregations.add(new Aggregation(text(a, "column", file, true, key + ".column"), fns, windows));
    }
    List<Lag> lags = new ArrayList<>();
    JsonNode ls = features.path("lags");
    for (int i = 0; i < ls.size(); i++) {
      String key = "features.lags[" + i + "]";
      JsonNode l = ls.get(i);
      onlyKeys(l, Set.of("column", "periods"), file, key + ".");
      List<Integer> periods = new ArrayList<>();
      for (String p : texts(l.get("periods"), file, key + ".periods")) {
        periods.add(window(p, timeType, file, key + ".periods"));
      }
      lags.add(new Lag(text(l, "column", file, true, key + ".column"), periods));
    }
    List<CalendarPart> calendar = new ArrayList<>();
    for (String c : features.has("calendar") ? texts(features.get("calendar"), file, "features.calendar") : List.<String>of()) {
      calendar.add(enumValue(CalendarPart.class, c, file, "features.calendar"));
    }
    List<String> columns = features.has("columns") ? texts(features.get("columns"), file, "features.columns") : List.of();
    ViewDefinition d =
        new ViewDefinition(
            name,
            text(root, "description", file, false),
            text(root, "owner", file, false),
            texts(required(root, "entities", file), file, "entities"),
            timeColumn,
            timeType,
            source,
            Optional.ofNullable(text(root, "filter", file, false)),
            transformations,
            Optional.ofNullable(text(root, "label", file, false)),
            columns,
            aggregations,
            lags,
            calendar,
            features.path("include_current").asBoolean(false),
            expectations(root.get("expectations"), timeColumn, file));
    validate(d, file);
    return d;
  }

  /**
   * The {@code expectations:} section: {@code not_null} (a list of columns, or column: largest null share),
   * {@code unique} (the columns that identify a row), {@code ranges} (column: {min, max}), {@code allowed_values}
   * (column: [values]), {@code freshness_days} (date views: the newest row at most this many days before the as-of
   * date) and {@code row_count} ({min, max_change}: at least min rows and within max_change of earlier builds).
   */
  static List<Expectation> expectations(JsonNode node, String timeColumn, String file) {
    List<Expectation> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isObject()) {
      throw Errors.invalidDefinition(file, "expectations", "is not a mapping", "use the keys " + new TreeSet<>(EXPECTATION_KEYS));
    }
    onlyKeys(node, EXPECTATION_KEYS, file, "expectations.");
    JsonNode nn = node.get("not_null");
    if (nn != null) {
      if (nn.isArray()) {
        texts(nn, file, "expectations.not_null").forEach(c -> out.add(new Expectation.NotNull(c, 0)));
      } else if (nn.isObject()) {
        nn.fields().forEachRemaining(e -> {
          double share = e.getValue().asDouble(-1);
          if (!e.getValue().isNumber() || share < 0 || share > 1) {
            throw Errors.invalidDefinition(file, "expectations.not_null." + e.getKey(),
                "must be the largest share of nulls, between 0 and 1 (found " + e.getValue() + ")", "e.g. 0.01");
          }
          out.add(new Expectation.NotNull(e.getKey(), share));
        });
      } else {
        throw Errors.invalidDefinition(file, "expectations.not_null", "is neither a list of columns nor a mapping",
            "write [col1, col2] or {col1: 0.01}");
      }
    }
    if (node.has("unique")) {
      out.add(new Expectation.Unique(texts(node.get("unique"), file, "expectations.unique")));
    }
    JsonNode ranges = node.get("ranges");
    if (ranges != null) {
      if (!ranges.isObject()) {
        throw Errors.invalidDefinition(file, "expectations.ranges", "is not a mapping", "write {column: {min: 0, max: 10}}");
      }
      ranges.fields().forEachRemaining(e -> {
        String key = "expectations.ranges." + e.getKey();
        JsonNode r = e.getValue();
        onlyKeys(r, Set.of("min", "max"), file, key + ".");
        Double min = bound(r, "min", file, key);
        Double max = bound(r, "max", file, key);
        if (min == null && max == null || min != null && max != null && min > max) {
          throw Errors.invalidDefinition(file, key, "needs min or max, with min <= max", "e.g. {min: 0, max: 125}");
        }
        out.add(new Expectation.Range(e.getKey(), min, max));
      });
    }
    JsonNode allowed = node.get("allowed_values");
    if (allowed != null) {
      if (!allowed.isObject()) {
        throw Errors.invalidDefinition(file, "expectations.allowed_values", "is not a mapping", "write {column: [a, b]}");
      }
      allowed.fields().forEachRemaining(e -> out.add(new Expectation.AllowedValues(e.getKey(),
          texts(e.getValue(), file, "expectations.allowed_values." + e.getKey()))));
    }
    JsonNode fresh = node.get("freshness_days");
    if (fresh != null) {
      if (!fresh.isIntegralNumber() || fresh.asInt() < 0) {
        throw Errors.invalidDefinition(file, "expectations.freshness_days", "must be a whole number of days >= 0 (found "
            + fresh + ")", "e.g. 1");
      }
      out.add(new Expectation.Freshness(timeColumn, fresh.asInt()));
    }
    JsonNode rc = node.get("row_count");
    if (rc != null) {
      onlyKeys(rc, Set.of("min", "max_change"), file, "expectations.row_count.");
      JsonNode min = rc.path("min");
      JsonNode change = rc.path("max_change");
      if (!min.isMissingNode() && (!min.isIntegralNumber() || min.asLong() < 0)
          || !change.isMissingNode() && (!change.isNumber() || change.asDouble() <= 0)) {
        throw Errors.invalidDefinition(file, "expectations.row_count", "needs min >= 0 (rows) and max_change > 0 (a share)",
            "e.g. {min: 1000, max_change: 0.5}");
      }
      out.add(new Expectation.RowCount(min.asLong(1), change.isMissingNode() ? 0.5 : change.asDouble()));
    }
    return out;
  }

  private static Double bound(JsonNode r, String key, String file, String path) {
    JsonNode v = r.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw Errors.invalidDefinition(file, path + "." + key, "must be a number (found " + v + ")", "e.g. 0");
    }
    return v.asDouble();
  }

  /** The checks that need no data: names, references, windows, SQL syntax, unique outputs. */
  static void validate(ViewDefinition d, String file) {
    if (!IDENTIFIER.matcher(d.name()).matches()) {
      throw Errors.invalidDefinition(file, "name", "'" + d.name() + "' is not a table name",
          "use letters, digits and underscores, starting with a letter");
    }
    for (String builtIn : Warehouse.builtInFeatureTables()) {
      if (builtIn.equalsIgnoreCase(d.name())) { // features/NAME is also the built-in table's path
        throw Errors.invalidDefinition(file, "name",
            "'" + d.name() + "' is the name of the built-in feature table features/" + builtIn
                + " (built by 'nightshift features build'), which the view's table would replace",
            "give the view another name, e.g. name: " + d.name() + "_view");
      }
    }
    if (d.entities().isEmpty()) {
      throw Errors.invalidDefinition(file, "entities", "is empty", "list the entity key columns, e.g. [store, item]");
    }
    if (d.source().format() == Format.CSV && d.source().columns().isEmpty()) {
      throw Errors.invalidDefinition(file, "source.columns", "is missing for a CSV source",
          "declare every column in file order with its type, e.g. {date: date, store: int, sales: double}");
    }
    for (Map.Entry<String, String> c : d.source().columns().entrySet()) {
      try {
        DataType.fromDDL(c.getValue());
      } catch (Exception e) { // Spark's ParseException, undeclared in Scala
        throw Errors.invalidDefinition(file, "source.columns." + c.getKey(), "'" + c.getValue() + "' is not a Spark SQL type",
            "use a type such as int, bigint, double, string, date or timestamp");
      }
    }
    if (d.filter().isPresent()) {
      references(d.filter().get(), file, "filter");
    }
    for (int i = 0; i < d.transformations().size(); i++) {
      Transformation t = d.transformations().get(i);
      String key = "transformations[" + i + "]";
      if (!IDENTIFIER.matcher(t.name()).matches()) {
        throw Errors.invalidDefinition(file, key + ".name", "'" + t.name() + "' is not a column name",
            "use letters, digits and underscores");
      }
      references(t.expr(), file, key + ".expr");
    }
    // the declared source columns; a Delta/Parquet source without them is checked when read (checkSourceColumns)
    if (!d.source().columns().isEmpty()) {
      checkReferences(d, file, d.source().columns().keySet(), "", "declare it under source.columns or transformations");
    }
    int timeDefined = ViewMaterializer.eventTimeDefinition(d);
    if (timeDefined < 0) {
      d.source().columns().entrySet().stream().filter(c -> c.getKey().equalsIgnoreCase(d.eventTime())).findFirst()
          .ifPresent(c -> checkEventTimeType(d, file, DataType.fromDDL(c.getValue()), "source.columns." + c.getKey(),
              "declared as " + c.getValue()));
    }
    for (int i = 0; d.timeType() == TimeType.DATE && i <= timeDefined; i++) {
      // the as-of date cuts rows once their event time is final: a window function before that would see later rows
      if (usesWindowFunction(d.transformations().get(i).expr())) {
        throw Errors.invalidDefinition(file, "transformations[" + i + "].expr",
            "uses a window function, but the event time " + d.eventTime() + " is only final after transformations["
                + timeDefined + "] (the as-of date cuts rows by it, so the window would see rows after the as-of date)",
            i == timeDefined ? "compute the event time without a window function"
                : "move this transformation after transformations[" + timeDefined + "]");
      }
    }
    if (d.label().isPresent()) {
      requireNoLabelInFeatures(d, file);
    }
    if (!d.calendar().isEmpty() && d.timeType() != TimeType.DATE) {
      throw Errors.invalidDefinition(file, "features.calendar", "needs a date event time, but event_time.type is integer",
          "remove the calendar features or use a date event time");
    }
    List<String> features = d.featureNames();
    if (features.isEmpty()) {
      throw Errors.invalidDefinition(file, "features", "declares no features",
          "add columns, aggregations, lags or calendar parts under features");
    }
    Set<String> seen = new LinkedHashSet<>();
    Set<String> reserved = lower(d.entities());
    reserved.add(d.eventTime().toLowerCase(Locale.ROOT));
    d.label().ifPresent(l -> reserved.add(l.toLowerCase(Locale.ROOT)));
    for (String f : features) {
      String lf = f.toLowerCase(Locale.ROOT);
      if (!seen.add(lf)) {
        throw Errors.invalidDefinition(file, "features", "duplicate feature name '" + f + "'",
            "declare each column, aggregation function, window and lag period once");
      }
      if (reserved.contains(lf)) {
        throw Errors.invalidDefinition(file, "features", "feature '" + f + "' has the name of an entity, the event time or the label",
            "remove it from features (keys, time and label are carried anyway) or rename it with a transformation");
      }
    }
    Set<String> outputs = new LinkedHashSet<>(seen);
    outputs.addAll(reserved);
    for (Expectation e : d.expectations()) {
      List<String> cols = e instanceof Expectation.Unique u ? u.columns()
          : e instanceof Expectation.Freshness || e instanceof Expectation.RowCount ? List.of() : List.of(e.subject());
      for (String c : cols) {
        if (!outputs.contains(c.toLowerCase(Locale.ROOT))) {
          throw Errors.invalidDefinition(file, "expectations", "names unknown column '" + c + "'",
              "use the view's entities, event time, label or features");
        }
      }
      if (e instanceof Expectation.AllowedValues a && (seen.contains(a.column().toLowerCase(Locale.ROOT))
          || d.label().map(l -> l.equalsIgnoreCase(a.column())).orElse(false))) {
        for (String v : a.values()) {
          try {
            new java.math.BigDecimal(v);
          } catch (NumberFormatException notANumber) { // the gate compares the table's doubles as numbers
            throw Errors.invalidDefinition(file, "expectations.allowed_values." + a.column(),
                "feature view " + d.name() + " writes " + a.column() + " as a double, but '" + v + "' is not a number",
                "list numbers, e.g. [0, 1], or check a string column of the source with a filter");
          }
        }
      }
      if (e instanceof Expectation.Freshness && d.timeType() != TimeType.DATE) {
        throw Errors.invalidDefinition(file, "expectations.freshness_days", "needs a date event time, but event_time.type is integer",
            "remove freshness_days");
      }
    }
  }

  /**
   * A stable hash of everything that changes the computed values (not the description or owner): a view whose
   * hash differs from the one recorded for its table must be rebuilt.
   */
  public static String definitionHash(ViewDefinition d) {
    String canonical =
        String.join(
            "\n",
            d.name(), d.entities().toString(), d.eventTime(), d.timeType().name(), d.source().toString(),
            d.filter().toString(), d.transformations().toString(), d.label().toString(), d.columns().toString(),
            d.aggregations().toString(), d.lags().toString(), d.calendar().toString(), Boolean.toString(d.includeCurrent()));
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Column names a Spark SQL expression reads (first name part; a lambda's own arguments excluded). */
  static Set<String> references(String sql, String file, String key) {
    Expression e;
    try {
      e = CatalystSqlParser$.MODULE$.parseExpression(sql);
    } catch (Exception ex) { // Spark's ParseException (an AnalysisException), undeclared in Scala
      throw Errors.invalidDefinition(file, key, "'" + sql + "' is not a Spark SQL expression: " + firstLine(ex.getMessage()),
          "fix the SQL (it is parsed like a SELECT expression)");
    }
    Set<String> out = new TreeSet<>();
    collect(e, out, Set.of());
    return out;
  }

  /** Whether a Spark SQL expression contains an {@code OVER (...)} window function. */
  static boolean usesWindowFunction(String sql) {
    return containsWindow(CatalystSqlParser$.MODULE$.parseExpression(sql));
  }

  private static boolean containsWindow(Expression e) {
    if (e instanceof org.apache.spark.sql.catalyst.expressions.WindowExpression
        || e instanceof org.apache.spark.sql.catalyst.expressions.UnresolvedWindowExpression) {
      return true;
    }
    scala.collection.Iterator<Expression> it = e.children().iterator();
    while (it.hasNext()) {
      if (containsWindow(it.next())) {
        return true;
      }
    }
    return false;
  }

  /** Attributes, and names inside lambda bodies that are not the lambda's own arguments (outer columns). */
  private static void collect(Expression e, Set<String> out, Set<String> bound) {
    if (e instanceof UnresolvedAttribute a) {
      out.add(a.nameParts().head().toLowerCase(Locale.ROOT));
    } else if (e instanceof UnresolvedNamedLambdaVariable v) {
      String name = v.nameParts().head().toLowerCase(Locale.ROOT);
      if (!bound.contains(name)) {
        out.add(name);
      }
    } else if (e instanceof LambdaFunction l) {
      Set<String> inner = new TreeSet<>(bound);
      scala.collection.Iterator<NamedExpression> args = l.arguments().iterator();
      while (args.hasNext()) {
        inner.add(args.next().name().toLowerCase(Locale.ROOT));
      }
      collect(l.function(), out, inner);
      return;
    }
    scala.collection.Iterator<Expression> it = e.children().iterator();
    while (it.hasNext()) {
      collect(it.next(), out, bound);
    }
  }

  /**
   * Checks the column references of {@code d} (entities, event time, filter, transformations, label, features)
   * against the columns its source has when read: for a Delta or Parquet source without {@code source.columns},
   * whose schema is only known then. An unknown column is an input error naming {@code file}, the key, the column and
   * the columns of {@code source} (its path); so is an event time of a type the view cannot use, when no
   * transformation redefines it (see {@link #checkEventTimeType}).
   */
  public static void checkSourceColumns(
      ViewDefinition d, String file, org.apache.spark.sql.types.StructType schema, String source) {
    List<String> columns = List.of(schema.fieldNames());
    checkReferences(d, file, columns, "the source " + source + " has the columns " + new TreeSet<>(lower(columns)),
        "compute the column with a transformation");
    if (ViewMaterializer.eventTimeDefinition(d) < 0) {
      for (org.apache.spark.sql.types.StructField f : schema.fields()) {
        if (f.name().equalsIgnoreCase(d.eventTime())) {
          checkEventTimeType(d, file, f.dataType(), "event_time",
              "of type " + f.dataType().simpleString() + " in the source " + source);
        }
      }
    }
  }

  /**
   * The event time taken straight from a source column must have a type its {@code event_time.type} can use: a date,
   * a timestamp or ISO text for {@code date} (text that does not parse fails the build, naming the rows), a whole
   * number for {@code integer}. A number on a date view would otherwise fail in Spark with no file or key named.
   */
  static void checkEventTimeType(ViewDefinition d, String file, DataType type, String key, String what) {
    String name = type.typeName();
    boolean ok = d.timeType() == TimeType.DATE
        ? List.of("date", "timestamp", "timestamp_ntz", "string").contains(name)
        : List.of("byte", "short", "integer", "long").contains(name);
    if (!ok) {
      throw Errors.invalidDefinition(file, key,
          "the event time " + d.eventTime() + " is " + what + ", which event_time.type " + d.timeType().name()
              .toLowerCase(Locale.ROOT) + " cannot use",
          d.timeType() == TimeType.DATE
              ? "give it a date, timestamp or YYYY-MM-DD text, or compute the date with a transformation named "
                  + d.eventTime() + ", e.g. {name: " + d.eventTime() + ", expr: \"to_date(cast(" + d.eventTime()
                  + " AS string), 'yyyyMMdd')\"}"
              : "give it whole numbers (int or bigint), or use event_time.type: date for dates");
    }
  }

  /**
   * Every column reference of {@code d} must be a source column or an earlier transformation: {@code where} says
   * where the source columns come from (for messages; may be empty), {@code otherwise} how else to make a column.
   */
  private static void checkReferences(
      ViewDefinition d, String file, java.util.Collection<String> sourceColumns, String where, String otherwise) {
    Set<String> known = lower(sourceColumns);
    for (String e : d.entities()) {
      requireKnown(known, e, file, "entities", note(where), otherwise);
    }
    requireKnown(known, d.eventTime(), file, "event_time.column", note(where), otherwise);
    if (d.filter().isPresent()) {
      for (String r : references(d.filter().get(), file, "filter")) {
        requireKnown(known, r, file, "filter", note("the filter sees source columns only", where), otherwise);
      }
    }
    for (int i = 0; i < d.transformations().size(); i++) {
      Transformation t = d.transformations().get(i);
      String key = "transformations[" + i + "].expr";
      for (String r : references(t.expr(), file, key)) {
        requireKnown(known, r, file, key,
            note("a transformation sees source columns and earlier transformations", where), otherwise);
      }
      known.add(t.name().toLowerCase(Locale.ROOT));
    }
    if (d.label().isPresent()) {
      requireKnown(known, d.label().get(), file, "label", note(where), otherwise);
    }
    for (String c : d.columns()) {
      requireKnown(known, c, file, "features.columns", note(where), otherwise);
    }
    for (int i = 0; i < d.aggregations().size(); i++) {
      requireKnown(known, d.aggregations().get(i).column(), file, "features.aggregations[" + i + "].column",
          note(where), otherwise);
    }
    for (int i = 0; i < d.lags().size(); i++) {
      requireKnown(known, d.lags().get(i).column(), file, "features.lags[" + i + "].column", note(where), otherwise);
    }
  }

  /**
   * Refuses features that carry the row's own label (target leakage): a plain column ({@code features.columns}) that
   * is a transformation computed from the label, and, with {@code include_current: true} (a window then ends at the row
   * itself), an aggregation of the label or of such a transformation. A lag is always of an earlier row (periods are
   * at least 1); a plain column named as the label is refused elsewhere.
   */
  private static void requireNoLabelInFeatures(ViewDefinition d, String file) {
    String label = d.label().orElseThrow().toLowerCase(Locale.ROOT);
    Map<String, String> fromLabel = new LinkedHashMap<>(); // column -> the transformation that computes it
    for (int i = 0; i < d.transformations().size(); i++) {
      Transformation t = d.transformations().get(i);
      String name = t.name().toLowerCase(Locale.ROOT);
      Set<String> refs = references(t.expr(), file, "transformations[" + i + "].expr");
      if (refs.contains(label) || refs.stream().anyMatch(fromLabel::containsKey)) {
        fromLabel.put(name, "transformations[" + i + "]");
      } else {
        fromLabel.remove(name); // redefined without the label
      }
    }
    for (int i = 0; i < d.columns().size(); i++) {
      String column = d.columns().get(i);
      String c = column.toLowerCase(Locale.ROOT);
      if (fromLabel.containsKey(c)) {
        throw Errors.invalidDefinition(file, "features.columns[" + i + "]",
            column + " is computed from the label " + d.label().get() + " (" + fromLabel.get(c) + "): as a feature"
                + " of its own row it would carry that row's label (target leakage)",
            "leave " + column + " out of features.columns; to use its past, aggregate or lag it instead");
      }
    }
    if (!d.includeCurrent()) {
      return;
    }
    for (int i = 0; i < d.aggregations().size(); i++) {
      String column = d.aggregations().get(i).column();
      String c = column.toLowerCase(Locale.ROOT);
      if (c.equals(label) || fromLabel.containsKey(c)) {
        throw Errors.invalidDefinition(file, "features.aggregations[" + i + "].column",
            "with include_current: true the windows of " + column + " end at the row itself, and " + column
                + (c.equals(label) ? " is the label" : " is computed from the label " + d.label().get() + " ("
                    + fromLabel.get(c) + ")") + ": each row's features would include its own label (target leakage)",
            "set features.include_current: false (windows then end the step before the row), or aggregate a column"
                + " that is not computed from the label");
      }
    }
  }

  /** " (a; b)" of the non-empty parts, or "" when there are none. */
  private static String note(String... parts) {
    List<String> nonEmpty = Arrays.stream(parts).filter(p -> !p.isEmpty()).toList();
    return nonEmpty.isEmpty() ? "" : " (" + String.join("; ", nonEmpty) + ")";
  }

  private static void requireKnown(
      Set<String> known, String column, String file, String key, String note, String otherwise) {
    if (!known.contains(column.toLowerCase(Locale.ROOT))) {
      throw Errors.invalidDefinition(file, key, "unknown column '" + column + "'" + note,
          "use one of " + new TreeSet<>(known) + ", or " + otherwise);
    }
  }

  private static int window(String value, TimeType type, String file, String key) {
    Matcher m = WINDOW.matcher(value.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw Errors.invalidDefinition(file, key, "bad window '" + value + "'",
          "use a positive whole number of " + (type == TimeType.DATE ? "days, e.g. 7 or 7d" : "event-time steps, e.g. 5"));
    }
    if (m.group(2) != null && type != TimeType.DATE) {
      throw Errors.invalidDefinition(file, key, "bad window '" + value + "': days need a date event time",
          "give the number of event-time steps without a unit, e.g. " + m.group(1));
    }
    int w;
    try {
      w = Integer.parseInt(m.group(1));
    } catch (NumberFormatException e) {
      w = -1;
    }
    if (w < 1 || w > MAX_WINDOW) {
      throw Errors.invalidDefinition(file, key, "bad window '" + value + "'",
          "use a window between 1 and " + MAX_WINDOW + " " + (type == TimeType.DATE ? "days" : "steps"));
    }
    return w;
  }

  private static <E extends Enum<E>> E enumValue(Class<E> type, String value, String file, String key) {
    try {
      return Enum.valueOf(type, value.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      List<String> allowed = Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT)).toList();
      throw Errors.invalidDefinition(file, key, "unknown value '" + value + "'", "use one of " + allowed);
    }
  }

  private static void onlyKeys(JsonNode node, Set<String> allowed, String file, String prefix) {
    if (node == null || !node.isObject()) {
      throw Errors.invalidDefinition(file, prefix.isEmpty() ? "(root)" : prefix.substring(0, prefix.length() - 1),
          "is not a mapping", "use the keys " + new TreeSet<>(allowed));
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw Errors.invalidDefinition(file, prefix + k, "is not a known key", "use only " + new TreeSet<>(allowed));
      }
    }
  }

  private static JsonNode required(JsonNode node, String key, String file) {
    JsonNode v = node.get(key);
    if (v == null || v.isNull()) {
      throw Errors.invalidDefinition(file, key, "is missing", "add it (see conf/features/*.yaml for examples)");
    }
    return v;
  }

  private static String text(JsonNode node, String key, String file, boolean required) {
    return text(node, key, file, required, key);
  }

  private static String text(JsonNode node, String key, String file, boolean required, String path) {
    JsonNode v = node.get(key);
    if (v == null || v.isNull()) {
      if (required) {
        throw Errors.invalidDefinition(file, path, "is missing", "add it (see conf/features/*.yaml for examples)");
      }
      return null;
    }
    if (!v.isValueNode()) {
      throw Errors.invalidDefinition(file, path, "is not a single value", "write it as a string");
    }
    String s = v.asText().strip();
    if (required && s.isEmpty()) {
      throw Errors.invalidDefinition(file, path, "is empty", "give it a value");
    }
    return s;
  }

  private static List<String> texts(JsonNode node, String file, String key) {
    if (node == null || node.isNull()) {
      throw Errors.invalidDefinition(file, key, "is missing", "write a list, e.g. [a, b]");
    }
    if (node.isValueNode()) {
      return List.of(node.asText().strip());
    }
    if (!node.isArray() || node.isEmpty()) {
      throw Errors.invalidDefinition(file, key, "is not a non-empty list", "write a list, e.g. [a, b]");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode n : node) {
      if (!n.isValueNode()) {
        throw Errors.invalidDefinition(file, key, "holds a nested value", "write plain values, e.g. [a, b]");
      }
      out.add(n.asText().strip());
    }
    return out;
  }

  private static Map<String, String> stringMap(JsonNode node, String file, String key) {
    Map<String, String> out = new LinkedHashMap<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isObject()) {
      throw Errors.invalidDefinition(file, key, "is not a mapping", "write name: value pairs");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isValueNode()) {
        throw Errors.invalidDefinition(file, key + "." + e.getKey(), "is not a single value", "write it as a string");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  private static Set<String> lower(java.util.Collection<String> names) {
    Set<String> out = new LinkedHashSet<>();
    for (String n : names) {
      out.add(n.toLowerCase(Locale.ROOT));
    }
    return out;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    String m = message.strip();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
