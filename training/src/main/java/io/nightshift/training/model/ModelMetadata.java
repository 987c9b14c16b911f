package io.nightshift.training.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.nightshift.core.NightshiftException;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * What scoring needs to know about a model besides its booster, stored as {@code nightshift.json} in the model
 * directory: the feature contract, the data it was trained on, its validation metrics, and the baseline profiles
 * of its training features and validation predictions ({@code "prediction"}) that monitoring compares nights with.
 * Windows are dates (null for integer event times); {@code validationSplit} describes a held-out entity split (null
 * when validation is the last days).
 */
public record ModelMetadata(
    String modelName,
    String useCase,
    String task,
    String featureView,
    List<String> keys,
    String dateColumn,
    String labelColumn,
    List<String> features,
    String asOf,
    String featureTablePath,
    long featureTableVersion,
    String trainStart,
    String trainEnd,
    String validationStart,
    String validationEnd,
    double residualStd,
    Map<String, Double> metrics,
    Map<String, FeatureProfile> baseline,
    String validationSplit) {
  /** Metadata of a model validated on its last days (no held-out entity split). */
  public ModelMetadata(
      String modelName, String useCase, String task, String featureView, List<String> keys, String dateColumn,
      String labelColumn, List<String> features, String asOf, String featureTablePath, long featureTableVersion,
      String trainStart, String trainEnd, String validationStart, String validationEnd, double residualStd,
      Map<String, Double> metrics, Map<String, FeatureProfile> baseline) {
    this(modelName, useCase, task, featureView, keys, dateColumn, labelColumn, features, asOf, featureTablePath,
        featureTableVersion, trainStart, trainEnd, validationStart, validationEnd, residualStd, metrics, baseline, null);
  }

  public static final String FILE = "nightshift.json";
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public byte[] toJson() {
    try {
      return MAPPER.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new NightshiftException("Cannot serialize model metadata: " + e.getMessage(), e);
    }
  }

  public static ModelMetadata fromJson(byte[] json, String where) {
    try {
      return MAPPER.readValue(json, ModelMetadata.class);
    } catch (IOException e) {
      throw new NightshiftException(
          "Cannot read " + FILE + " of " + where + ": " + e.getMessage()
              + ". The model was not registered by Nightshift; register it with 'nightshift train'.",
          e);
    }
  }
}
