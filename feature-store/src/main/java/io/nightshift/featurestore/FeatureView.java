package io.nightshift.featurestore;

import static java.util.Objects.requireNonNull;

import io.nightshift.core.UseCase;
import io.nightshift.featurestore.quality.Expectation;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import java.io.Serializable;
import java.util.List;

/**
 * A materialized feature table's contract: its entity keys, its date column, the label it carries for training, its
 * feature columns (all doubles; null means missing), and which of them monitoring watches for drift (calendar,
 * identifier and ever-growing columns shift by construction and are left out).
 *
 * @param dateColumn the event-time column: a date, or an integer step (e.g. an engine cycle) when {@code timeType}
 *     is {@link TimeType#INTEGER}
 * @param table the Delta table's path relative to the warehouse
 * @param expectations the data-quality expectations declared with the view (YAML views; the built-in views' are in
 *     {@link io.nightshift.featurestore.quality.QualityGate#declared})
 */
public record FeatureView(
    String name,
    UseCase useCase,
    List<String> keys,
    String dateColumn,
    String labelColumn,
    List<String> features,
    List<String> driftMonitored,
    String table,
    TimeType timeType,
    List<Expectation> expectations)
    implements Serializable {
  /** A built-in view with a date event time whose table path is its name ({@code features/demand_daily}). */
  public FeatureView(
      String name, UseCase useCase, List<String> keys, String dateColumn, String labelColumn, List<String> features,
      List<String> driftMonitored) {
    this(name, useCase, keys, dateColumn, labelColumn, features, driftMonitored, name, TimeType.DATE, List.of());
  }

  public FeatureView {
    requireNonNull(table, "table is null");
    requireNonNull(timeType, "timeType is null");
    expectations = List.copyOf(expectations);
    requireNonNull(name, "name is null");
    requireNonNull(useCase, "useCase is null");
    keys = List.copyOf(keys);
    requireNonNull(dateColumn, "dateColumn is null");
    requireNonNull(labelColumn, "labelColumn is null");
    features = List.copyOf(features);
    driftMonitored = List.copyOf(driftMonitored);
    if (!features.containsAll(driftMonitored)) {
      throw new IllegalArgumentException("Feature view " + name + ": drift-monitored columns must be features");
    }
  }

  /** Whether event time is a calendar date (days), as opposed to integer steps. */
  public boolean datedEvents() {
    return timeType == TimeType.DATE;
  }

  /** The same view keeping only {@code selected} of its features (in their order). */
  public FeatureView withFeatures(List<String> selected) {
    return new FeatureView(name, useCase, keys, dateColumn, labelColumn, selected,
        driftMonitored.stream().filter(selected::contains).toList(), table, timeType, expectations);
  }
}
