package io.nightshift.training.predict;

import io.nightshift.core.NightshiftException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Scores a partition with the native booster in batches: rows are copied into one dense float buffer and predicted
 * with a single {@code inplace_predict} call per batch, so there is no per-row native call and no DMatrix per row.
 *
 * <p>Input rows: {@code passThrough} columns first, then the {@code numFeatures} feature values (doubles, null or NaN
 * for missing). Output rows: the pass-through columns followed by the prediction. With contributions on, also the
 * raw margin, the bias, and the top feature contributions (SHAP values, XGBoost's {@code pred_contribs}; the
 * contributions of all features plus the bias sum to the margin).
 */
public final class NativePredictor implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  static final int BATCH_ROWS = 8192;

  /** One feature's SHAP contribution. */
  public static final StructType CONTRIBUTION =
      new StructType().add("feature", DataTypes.StringType).add("contribution", DataTypes.DoubleType);

  private final Broadcast<byte[]> model;
  private final int passThrough;
  private final int numFeatures;
  private final String[] featureNames;
  private final int topK;

  /**
   * Predicts {@code booster} on {@code input}: its first {@code passThrough} columns are kept, the next
   * {@code numFeatures} are the features in the booster's order; a double column {@code prediction} is appended.
   */
  public static Dataset<Row> predict(Dataset<Row> input, int passThrough, int numFeatures, byte[] booster) {
    return run(input, passThrough, numFeatures, booster, null, 0);
  }

  /**
   * As {@link #predict}, plus {@code margin}, {@code bias} and {@code contributions}: the {@code topK} features with
   * the largest absolute SHAP value, largest first.
   */
  public static Dataset<Row> predictWithContributions(
      Dataset<Row> input, int passThrough, List<String> features, byte[] booster, int topK) {
    return run(input, passThrough, features.size(), booster, features.toArray(new String[0]), topK);
  }

  private static Dataset<Row> run(
      Dataset<Row> input, int passThrough, int numFeatures, byte[] booster, String[] names, int topK) {
    StructType schema = new StructType();
    for (int i = 0; i < passThrough; i++) {
      schema = schema.add(input.schema().fields()[i]);
    }
    schema = schema.add("prediction", DataTypes.DoubleType);
    if (names != null) {
      schema =
          schema
              .add("margin", DataTypes.DoubleType)
              .add("bias", DataTypes.DoubleType)
              .add("contributions", DataTypes.createArrayType(CONTRIBUTION));
    }
    Broadcast<byte[]> model =
        JavaSparkContext.fromSparkContext(input.sparkSession().sparkContext()).broadcast(booster);
    return input.mapPartitions(
        new NativePredictor(model, passThrough, numFeatures, names, topK), Encoders.row(schema));
  }

  NativePredictor(Broadcast<byte[]> model, int passThrough, int numFeatures, String[] featureNames, int topK) {
    this.model = model;
    this.passThrough = passThrough;
    this.numFeatures = numFeatures;
    this.featureNames = featureNames;
    this.topK = topK;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> input) throws XGBoostError, IOException {
    Booster booster = XGBoost.loadModel(model.value());
    return new Iterator<>() {
      private final float[] buffer = new float[BATCH_ROWS * numFeatures];
      private final List<Row> pending = new ArrayList<>(BATCH_ROWS);
      private final List<Row> ready = new ArrayList<>(BATCH_ROWS);
      private int next;
      private boolean disposed;

      @Override
      public boolean hasNext() {
        if (next < ready.size()) {
          return true;
        }
        fill();
        if (next < ready.size()) {
          return true;
        }
        if (!disposed) {
          booster.dispose();
          disposed = true;
        }
        return false;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return ready.get(next++);
      }

      private void fill() {
        ready.clear();
        next = 0;
        pending.clear();
        while (pending.size() < BATCH_ROWS && input.hasNext()) {
          Row r = input.next();
          int base = pending.size() * numFeatures;
          for (int j = 0; j < numFeatures; j++) {
            Object v = r.get(passThrough + j);
            buffer[base + j] = v == null ? Float.NaN : ((Number) v).floatValue();
          }
          pending.add(r);
        }
        if (pending.isEmpty()) {
          return;
        }
        int n = pending.size();
        float[] data = n == BATCH_ROWS ? buffer : Arrays.copyOf(buffer, n * numFeatures);
        float[][] predictions;
        float[][] margins = null;
        float[][] contribs = null;
        try {
          predictions = booster.inplace_predict(data, n, numFeatures, Float.NaN);
          if (featureNames != null) {
            DMatrix matrix = new DMatrix(data, n, numFeatures, Float.NaN);
            try {
              margins = booster.predict(matrix, true);
              contribs = booster.predictContrib(matrix, 0);
            } finally {
              matrix.dispose();
            }
          }
        } catch (XGBoostError e) {
          throw new NightshiftException("XGBoost prediction failed: " + e.getMessage(), e);
        }
        for (int i = 0; i < n; i++) {
          Row r = pending.get(i);
          Object[] out = new Object[passThrough + (featureNames == null ? 1 : 4)];
          for (int j = 0; j < passThrough; j++) {
            out[j] = r.get(j);
          }
          out[passThrough] = (double) predictions[i][0];
          if (featureNames != null) {
            out[passThrough + 1] = (double) margins[i][0];
            out[passThrough + 2] = (double) contribs[i][numFeatures];
            out[passThrough + 3] = scala.collection.JavaConverters.asScalaBuffer(top(contribs[i])).toSeq();
          }
          ready.add(RowFactory.create(out));
        }
      }
    };
  }

  private List<Row> top(float[] contributions) {
    Integer[] order = new Integer[numFeatures];
    for (int j = 0; j < numFeatures; j++) {
      order[j] = j;
    }
    Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -Math.abs(contributions[j])).thenComparing(j -> j));
    List<Row> out = new ArrayList<>(Math.min(topK, numFeatures));
    for (int k = 0; k < Math.min(topK, numFeatures); k++) {
      out.add(RowFactory.create(featureNames[order[k]], (double) contributions[order[k]]));
    }
    return out;
  }
}
