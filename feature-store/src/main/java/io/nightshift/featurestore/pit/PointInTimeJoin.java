package io.nightshift.featurestore.pit;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lag;
import static org.apache.spark.sql.functions.last;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.unix_date;
import static org.apache.spark.sql.functions.unix_micros;
import static org.apache.spark.sql.functions.when;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Point-in-time correct (as-of) join of a spine, e.g. labelled training examples, with feature tables.
 *
 * <p>Semantics, per spine row and feature table:
 *
 * <ul>
 *   <li>the features come from the <b>latest row of the same entity whose event time is at or before the spine
 *       time</b> ({@code <=}); a row strictly after the spine time is never used, so nothing leaks from the future;
 *   <li>the row is taken as a whole: a null value in that latest row stays null and never falls back to an older
 *       row;
 *   <li>with a max staleness, a latest row older than {@code spine time - staleness} is not used: the features are
 *       null (an older row would be staler still);
 *   <li>spine rows without a match keep null features (left join), spine rows with a null key or time too; feature
 *       rows with a null key or event time are ignored;
 *   <li>the spine's columns and rows are kept unchanged, duplicates included: the output has exactly one row per
 *       spine row, in no particular order;
 *   <li>ties: rows of one table with the same keys and event time are ordered by the table's tiebreak column (the
 *       largest wins); rows that still tie are ambiguous and the job fails with an error naming the table when a
 *       spine row would take one of them (deduplicate exact copies first, e.g. with {@code dropDuplicates});
 *   <li>dates and timestamps mix: if both sides are dates they compare as days (staleness must then be whole
 *       days), otherwise both are cast to timestamps (a date is midnight in the session time zone) and compared
 *       to the microsecond.
 * </ul>
 *
 * <p>Implementation, per feature table: spine rows and feature rows are unioned into one frame tagged by source,
 * with the features in one struct that is null on spine rows; a window partitioned by the entity keys and ordered
 * by (time, source: feature rows before spine rows at equal time, tiebreak) carries {@code last(struct, ignoreNulls)}
 * over {@code rowsBetween(unboundedPreceding, currentRow)} to every spine row; then only spine rows are kept. That
 * is one shuffle and one sort per table, linear in spine + feature rows, instead of a join that pairs every spine
 * row with every earlier row of its entity.
 */
public final class PointInTimeJoin {
  static final String RESERVED_PREFIX = "__pit_";
  private static final String T = "__pit_t";
  private static final String SRC = "__pit_src";
  private static final String TB = "__pit_tb";
  private static final String F = "__pit_f";
  private static final String DUP = "__pit_dup";
  private static final String PICK = "__pit_pick";
  private static final int FEATURE_ROW = 0;
  private static final int SPINE_ROW = 1;

  private final Dataset<Row> spine;
  private final List<String> keys;
  private final String spineTime;
  private final List<FeatureTable> tables = new ArrayList<>();
  private int partitions;

  private PointInTimeJoin(Dataset<Row> spine, List<String> keys, String spineTime) {
    this.spine = spine;
    this.keys = keys;
    this.spineTime = spineTime;
  }

  /** Starts a join of {@code spine} on entity columns {@code keys} as of its column {@code time}. */
  public static PointInTimeJoin spine(Dataset<Row> spine, List<String> keys, String time) {
    Objects.requireNonNull(spine, "spine");
    if (keys == null || keys.isEmpty()) {
      throw new IllegalArgumentException("Point-in-time join: list at least one entity key column of the spine");
    }
    return new PointInTimeJoin(spine, List.copyOf(keys), Objects.requireNonNull(time, "spine time column"));
  }

  /** The spine joined with {@code tables}, in order. */
  public static Dataset<Row> join(Dataset<Row> spine, List<String> keys, String time, List<FeatureTable> tables) {
    PointInTimeJoin j = spine(spine, keys, time);
    tables.forEach(j::with);
    return j.result();
  }

  /** Adds a feature table; its output columns follow those of the tables added before. */
  public PointInTimeJoin with(FeatureTable table) {
    tables.add(Objects.requireNonNull(table, "feature table"));
    return this;
  }

  /** Repartitions each union frame into {@code n} partitions by the entity keys (default: the shuffle setting). */
  public PointInTimeJoin partitions(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("Point-in-time join: partitions must be at least 1, got " + n);
    }
    this.partitions = n;
    return this;
  }

  /** The spine's columns followed by each table's output feature columns; one row per spine row. */
  public Dataset<Row> result() {
    if (tables.isEmpty()) {
      throw new IllegalArgumentException("Point-in-time join: add at least one feature table");
    }
    StructType schema = spine.schema();
    Set<String> spineCols = new HashSet<>(Arrays.asList(schema.fieldNames()));
    for (String c : schema.fieldNames()) {
      if (c.startsWith(RESERVED_PREFIX)) {
        throw new IllegalArgumentException(
            "Point-in-time join: spine column '" + c + "' uses the reserved prefix '" + RESERVED_PREFIX + "'; rename it");
      }
    }
    for (String k : keys) {
      if (!spineCols.contains(k)) {
        throw new IllegalArgumentException(
            "Point-in-time join: spine has no key column '" + k + "' (columns: " + String.join(", ", schema.fieldNames()) + ")");
      }
    }
    if (!spineCols.contains(spineTime)) {
      throw new IllegalArgumentException(
          "Point-in-time join: spine has no time column '" + spineTime + "' (columns: " + String.join(", ", schema.fieldNames()) + ")");
    }
    DataType spineTimeType = timeType("spine", spineTime, schema);
    Map<String, String> outputs = new HashMap<>();
    for (String c : schema.fieldNames()) {
      outputs.put(c.toLowerCase(Locale.ROOT), "the spine");
    }
    for (FeatureTable t : tables) {
      validate(t, schema, outputs);
    }
    Dataset<Row> out = spine;
    for (FeatureTable t : tables) {
      out = joinOne(out, spineTimeType, t);
    }
    return out;
  }

  private void validate(FeatureTable t, StructType spineSchema, Map<String, String> outputs) {
    StructType schema = t.data().schema();
    Set<String> cols = new HashSet<>(Arrays.asList(schema.fieldNames()));
    String where = "Point-in-time join, feature table '" + t.name() + "': ";
    String available = " (columns: " + String.join(", ", schema.fieldNames()) + ")";
    for (String mapped : t.keyMapping().keySet()) {
      if (!keys.contains(mapped)) {
        throw new IllegalArgumentException(where + "key mapping names '" + mapped + "', which is not a spine key " + keys);
      }
    }
    for (String k : keys) {
      String c = t.column(k);
      if (!cols.contains(c)) {
        throw new IllegalArgumentException(where + "no key column '" + c + "' for spine key '" + k + "'" + available);
      }
      DataType mine = schema.apply(c).dataType();
      DataType theirs = spineSchema.apply(k).dataType();
      if (!mine.equals(theirs)) {
        throw new IllegalArgumentException(
            where + "key column '" + c + "' has type " + mine.simpleString() + " but spine key '" + k + "' has type "
                + theirs.simpleString() + "; cast one of them");
      }
    }
    if (!cols.contains(t.eventTime())) {
      throw new IllegalArgumentException(where + "no event time column '" + t.eventTime() + "'" + available);
    }
    timeType("feature table '" + t.name() + "'", t.eventTime(), schema);
    if (t.tiebreak().isPresent() && !cols.contains(t.tiebreak().get())) {
      throw new IllegalArgumentException(where + "no tiebreak column '" + t.tiebreak().get() + "'" + available);
    }
    for (String f : t.features()) {
      if (!cols.contains(f)) {
        throw new IllegalArgumentException(where + "no feature column '" + f + "'" + available);
      }
      String out = t.outputName(f);
      if (out.startsWith(RESERVED_PREFIX)) {
        throw new IllegalArgumentException(where + "output column '" + out + "' uses the reserved prefix '" + RESERVED_PREFIX + "'");
      }
      String clash = outputs.putIfAbsent(out.toLowerCase(Locale.ROOT), "feature table '" + t.name() + "'");
      if (clash != null) {
        throw new IllegalArgumentException(
            where + "output column '" + out + "' (feature '" + f + "') clashes with a column of " + clash
                + "; set a prefix with withPrefix(...)");
      }
    }
    if (t.maxStaleness().isPresent() && bothDates(spineSchema.apply(spineTime).dataType(), schema.apply(t.eventTime()).dataType())) {
      Duration s = t.maxStaleness().get();
      if (!s.equals(Duration.ofDays(s.toDays()))) {
        throw new IllegalArgumentException(
            where + "max staleness " + s + " is not whole days, but the spine time '" + spineTime + "' and event time '"
                + t.eventTime() + "' are dates");
      }
    }
  }

  private Dataset<Row> joinOne(Dataset<Row> left, DataType spineTimeType, FeatureTable t) {
    StructType leftSchema = left.schema();
    StructType tableSchema = t.data().schema();
    DataType eventType = tableSchema.apply(t.eventTime()).dataType();
    boolean days = bothDates(spineTimeType, eventType);
    String tb = t.tiebreak().orElse(null);
    List<String> features = t.features();

    // Feature side: the spine's columns (keys from the table, the rest null), the time, source, tiebreak and the
    // features as one struct.
    List<Column> featureSide = new ArrayList<>();
    Column notNull = named(t.eventTime()).isNotNull();
    for (StructField f : leftSchema.fields()) {
      if (keys.contains(f.name())) {
        featureSide.add(named(t.column(f.name())).as(f.name()));
        notNull = notNull.and(named(t.column(f.name())).isNotNull());
      } else {
        featureSide.add(lit(null).cast(f.dataType()).as(f.name()));
      }
    }
    featureSide.add(time(named(t.eventTime()), eventType, days).as(T));
    featureSide.add(lit(FEATURE_ROW).as(SRC));
    if (tb != null) {
      featureSide.add(named(tb).as(TB));
    }
    List<Column> values = new ArrayList<>();
    for (int i = 0; i < features.size(); i++) {
      values.add(named(features.get(i)).as("v" + i));
    }
    featureSide.add(struct(values.toArray(new Column[0])).as(F));
    Dataset<Row> featureRows = t.data().where(notNull).select(featureSide.toArray(new Column[0]));
    StructType valuesType = (StructType) featureRows.schema().apply(F).dataType();

    List<Column> spineSide = new ArrayList<>();
    for (String c : leftSchema.fieldNames()) {
      spineSide.add(named(c));
    }
    spineSide.add(time(named(spineTime), spineTimeType, days).as(T));
    spineSide.add(lit(SPINE_ROW).as(SRC));
    if (tb != null) {
      spineSide.add(lit(null).cast(tableSchema.apply(tb).dataType()).as(TB));
    }
    spineSide.add(lit(null).cast(valuesType).as(F));

    Dataset<Row> union = left.select(spineSide.toArray(new Column[0])).union(featureRows);
    Column[] keyCols = keys.stream().map(PointInTimeJoin::named).toArray(Column[]::new);
    if (partitions > 0) {
      union = union.repartition(partitions, keyCols);
    }
    List<Column> order = new ArrayList<>(List.of(col(T).asc_nulls_first(), col(SRC).asc()));
    if (tb != null) {
      order.add(col(TB).asc_nulls_first());
    }
    WindowSpec w = Window.partitionBy(keyCols).orderBy(order.toArray(new Column[0]));

    // A feature row that ties with the row before it (same keys, time and tiebreak) is the last of a tie group.
    // At equal time feature rows sort before spine rows, so that row before it is a feature row too.
    Column tie = col(SRC).equalTo(FEATURE_ROW).and(lag(col(T), 1).over(w).equalTo(col(T)));
    if (tb != null) {
      tie = tie.and(lag(col(TB), 1).over(w).eqNullSafe(col(TB)));
    }
    Column picked = when(col(SRC).equalTo(FEATURE_ROW), struct(col(T).as("t"), col(DUP).as("dup"), col(F).as("f")));
    Dataset<Row> carried = union
        .withColumn(DUP, coalesce(tie, lit(false)))
        .withColumn(PICK, last(picked, true).over(w.rowsBetween(Window.unboundedPreceding(), Window.currentRow())))
        .where(col(SRC).equalTo(SPINE_ROW));

    Column unusable = col(PICK).isNull();
    if (t.maxStaleness().isPresent()) {
      long limit = days ? t.maxStaleness().get().toDays() : micros(t.maxStaleness().get());
      unusable = unusable.or(col(PICK + ".t").lt(col(T).minus(lit(limit))));
    }
    String message = "Point-in-time join, feature table '" + t.name() + "': several rows have the same keys " + keys
        + " and event time '" + t.eventTime() + "'" + (tb == null ? "" : " and tiebreak '" + tb + "'")
        + "; deduplicate the table or declare a tiebreak column with withTiebreak(...)";
    List<Column> result = new ArrayList<>();
    for (String c : leftSchema.fieldNames()) {
      result.add(named(c));
    }
    for (int i = 0; i < features.size(); i++) {
      DataType type = valuesType.fields()[i].dataType();
      result.add(
          when(unusable, lit(null).cast(type))
              .when(col(PICK + ".dup"), raise_error(lit(message)).cast(type))
              .otherwise(col(PICK + ".f.v" + i))
              .as(t.outputName(features.get(i))));
    }
    return carried.select(result.toArray(new Column[0]));
  }

  /** A column by its exact name, even one with dots or backticks in it. */
  private static Column named(String name) {
    return col("`" + name.replace("`", "``") + "`");
  }

  private static Column time(Column c, DataType type, boolean days) {
    return days ? unix_date(c) : unix_micros(type.equals(DataTypes.TimestampType) ? c : c.cast(DataTypes.TimestampType));
  }

  private static boolean bothDates(DataType a, DataType b) {
    return a.equals(DataTypes.DateType) && b.equals(DataTypes.DateType);
  }

  private static long micros(Duration d) {
    return Math.addExact(Math.multiplyExact(d.getSeconds(), 1_000_000L), d.getNano() / 1_000L);
  }

  private static DataType timeType(String what, String column, StructType schema) {
    DataType type = schema.apply(column).dataType();
    if (!type.equals(DataTypes.DateType) && !type.equals(DataTypes.TimestampType) && !type.equals(DataTypes.TimestampNTZType)) {
      throw new IllegalArgumentException(
          "Point-in-time join, " + what + ": time column '" + column + "' has type " + type.simpleString()
              + "; it must be a date or timestamp");
    }
    return type;
  }
}
