package io.nightshift.featurestore.views;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.dayofmonth;
import static org.apache.spark.sql.functions.dayofweek;
import static org.apache.spark.sql.functions.dayofyear;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.last;
import static org.apache.spark.sql.functions.last_day;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.month;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.quarter;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.stddev_samp;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.weekofyear;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.year;

import io.nightshift.core.Errors;
import io.nightshift.core.InvalidInputException;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.MalformedRows;
import io.nightshift.featurestore.views.ViewDefinition.Aggregation;
import io.nightshift.featurestore.views.ViewDefinition.CalendarPart;
import io.nightshift.featurestore.views.ViewDefinition.Format;
import io.nightshift.featurestore.views.ViewDefinition.Function;
import io.nightshift.featurestore.views.ViewDefinition.Lag;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import io.nightshift.featurestore.views.ViewDefinition.Transformation;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * Computes a {@link ViewDefinition}: reads the source, applies the filter and the transformations (for date views,
 * those after the event time is final see only rows with event time at or before the as-of date), then every feature
 * per entity over event time with range windows (so gaps in the data shorten a window instead of stretching it): one
 * shuffle and sort by entity and time for all windows. The event time is the one the view defines, after the
 * transformations that redefine its column; a row without one fails the build (no row is dropped silently). The
 * output has the entity keys, the event time, the label (if declared) and the features as doubles.
 */
public final class ViewMaterializer {
  private static final String TIME = "__ns_time";
  private static final String SOURCE_ROW = "__ns_source_row";
  /** Starts the message of a failure on a row without event time ({@link #explainingMalformedRows} explains it). */
  private static final String NULL_TIME = "Nightshift: a row without an event time in feature view ";

  private ViewMaterializer() {}

  /** Where a view's source lives: absolute paths and URIs as given, others under the warehouse root. */
  public static String sourcePath(ViewDefinition d, String warehouseRoot) {
    String p = d.source().path();
    if (p.startsWith("/") || p.contains("://")) {
      return p;
    }
    return warehouseRoot.replaceAll("/+$", "") + "/" + p;
  }

  /** {@link #readSource(SparkSession, ViewDefinition, String, String)} of a view declared in Java (no file). */
  public static Dataset<Row> readSource(SparkSession spark, ViewDefinition d, String warehouseRoot) {
    return readSource(spark, d, "feature view " + d.name(), warehouseRoot);
  }

  /**
   * The source rows as declared: CSV read with the declared schema, the header of each file (when it has one) checked
   * against the declared names, since CSV columns are taken by position; Delta and Parquet checked against the
   * declared names and types, or without declared columns every column the view names checked against the source's
   * schema (an input error naming {@code file}, the view's definition, the key and the source's columns).
   */
  public static Dataset<Row> readSource(SparkSession spark, ViewDefinition d, String file, String warehouseRoot) {
    String path = sourcePath(d, warehouseRoot);
    String what = "source of feature view " + d.name();
    Dataset<Row> df;
    Map<String, String> declared = d.source().columns();
    if (d.source().format() == Format.DELTA) {
      df = DeltaTables.read(spark, path, what, "land the source table at " + path + " or fix source.path");
    } else {
      if (!exists(spark, path)) {
        throw Errors.missingFiles(what, path, "land the source files at " + path + " or fix source.path");
      }
      DataFrameReader reader = spark.read().options(d.source().options());
      if (d.source().format() == Format.CSV) {
        if (!d.source().options().containsKey("mode")) {
          reader = reader.option("mode", "FAILFAST");
        }
        if (d.source().options().keySet().stream().noneMatch("enforceSchema"::equalsIgnoreCase)) {
          // Spark's default ignores the header and only logs a mismatch: columns in another order would be swapped
          reader = reader.option("enforceSchema", "false");
        }
        df = reader.schema(MalformedRows.ddl(declared)).csv(path);
      } else {
        df = reader.parquet(path);
      }
    }
    if (!declared.isEmpty()) {
      DeltaTables.requireColumns(df, what + " (" + path + ")", new ArrayList<>(declared.keySet()));
      if (d.source().format() != Format.CSV) {
        requireDeclaredTypes(df.schema(), declared, what + " (" + path + ")");
      }
      df = df.select(declared.keySet().stream().map(c -> col("`" + c + "`")).toArray(Column[]::new));
    } else {
      ViewDefinitions.checkSourceColumns(d, file, df.schema(), path);
    }
    return df;
  }

  /**
   * The declared types are the source's, except that any numeric type stands for another: features and labels are
   * read as doubles, so "double" for a decimal column only says it is a number, and asking for the exact numeric type
   * would change the definition hash of working views.
   */
  private static void requireDeclaredTypes(StructType schema, Map<String, String> declared, String what) {
    for (Map.Entry<String, String> c : declared.entrySet()) {
      DataType want = DataType.fromDDL(c.getValue());
      DataType found = schema.apply(c.getKey()).dataType();
      boolean numbers = want instanceof NumericType && found instanceof NumericType;
      if (!numbers && !want.catalogString().equals(found.catalogString())) {
        throw Errors.invalidOption("source.columns." + c.getKey(), c.getValue(),
            "the " + what + " has " + c.getKey() + " as " + found.catalogString() + "; declare " + c.getKey() + ": "
                + found.catalogString() + " in source.columns, or convert the column in the source");
      }
    }
  }

  /**
   * Runs {@code action}, which reads {@code d}'s source (a write or collect of its rows). A CSV row that does not
   * parse as declared fails it (FAILFAST) with Spark's message, which names neither the file nor the column: that
   * failure becomes an input error naming the source path, the file, the row and its column(s). A row whose event
   * time is null (after the source is read and the transformations applied) fails it too: that failure becomes an
   * input error naming {@code file} (the view's definition), the key that defines the event time, example rows and
   * the fix.
   */
  public static void explainingMalformedRows(
      SparkSession spark, ViewDefinition d, String file, String warehouseRoot, Runnable action) {
    try {
      action.run();
    } catch (Exception e) { // also Spark's SparkException (checked in Java, thrown undeclared from Scala)
      if (causedByNullEventTime(d, e)) {
        throw nullEventTime(spark, d, file, warehouseRoot, e);
      }
      if (d.source().format() != Format.CSV) {
        throw e;
      }
      String path = sourcePath(d, warehouseRoot);
      Optional<String> header = headerMismatch(d, e);
      if (header.isPresent()) {
        InvalidInputException error = Errors.unusableRows("source of feature view " + d.name(), path, header.get(),
            "list source.columns in the order of the files' header (CSV columns are read by position), or correct"
                + " the file's header");
        error.initCause(e);
        throw error;
      }
      if (!MalformedRows.isMalformedRecord(e)) {
        throw e;
      }
      String problem = MalformedRows.parserProblem(e);
      String row;
      try {
        row = MalformedRows.first(spark, path, d.source().options(), d.source().columns(), problem).orElse(null);
      } catch (RuntimeException diagnosis) { // the error stays an input error, with less detail
        row = null;
      }
      throw Errors.malformedRow(
          "source of feature view " + d.name(), path,
          row != null ? row : "a row does not parse as the declared columns " + d.source().columns() + " " + problem,
          "correct or remove the row, or declare the column in source.columns with the type its values have", e);
    }
  }

  /**
   * What is wrong when {@code failure} is Spark's refusal of a CSV file whose header does not name the declared
   * columns in order: the file, its header and the first column that differs. Spark's message is the only place
   * that names the file.
   */
  private static Optional<String> headerMismatch(ViewDefinition d, Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String m = t.getMessage();
      int at = m == null ? -1
          : Math.max(m.indexOf("CSV header does not conform"), m.indexOf("Number of column in CSV header"));
      if (at < 0) {
        continue;
      }
      String text = m.substring(at);
      String file = messageLine(text, "CSV file: ").orElse("a file");
      List<String> declared = new ArrayList<>(d.source().columns().keySet());
      Optional<String> header = messageLine(text, " Header: ");
      if (header.isEmpty()) {
        java.util.regex.Matcher n = java.util.regex.Pattern.compile("Header length: (\\d+)").matcher(text);
        return Optional.of("file " + file + " has a header of " + (n.find() ? n.group(1) : "another number of")
            + " columns, but source.columns declares " + declared.size() + " (" + String.join(", ", declared) + ")");
      }
      List<String> found = List.of(header.get().split(", ", -1));
      String first = "";
      for (int i = 0; i < Math.min(found.size(), declared.size()); i++) {
        if (!found.get(i).equalsIgnoreCase(declared.get(i))) {
          first = "; declared column " + (i + 1) + " is " + declared.get(i) + ", the file's is " + found.get(i);
          break;
        }
      }
      return Optional.of("file " + file + " has the header " + header.get() + ", but source.columns declares "
          + String.join(", ", declared) + first);
    }
    return Optional.empty();
  }

  private static boolean causedByNullEventTime(ViewDefinition d, Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains(NULL_TIME + d.name() + ":")) {
        return true;
      }
    }
    return false;
  }

  /**
   * The input error for source rows whose event time is null as the view defines it: how many there are and a few
   * of them (their source values, read again), the key that defines the event time and how to fix it.
   */
  private static InvalidInputException nullEventTime(
      SparkSession spark, ViewDefinition d, String file, String warehouseRoot, Throwable cause) {
    int k = eventTimeDefinition(d);
    String column = d.eventTime();
    long count = -1;
    List<String> examples = new ArrayList<>();
    boolean text = false;
    try {
      Dataset<Row> df = readSource(spark, d, file, warehouseRoot);
      text = df.schema().apply(df.schema().fieldIndex(column)).dataType().equals(DataTypes.StringType);
      Column[] all = java.util.Arrays.stream(df.columns()).map(c -> col("`" + c + "`")).toArray(Column[]::new);
      df = throughEventTime(df.withColumn(SOURCE_ROW, to_json(struct(all))), d);
      Dataset<Row> missing = df.where(definedTime(d).isNull()).select(SOURCE_ROW).cache();
      count = missing.count();
      for (Row r : missing.limit(3).collectAsList()) {
        examples.add(r.getString(0));
      }
      missing.unpersist();
    } catch (RuntimeException diagnosis) { // the error stays an input error, with less detail
      examples.clear();
    }
    boolean date = d.timeType() == TimeType.DATE;
    String problem =
        "feature view " + d.name() + " has " + (count > 0 ? count + " source row(s)" : "source rows") + " whose event"
            + " time " + column + " is null" + (date ? " as a date" : "") + (k >= 0 ? " after transformations[" + k
            + "]" : "") + (examples.isEmpty() ? "" : ", e.g. " + String.join(", ", examples))
            + "; a row without an event time has no place in time";
    String fix;
    if (k >= 0) {
      fix = "make transformations[" + k + "].expr give a " + (date ? "date for every row (a pattern that matches"
          + " its values)" : "number for every row") + ", or correct the rows or leave them out with a filter";
    } else if (date && text) {
      fix = "parse " + column + " with a transformation in the pattern of its values, e.g. transformations: [{name: "
          + column + ", expr: \"to_date(" + column + ", 'dd/MM/yyyy')\"}], or correct the rows or leave them out"
          + " with a filter";
    } else {
      fix = "correct the rows or leave them out with a filter, e.g. filter: \"" + column + " IS NOT NULL\"";
    }
    InvalidInputException error =
        Errors.invalidDefinition(file, k >= 0 ? "transformations[" + k + "].expr" : "event_time.column", problem, fix);
    error.initCause(cause);
    return error;
  }

  private static Optional<String> messageLine(String message, String prefix) {
    return message.lines().filter(l -> l.startsWith(prefix)).findFirst().map(l -> l.substring(prefix.length()).strip());
  }

  /**
   * The feature rows of {@code d} as of {@code asOf} (for date views: rows whose event time, as the view defines it
   * after its transformations, is after it are left out before any window function or feature sees them; for
   * integer views the whole source is used).
   */
  public static Dataset<Row> compute(SparkSession spark, ViewDefinition d, String warehouseRoot, Optional<LocalDate> asOf) {
    return compute(spark, d, "feature view " + d.name(), warehouseRoot, asOf);
  }

  /** {@link #compute(SparkSession, ViewDefinition, String, Optional)} of the view defined in {@code file}. */
  public static Dataset<Row> compute(
      SparkSession spark, ViewDefinition d, String file, String warehouseRoot, Optional<LocalDate> asOf) {
    return features(readSource(spark, d, file, warehouseRoot), d, asOfCut(d, asOf));
  }

  /** For a date view built as of a date, the cut on its event time (as the view defines it); none otherwise. */
  private static Optional<Column> asOfCut(ViewDefinition d, Optional<LocalDate> asOf) {
    return d.timeType() == TimeType.DATE && asOf.isPresent()
        ? Optional.of(definedTime(d).leq(lit(java.sql.Date.valueOf(asOf.get()))))
        : Optional.empty();
  }

  /**
   * Fails with an input error naming the view, its source and the fix, before anything is written, when a build of
   * {@code d} as of {@code asOf} would have no rows: no source row passing the view's filter has an event time (as
   * the view defines it) at or before {@code asOf} (any row for integer views), e.g. a date before the source starts.
   * Rows without an event time count as rows here: the build itself fails on them with its own error. Reads one row.
   */
  public static void requireRows(
      SparkSession spark, ViewDefinition d, String file, String warehouseRoot, Optional<LocalDate> asOf) {
    // the transformations up to the one that defines the event time are row by row for date views (validation puts
    // every window function of a date view after it), so they cannot make rows appear or vanish
    Dataset<Row> df = throughEventTime(readSource(spark, d, file, warehouseRoot), d);
    Optional<Column> cut = asOfCut(d, asOf);
    Dataset<Row> rows = cut.isPresent() ? df.where(definedTime(d).isNull().or(cut.get())) : df;
    boolean[] empty = new boolean[1];
    explainingMalformedRows(spark, d, file, warehouseRoot, () -> empty[0] = rows.isEmpty());
    if (empty[0]) {
      boolean dated = cut.isPresent();
      throw Errors.emptyPartition(
          "the source of feature view " + d.name() + " (" + sourcePath(d, warehouseRoot) + ")",
          (dated ? d.eventTime() + " up to " + asOf.get() : "any " + d.eventTime())
              + d.filter().map(f -> " passing filter '" + f + "'").orElse(""),
          (dated ? "pick an --as-of date inside the source's history, or land" : "land")
              + " the source data first; nothing was written to features/" + d.name());
    }
  }

  /** The index of the last transformation that (re)defines the event-time column, or -1 when none does. */
  static int eventTimeDefinition(ViewDefinition d) {
    int k = -1;
    for (int i = 0; i < d.transformations().size(); i++) {
      if (d.transformations().get(i).name().equalsIgnoreCase(d.eventTime())) {
        k = i;
      }
    }
    return k;
  }

  /**
   * The view's filter and its transformations up to the one that (re)defines the event-time column (none when no
   * transformation does): from there on the event time is final.
   */
  private static Dataset<Row> throughEventTime(Dataset<Row> source, ViewDefinition d) {
    Dataset<Row> df = d.filter().isPresent() ? source.where(expr(d.filter().get())) : source;
    for (int i = 0; i <= eventTimeDefinition(d); i++) {
      Transformation t = d.transformations().get(i);
      df = df.withColumn(t.name(), expr(t.expr()));
    }
    return df;
  }

  /** The event time as the view defines it, once its column is final: the day of a date view, an integer's value. */
  private static Column definedTime(ViewDefinition d) {
    return d.timeType() == TimeType.DATE ? to_date(col(d.eventTime())) : col(d.eventTime());
  }

  /**
   * How many days before a row its features look: the longest window or lag. An incremental build of days
   * [from, to] reads source rows from {@code from - lookbackDays} on, and nothing older.
   */
  public static int lookbackDays(ViewDefinition d) {
    int days = 0;
    for (Aggregation a : d.aggregations()) {
      for (int w : a.windows()) {
        days = Math.max(days, d.includeCurrent() ? w - 1 : w);
      }
    }
    for (Lag l : d.lags()) {
      for (int p : l.periods()) {
        days = Math.max(days, p);
      }
    }
    return days;
  }

  /**
   * The first transformation of {@code d} that uses a window function, if any: its value on a day depends on source
   * rows outside any lookback, so the view can only be built whole.
   */
  static OptionalInt windowedTransformation(ViewDefinition d) {
    for (int i = 0; i < d.transformations().size(); i++) {
      if (ViewDefinitions.usesWindowFunction(d.transformations().get(i).expr())) {
        return OptionalInt.of(i);
      }
    }
    return OptionalInt.empty();
  }

  /**
   * The feature rows of days {@code from..to} of a date view, reading only the source history they need
   * ({@link #lookbackDays}); identical to the same days of a full build. Refuses views whose transformations use
   * window functions (they would see only part of the source): those are rebuilt whole.
   */
  public static Dataset<Row> computeRange(
      SparkSession spark, ViewDefinition d, String warehouseRoot, LocalDate from, LocalDate to) {
    return computeRange(spark, d, "feature view " + d.name(), warehouseRoot, from, to);
  }

  /** {@link #computeRange(SparkSession, ViewDefinition, String, LocalDate, LocalDate)} of the view in {@code file}. */
  public static Dataset<Row> computeRange(
      SparkSession spark, ViewDefinition d, String file, String warehouseRoot, LocalDate from, LocalDate to) {
    if (d.timeType() != TimeType.DATE) {
      throw Errors.invalidOption("--from/--to", from + ".." + to,
          "feature view " + d.name() + " has an integer event time; build it whole (without --from/--to)");
    }
    OptionalInt windowed = windowedTransformation(d);
    if (windowed.isPresent()) {
      throw Errors.invalidOption("--from/--to", from + ".." + to,
          "transformations[" + windowed.getAsInt() + "] of feature view " + d.name() + " uses a window function over"
              + " the whole source, which an incremental build would cut short; build the view whole (without"
              + " --from/--to)");
    }
    // the transformations are row by row here (no window function): a row's event time is that of its source row,
    // so cutting on it reads exactly the rows whose event time lies in the windows of days from..to
    Column day = definedTime(d);
    Column cut =
        day.geq(lit(java.sql.Date.valueOf(from.minusDays(lookbackDays(d)))))
            .and(day.leq(lit(java.sql.Date.valueOf(to))));
    Column out = col(d.eventTime());
    return features(readSource(spark, d, file, warehouseRoot), d, Optional.of(cut))
        .where(out.geq(lit(java.sql.Date.valueOf(from))).and(out.leq(lit(java.sql.Date.valueOf(to)))));
  }

  /**
   * The filter, the transformations and the features of {@code d} over {@code source}. {@code cut}, a predicate on
   * the event time, is applied as soon as the event time is final (after the last transformation that redefines its
   * column; validation puts every window function of a date view after it), keeping rows without an event time: the
   * event-time column of the output fails the job on those, since dropping them would lose rows silently.
   */
  private static Dataset<Row> features(Dataset<Row> source, ViewDefinition d, Optional<Column> cut) {
    Dataset<Row> df = throughEventTime(source, d);
    if (cut.isPresent()) {
      df = df.where(definedTime(d).isNull().or(cut.get()));
    }
    for (int i = eventTimeDefinition(d) + 1; i < d.transformations().size(); i++) {
      Transformation t = d.transformations().get(i);
      df = df.withColumn(t.name(), expr(t.expr()));
    }
    Column eventTime = definedTime(d);
    // in the output, so never pruned: every row reaching the features must have an event time
    df = df.withColumn(d.eventTime(),
        when(eventTime.isNull(), raise_error(lit(NULL_TIME + d.name() + ": " + d.eventTime() + " is null")))
            .otherwise(eventTime));
    Column time =
        d.timeType() == TimeType.DATE
            ? datediff(col(d.eventTime()), lit(java.sql.Date.valueOf("1970-01-01"))).cast("long")
            : col(d.eventTime()).cast("long");
    df = df.withColumn(TIME, time);
    WindowSpec byEntity =
        Window.partitionBy(d.entities().stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new))
            .orderBy(col(TIME));

    List<Column> out = new ArrayList<>();
    for (String k : d.entities()) {
      out.add(col(k));
    }
    out.add(col(d.eventTime()));
    d.label().ifPresent(l -> out.add(col(l).cast("double").as(l)));
    for (String c : d.columns()) {
      out.add(col(c).cast("double").as(c));
    }
    for (Aggregation a : d.aggregations()) {
      for (int w : a.windows()) {
        WindowSpec frame = d.includeCurrent() ? byEntity.rangeBetween(-(w - 1L), 0L) : byEntity.rangeBetween(-w, -1L);
        for (Function f : a.functions()) {
          out.add(aggregate(f, a.column()).over(frame).cast("double").as(ViewDefinition.aggregationName(a.column(), f, w)));
        }
      }
    }
    for (Lag l : d.lags()) {
      for (int p : l.periods()) {
        out.add(first(col(l.column())).over(byEntity.rangeBetween(-p, -p)).cast("double").as(l.column() + "_lag_" + p));
      }
    }
    for (CalendarPart c : d.calendar()) {
      out.add(calendar(c, col(d.eventTime())).cast("double").as(c.name().toLowerCase(Locale.ROOT)));
    }
    return df.select(out.toArray(Column[]::new));
  }

  private static Column aggregate(Function f, String column) {
    Column c = col(column);
    switch (f) {
      case SUM:
        return sum(c);
      case MEAN:
        return avg(c);
      case MIN:
        return min(c);
      case MAX:
        return max(c);
      case STD:
        return stddev_samp(c);
      case COUNT:
        return count(c);
      case LAST:
        return last(c, true);
      default:
        throw new IllegalArgumentException("Unknown aggregation " + f);
    }
  }

  private static Column calendar(CalendarPart part, Column date) {
    switch (part) {
      case DAY_OF_WEEK:
        return pmod(dayofweek(date).plus(5), lit(7)).plus(1); // ISO: Monday 1 ... Sunday 7
      case DAY_OF_MONTH:
        return dayofmonth(date);
      case DAY_OF_YEAR:
        return dayofyear(date);
      case WEEK_OF_YEAR:
        return weekofyear(date);
      case MONTH:
        return month(date);
      case QUARTER:
        return quarter(date);
      case YEAR:
        return year(date);
      case IS_WEEKEND:
        return when(dayofweek(date).isin(1, 7), 1.0).otherwise(0.0);
      case IS_MONTH_END:
        return when(last_day(date).equalTo(date), 1.0).otherwise(0.0);
      default:
        throw new IllegalArgumentException("Unknown calendar part " + part);
    }
  }

  private static boolean exists(SparkSession spark, String path) {
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
      return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p);
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
