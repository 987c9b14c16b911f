package io.nightshift.featurestore.pit;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * One feature table of a {@link PointInTimeJoin}: its rows keyed by entity and event time, the feature columns to
 * take, and how to name and age them. Immutable; the {@code with...} methods return a modified copy.
 *
 * <ul>
 *   <li>{@code name}: used in error messages only;
 *   <li>{@code eventTime}: a date or timestamp column, the time from which a row's values are known;
 *   <li>{@code features}: the columns to take, written to the output as {@code prefix + column};
 *   <li>{@code keyMapping}: spine key column to this table's column, for keys that are named differently here
 *       (unmapped keys must have the spine's name); the types must be equal;
 *   <li>{@code maxStaleness}: when set, a row older than {@code spine time - maxStaleness} is not used;
 *   <li>{@code tiebreak}: a column that orders rows with the same keys and event time (the largest wins). Without
 *       one, rows sharing keys and event time are ambiguous and the join fails when a spine row would take one.
 * </ul>
 */
public final class FeatureTable {
  private final String name;
  private final Dataset<Row> data;
  private final String eventTime;
  private final List<String> features;
  private final String prefix;
  private final Map<String, String> keyMapping;
  private final Duration maxStaleness;
  private final String tiebreak;

  private FeatureTable(
      String name,
      Dataset<Row> data,
      String eventTime,
      List<String> features,
      String prefix,
      Map<String, String> keyMapping,
      Duration maxStaleness,
      String tiebreak) {
    this.name = name;
    this.data = data;
    this.eventTime = eventTime;
    this.features = features;
    this.prefix = prefix;
    this.keyMapping = keyMapping;
    this.maxStaleness = maxStaleness;
    this.tiebreak = tiebreak;
  }

  /** A feature table taking {@code features} as they are named, keyed by the spine's key names. */
  public static FeatureTable of(String name, Dataset<Row> data, String eventTime, List<String> features) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("Feature table name must not be blank");
    }
    Objects.requireNonNull(data, "data of feature table '" + name + "'");
    Objects.requireNonNull(eventTime, "event time column of feature table '" + name + "'");
    Objects.requireNonNull(features, "features of feature table '" + name + "'");
    if (features.isEmpty()) {
      throw new IllegalArgumentException("Point-in-time join, feature table '" + name + "': list at least one feature column");
    }
    return new FeatureTable(name, data, eventTime, List.copyOf(features), "", Map.of(), null, null);
  }

  /** Output columns are named {@code prefix + feature}. */
  public FeatureTable withPrefix(String prefix) {
    return new FeatureTable(name, data, eventTime, features, Objects.requireNonNull(prefix), keyMapping, maxStaleness, tiebreak);
  }

  /** Spine key name to this table's column name, for keys named differently here. */
  public FeatureTable withKeyMapping(Map<String, String> spineKeyToColumn) {
    return new FeatureTable(
        name, data, eventTime, features, prefix, Map.copyOf(new LinkedHashMap<>(spineKeyToColumn)), maxStaleness, tiebreak);
  }

  /** Rows older than {@code spine time - staleness} are not used (the features are null). */
  public FeatureTable withMaxStaleness(Duration staleness) {
    if (staleness == null || staleness.isNegative()) {
      throw new IllegalArgumentException("Point-in-time join, feature table '" + name + "': max staleness must be zero or positive, got " + staleness);
    }
    return new FeatureTable(name, data, eventTime, features, prefix, keyMapping, staleness, tiebreak);
  }

  /** Same as {@link #withMaxStaleness(Duration)} in whole days. */
  public FeatureTable withMaxStalenessDays(long days) {
    return withMaxStaleness(Duration.ofDays(days));
  }

  /** Among rows with the same keys and event time, the one with the largest {@code column} value wins. */
  public FeatureTable withTiebreak(String column) {
    return new FeatureTable(name, data, eventTime, features, prefix, keyMapping, maxStaleness, Objects.requireNonNull(column));
  }

  public String name() {
    return name;
  }

  public Dataset<Row> data() {
    return data;
  }

  public String eventTime() {
    return eventTime;
  }

  public List<String> features() {
    return features;
  }

  public String prefix() {
    return prefix;
  }

  public Map<String, String> keyMapping() {
    return keyMapping;
  }

  public Optional<Duration> maxStaleness() {
    return Optional.ofNullable(maxStaleness);
  }

  public Optional<String> tiebreak() {
    return Optional.ofNullable(tiebreak);
  }

  /** This table's column for spine key {@code spineKey}. */
  String column(String spineKey) {
    return keyMapping.getOrDefault(spineKey, spineKey);
  }

  /** The output column name of {@code feature}. */
  String outputName(String feature) {
    return prefix + feature;
  }
}
