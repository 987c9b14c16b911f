package io.nightshift.featurestore.views;

import static java.util.Objects.requireNonNull;

import io.nightshift.core.UseCase;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.quality.Expectation;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A feature view declared in configuration ({@code conf/features/*.yaml}) or with {@link #builder(String)}: where
 * its rows come from, its entity keys and event time, the Spark SQL transformations applied to the source rows,
 * and the features computed per entity over event time (windowed aggregations, lags, calendar parts, plain
 * columns). {@link ViewDefinitions} parses and validates it; {@link ViewMaterializer} computes it.
 *
 * <p>Windows and lags are counted in event-time units: days for a {@code date} event time, steps (e.g. engine
 * cycles) for an {@code integer} one. A window of {@code w} covers the {@code w} units before the row's time
 * (the row itself only with {@code include_current: true}), so by default no feature sees its own row's values;
 * validation refuses {@code include_current} for an aggregation of the label or of a transformation computed from it.
 */
public record ViewDefinition(
    String name,
    String description,
    String owner,
    List<String> entities,
    String eventTime,
    TimeType timeType,
    Source source,
    Optional<String> filter,
    List<Transformation> transformations,
    Optional<String> label,
    List<String> columns,
    List<Aggregation> aggregations,
    List<Lag> lags,
    List<CalendarPart> calendar,
    boolean includeCurrent,
    List<Expectation> expectations)
    implements Serializable {

  /** A definition without declared expectations (the quality gate then checks keys and event time only). */
  public ViewDefinition(
      String name, String description, String owner, List<String> entities, String eventTime, TimeType timeType,
      Source source, Optional<String> filter, List<Transformation> transformations, Optional<String> label,
      List<String> columns, List<Aggregation> aggregations, List<Lag> lags, List<CalendarPart> calendar,
      boolean includeCurrent) {
    this(name, description, owner, entities, eventTime, timeType, source, filter, transformations, label, columns,
        aggregations, lags, calendar, includeCurrent, List.of());
  }

  public ViewDefinition {
    requireNonNull(name, "name");
    description = description == null ? "" : description;
    owner = owner == null ? "" : owner;
    entities = List.copyOf(entities);
    requireNonNull(eventTime, "eventTime");
    requireNonNull(timeType, "timeType");
    requireNonNull(source, "source");
    requireNonNull(filter, "filter");
    transformations = List.copyOf(transformations);
    requireNonNull(label, "label");
    columns = List.copyOf(columns);
    aggregations = List.copyOf(aggregations);
    lags = List.copyOf(lags);
    calendar = List.copyOf(calendar);
    expectations = List.copyOf(expectations);
  }

  /**
   * The contract a model trains on: the entities as keys, the event time, the label (required) and every feature,
   * stored at {@code features/NAME}. Calendar parts are left out of drift monitoring (they shift by construction).
   *
   * @param useCase the business problem the model serves
   */
  public FeatureView asFeatureView(UseCase useCase, String file) {
    if (label.isEmpty()) {
      throw io.nightshift.core.Errors.invalidDefinition(file, "label", "is missing, so the view cannot train a model",
          "add label: COLUMN (a source column or a transformation) to the view");
    }
    List<String> features = featureNames();
    List<String> calendarNames = calendar.stream().map(c -> c.name().toLowerCase(java.util.Locale.ROOT)).toList();
    return new FeatureView(name, useCase, entities, eventTime, label.get(), features,
        features.stream().filter(f -> !calendarNames.contains(f)).toList(), "features/" + name, timeType,
        expectations);
  }

  /** How event time is counted. */
  public enum TimeType {
    DATE,
    INTEGER
  }

  /** Source data formats. */
  public enum Format {
    DELTA,
    PARQUET,
    CSV
  }

  /** Aggregation functions over a window. */
  public enum Function {
    SUM,
    MEAN,
    MIN,
    MAX,
    STD,
    COUNT,
    LAST
  }

  /** Calendar parts of a date event time. */
  public enum CalendarPart {
    DAY_OF_WEEK,
    DAY_OF_MONTH,
    DAY_OF_YEAR,
    WEEK_OF_YEAR,
    MONTH,
    QUARTER,
    YEAR,
    IS_WEEKEND,
    IS_MONTH_END
  }

  /**
   * Where the rows come from. {@code path} is absolute, a URI, or relative to the warehouse root; {@code columns}
   * (ordered name to Spark SQL type) is the schema: required for CSV, whose files' headers must name the columns in
   * this order; checked against Delta/Parquet sources, names and types (one numeric type stands for another).
   */
  public record Source(Format format, String path, Map<String, String> options, Map<String, String> columns)
      implements Serializable {
    public Source {
      requireNonNull(format, "format");
      requireNonNull(path, "path");
      options = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(options));
      columns = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
    }
  }

  /** A derived column: {@code name} = Spark SQL expression (window functions allowed), in declaration order. */
  public record Transformation(String name, String expr) implements Serializable {}

  /** {@code functions} of {@code column} over each of {@code windows}: features {@code column_function_window}. */
  public record Aggregation(String column, List<Function> functions, List<Integer> windows) implements Serializable {
    public Aggregation {
      functions = List.copyOf(functions);
      windows = List.copyOf(windows);
    }
  }

  /** {@code column} exactly {@code period} units earlier (null when that row is missing): {@code column_lag_period}. */
  public record Lag(String column, List<Integer> periods) implements Serializable {
    public Lag {
      periods = List.copyOf(periods);
    }
  }

  /** The output feature columns, in order (all doubles). */
  public List<String> featureNames() {
    List<String> out = new ArrayList<>(columns);
    for (Aggregation a : aggregations) {
      for (int w : a.windows()) {
        for (Function f : a.functions()) {
          out.add(aggregationName(a.column(), f, w));
        }
      }
    }
    for (Lag l : lags) {
      for (int p : l.periods()) {
        out.add(l.column() + "_lag_" + p);
      }
    }
    for (CalendarPart c : calendar) {
      out.add(c.name().toLowerCase(java.util.Locale.ROOT));
    }
    return out;
  }

  static String aggregationName(String column, Function f, int window) {
    return column + "_" + f.name().toLowerCase(java.util.Locale.ROOT) + "_" + window;
  }

  /** A builder for views declared in Java; {@link Builder#build()} validates like a YAML file. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Collects a definition; validation happens in {@link #build()}. */
  public static final class Builder {
    private final String name;
    private String description = "";
    private String owner = "";
    private List<String> entities = List.of();
    private String eventTime;
    private TimeType timeType = TimeType.DATE;
    private Source source;
    private String filter;
    private final List<Transformation> transformations = new ArrayList<>();
    private String label;
    private final List<String> columns = new ArrayList<>();
    private final List<Aggregation> aggregations = new ArrayList<>();
    private final List<Lag> lags = new ArrayList<>();
    private final List<CalendarPart> calendar = new ArrayList<>();
    private boolean includeCurrent;
    private final List<Expectation> expectations = new ArrayList<>();

    private Builder(String name) {
      this.name = name;
    }

    public Builder description(String d) {
      this.description = d;
      return this;
    }

    public Builder owner(String o) {
      this.owner = o;
      return this;
    }

    public Builder entities(String... keys) {
      this.entities = List.of(keys);
      return this;
    }

    public Builder eventTime(String column, TimeType type) {
      this.eventTime = column;
      this.timeType = type;
      return this;
    }

    public Builder source(Format format, String path, Map<String, String> options, Map<String, String> columns) {
      this.source = new Source(format, path, options, columns);
      return this;
    }

    public Builder filter(String sqlPredicate) {
      this.filter = sqlPredicate;
      return this;
    }

    public Builder transform(String column, String sqlExpression) {
      transformations.add(new Transformation(column, sqlExpression));
      return this;
    }

    public Builder label(String column) {
      this.label = column;
      return this;
    }

    public Builder columns(String... names) {
      columns.addAll(List.of(names));
      return this;
    }

    public Builder aggregate(String column, List<Function> functions, List<Integer> windows) {
      aggregations.add(new Aggregation(column, functions, windows));
      return this;
    }

    public Builder lag(String column, Integer... periods) {
      lags.add(new Lag(column, List.of(periods)));
      return this;
    }

    public Builder calendar(CalendarPart... parts) {
      calendar.addAll(List.of(parts));
      return this;
    }

    public Builder includeCurrent(boolean include) {
      this.includeCurrent = include;
      return this;
    }

    /** Declares data-quality expectations checked by the quality gate before training. */
    public Builder expect(Expectation... e) {
      expectations.addAll(List.of(e));
      return this;
    }

    public ViewDefinition build() {
      if (source == null) {
        throw io.nightshift.core.Errors.invalidDefinition(
            "feature view " + name, "source", "is missing", "call source(format, path, options, columns)");
      }
      if (eventTime == null) {
        throw io.nightshift.core.Errors.invalidDefinition(
            "feature view " + name, "event_time", "is missing", "call eventTime(column, type)");
      }
      ViewDefinition d =
          new ViewDefinition(name, description, owner, entities, eventTime, timeType, source,
              Optional.ofNullable(filter), transformations, Optional.ofNullable(label), columns, aggregations, lags,
              calendar, includeCurrent, expectations);
      ViewDefinitions.validate(d, "feature view " + name);
      return d;
    }
  }
}
