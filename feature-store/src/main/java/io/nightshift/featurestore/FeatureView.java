package io.nightshift.featurestore;

import static java.util.Objects.requireNonNull;

import io.nightshift.core.UseCase;
import java.io.Serializable;
import java.util.List;

/**
 * A materialized feature table's contract: its entity keys, its date column, the label it carries for training, its
 * feature columns (all doubles; null means missing), and which of them monitoring watches for drift (calendar,
 * identifier and ever-growing columns shift by construction and are left out).
 */
public record FeatureView(
    String name,
    UseCase useCase,
    List<String> keys,
    String dateColumn,
    String labelColumn,
    List<String> features,
    List<String> driftMonitored)
    implements Serializable {
  public FeatureView {
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
}
