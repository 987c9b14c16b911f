package io.nightshift.training.predict;

import io.nightshift.core.NightshiftException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Scores a partition with the native booster in batches: rows are copied into one dense float buffer and predicted
 * with a single {@code inplace_predict} call per batch, so there is no per-row native call and no DMatrix per row.
 *
 * <p>Input rows: {@code passThrough} columns first, then the {@code numFeatures} feature values (doubles, null or NaN
 * for missing). Output rows: the pass-through columns followed by the prediction.
 */
public final class NativePredictor implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  static final int BATCH_ROWS = 8192;

  private final Broadcast<byte[]> model;
  private final int passThrough;
  private final int numFeatures;

  /**
   * Predicts {@code booster} on {@code input}: its first {@code passThrough} columns are kept, the next
   * {@code numFeatures} are the features in the booster's order; a double column {@code prediction} is appended.
   */
  public static Dataset<Row> predict(Dataset<Row> input, int passThrough, int numFeatures, byte[] booster) {
    StructType schema = new StructType();
    for (int i = 0; i < passThrough; i++) {
      schema = schema.add(input.schema().fields()[i]);
    }
    schema = schema.add("prediction", DataTypes.DoubleType);
    Broadcast<byte[]> model =
        JavaSparkContext.fromSparkContext(input.sparkSession().sparkContext()).broadcast(booster);
    return input.mapPartitions(new NativePredictor(model, passThrough, numFeatures), Encoders.row(schema));
  }

  NativePredictor(Broadcast<byte[]> model, int passThrough, int numFeatures) {
    this.model = model;
    this.passThrough = passThrough;
    this.numFeatures = numFeatures;
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
        float[][] predictions;
        try {
          float[] data = pending.size() == BATCH_ROWS ? buffer : java.util.Arrays.copyOf(buffer, pending.size() * numFeatures);
          predictions = booster.inplace_predict(data, pending.size(), numFeatures, Float.NaN);
        } catch (XGBoostError e) {
          throw new NightshiftException("XGBoost prediction failed: " + e.getMessage(), e);
        }
        for (int i = 0; i < pending.size(); i++) {
          Row r = pending.get(i);
          Object[] out = new Object[passThrough + 1];
          for (int j = 0; j < passThrough; j++) {
            out[j] = r.get(j);
          }
          out[passThrough] = (double) predictions[i][0];
          ready.add(RowFactory.create(out));
        }
      }
    };
  }
}
