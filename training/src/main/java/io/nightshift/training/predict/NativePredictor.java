package io.nightshift.training.predict;

import io.nightshift.core.NightshiftException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.IntStream;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.BasePredicate;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.catalyst.util.MapData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Scores a partition with the native booster in batches: rows are copied into one dense float buffer and predicted
 * with a single {@code inplace_predict} call per batch, so there is no per-row native call and no DMatrix per row.
 * Where the input is a file scan (under at most a filter and a projection, see {@link ColumnarInput}) it reads the
 * scan's column vectors, copying each feature column into the buffer in turn; otherwise it works on Spark's internal
 * (Catalyst) rows. Either way there are no external {@code Row} objects and no boxing of feature values. Each task's
 * booster uses {@code spark.task.cpus} threads.
 *
 * <p>Input rows: {@code passThrough} columns first, then the {@code numFeatures} feature values (doubles, null or NaN
 * for missing). Output rows: the pass-through columns followed by the prediction. With contributions on, also the
 * raw margin, the bias, and the top feature contributions (SHAP values, XGBoost's {@code pred_contribs}; the
 * contributions of all features plus the bias sum to the margin).
 */
public final class NativePredictor implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  static final int BATCH_ROWS = 8192;

  /**
   * Spark setting: {@code false} makes the predictor read its input as rows even where it could read the scan's
   * column vectors (see {@link ColumnarInput}); for comparisons, the two give the same predictions.
   */
  public static final String COLUMNAR_INPUT = "spark.nightshift.predict.columnarInput";

  /** One feature's SHAP contribution. */
  public static final StructType CONTRIBUTION =
      new StructType().add("feature", DataTypes.StringType).add("contribution", DataTypes.DoubleType);

  private final Broadcast<byte[]> model;
  private final DataType[] passTypes;
  private final int[] passKinds;
  private final int[] ordinals; // of the input columns in the rows the predictor reads
  private final int[] featureKinds;
  private final int passThrough;
  private final int numFeatures;
  private final String[] featureNames;
  private final int topK;
  private final int threads;

  /**
   * Predicts {@code booster} on {@code input}: its first {@code passThrough} columns are kept, the next
   * {@code numFeatures} are the features in the booster's order; a double column {@code prediction} is appended.
   */
  public static Dataset<Row> predict(Dataset<Row> input, int passThrough, int numFeatures, byte[] booster) {
    return run(input, passThrough, numFeatures, booster, null, 0);
  }

  /**
   * As {@link #predict}, plus {@code margin}, {@code bias} and {@code contributions}: the {@code topK} features with
   * the largest positive SHAP value and the {@code topK} with the largest absolute value among the others, largest
   * absolute first (all features when {@code topK} is at least their number).
   */
  public static Dataset<Row> predictWithContributions(
      Dataset<Row> input, int passThrough, List<String> features, byte[] booster, int topK) {
    return run(input, passThrough, features.size(), booster, features.toArray(new String[0]), topK);
  }

  private static Dataset<Row> run(
      Dataset<Row> input, int passThrough, int numFeatures, byte[] booster, String[] names, int topK) {
    StructField[] fields = input.schema().fields();
    if (fields.length < passThrough + numFeatures) {
      throw new IllegalArgumentException(
          "NativePredictor needs " + passThrough + " pass-through and " + numFeatures + " feature columns; the input has "
              + fields.length + ": " + Arrays.toString(input.columns()));
    }
    StructType schema = new StructType();
    DataType[] passTypes = new DataType[passThrough];
    for (int i = 0; i < passThrough; i++) {
      schema = schema.add(fields[i]);
      passTypes[i] = fields[i].dataType();
    }
    SparkSession spark = input.sparkSession();
    boolean[] isFeature = new boolean[fields.length];
    Arrays.fill(isFeature, passThrough, passThrough + numFeatures, true);
    ColumnarInput columnar =
        spark.conf().get(COLUMNAR_INPUT, "true").equals("true")
            ? ColumnarInput.of(input.queryExecution().executedPlan(), isFeature)
            : null;
    int[] ordinals = columnar == null ? IntStream.range(0, passThrough + numFeatures).toArray() : columnar.ordinals();
    DataType[] sourceTypes = columnar == null ? null : columnar.sourceTypes();
    int[] featureKinds = new int[numFeatures];
    for (int j = 0; j < numFeatures; j++) {
      StructField f = fields[passThrough + j];
      featureKinds[j] = kind(f.name(), sourceTypes == null ? f.dataType() : sourceTypes[passThrough + j]);
    }
    schema = schema.add("prediction", DataTypes.DoubleType);
    if (names != null) {
      schema =
          schema
              .add("margin", DataTypes.DoubleType)
              .add("bias", DataTypes.DoubleType)
              .add("contributions", DataTypes.createArrayType(CONTRIBUTION));
    }
    Broadcast<byte[]> model = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(booster);
    int threads = Integer.parseInt(spark.conf().get("spark.task.cpus", "1"));
    NativePredictor predictor = new NativePredictor(model, passTypes, ordinals, featureKinds, names, topK, threads);
    RDD<InternalRow> predicted =
        columnar != null
            // straight from the scan's column vectors
            ? columnar.batches().toJavaRDD().mapPartitions(batches -> predictor.callColumnar(batches, columnar)).rdd()
            // Catalyst rows in and out: no conversion to and from external Rows, no boxing of feature values
            : input.queryExecution().toRdd().toJavaRDD().mapPartitions(predictor::call).rdd();
    return spark.internalCreateDataFrame(predicted, schema, false);
  }

  private static final int DOUBLE = 0;
  private static final int FLOAT = 1;
  private static final int INT = 2;
  private static final int LONG = 3;
  private static final int SHORT = 4;
  private static final int BYTE = 5;
  private static final int OTHER = -1; // pass-through values of other types: Spark's generic getter, then a copy

  private static int kind(String name, DataType t) {
    if (t.equals(DataTypes.DoubleType)) {
      return DOUBLE;
    } else if (t.equals(DataTypes.FloatType)) {
      return FLOAT;
    } else if (t.equals(DataTypes.IntegerType)) {
      return INT;
    } else if (t.equals(DataTypes.LongType)) {
      return LONG;
    } else if (t.equals(DataTypes.ShortType)) {
      return SHORT;
    } else if (t.equals(DataTypes.ByteType)) {
      return BYTE;
    }
    throw new IllegalArgumentException(
        "Feature column '" + name + "' has type " + t.simpleString() + "; cast it to double before scoring");
  }

  NativePredictor(
      Broadcast<byte[]> model, DataType[] passTypes, int[] ordinals, int[] featureKinds, String[] featureNames, int topK,
      int threads) {
    this.ordinals = ordinals;
    this.model = model;
    this.passTypes = passTypes;
    this.featureKinds = featureKinds;
    this.passThrough = passTypes.length;
    this.passKinds = new int[passTypes.length];
    for (int j = 0; j < passTypes.length; j++) {
      DataType t = passTypes[j];
      passKinds[j] =
          t.equals(DataTypes.IntegerType) || t.equals(DataTypes.DateType) ? INT
              : t.equals(DataTypes.LongType) || t.equals(DataTypes.TimestampType) ? LONG
              : t.equals(DataTypes.DoubleType) ? DOUBLE
              : OTHER;
    }
    this.numFeatures = featureKinds.length;
    this.featureNames = featureNames;
    this.topK = topK;
    this.threads = threads;
  }

  Iterator<InternalRow> call(Iterator<InternalRow> input) throws XGBoostError, java.io.IOException {
    int width = outputWidth();
    return predict(
        (buffer, pending) -> {
          int n = 0;
          while (n < BATCH_ROWS && input.hasNext()) {
            InternalRow r = input.next(); // may be reused by the producer: copy what is kept
            Object[] out = new Object[width];
            for (int j = 0; j < passThrough; j++) {
              out[j] = passThroughValue(r, j);
            }
            pending[n] = out;
            int base = n * numFeatures;
            for (int j = 0; j < numFeatures; j++) {
              buffer[base + j] = feature(r, ordinals[passThrough + j], featureKinds[j]);
            }
            n++;
          }
          return n;
        });
  }

  /** As {@link #call}, reading the scan's column vectors: each feature column is copied into the buffer in turn. */
  Iterator<InternalRow> callColumnar(Iterator<ColumnarBatch> batches, ColumnarInput columnar)
      throws XGBoostError, java.io.IOException {
    return predict(new ColumnarSource(batches, columnar.predicate()));
  }

  private int outputWidth() {
    return passThrough + (featureNames == null ? 1 : 4);
  }

  /** Copies up to {@link #BATCH_ROWS} input rows: features into the buffer, pass-through values into new rows. */
  private interface Source {
    int take(float[] buffer, Object[][] pending);
  }

  private final class ColumnarSource implements Source {
    private final Iterator<ColumnarBatch> batches;
    private final BasePredicate filter;
    private final int width = outputWidth();
    private ColumnarBatch batch;
    private int[] selected = new int[0]; // the batch's rows that pass the filter
    private int count;
    private int position;

    ColumnarSource(Iterator<ColumnarBatch> batches, BasePredicate filter) {
      this.batches = batches;
      this.filter = filter;
    }

    @Override
    public int take(float[] buffer, Object[][] pending) {
      int n = 0;
      while (n < BATCH_ROWS) {
        if (position >= count) {
          if (!advance()) {
            break;
          }
          continue;
        }
        int k = Math.min(BATCH_ROWS - n, count - position);
        for (int i = 0; i < k; i++) {
          InternalRow r = batch.getRow(selected[position + i]); // the batch's row, reused: values are copied
          Object[] out = new Object[width];
          for (int j = 0; j < passThrough; j++) {
            out[j] = passThroughValue(r, j);
          }
          pending[n + i] = out;
        }
        for (int j = 0; j < numFeatures; j++) {
          copyFeature(ordinals[passThrough + j], featureKinds[j], buffer, n * numFeatures + j, k);
        }
        n += k;
        position += k;
      }
      return n;
    }

    private void copyFeature(int ordinal, int kind, float[] buffer, int offset, int k) {
      int[] rows = selected;
      int from = position;
      ColumnVector v = batch.column(ordinal);
      if (kind == DOUBLE && !v.hasNull()) { // the common case, in a loop of its own
        for (int i = 0; i < k; i++) {
          buffer[offset + i * numFeatures] = (float) v.getDouble(rows[from + i]);
        }
        return;
      }
      for (int i = 0; i < k; i++) {
        buffer[offset + i * numFeatures] = feature(batch.getRow(rows[from + i]), ordinal, kind);
      }
    }

    private boolean advance() {
      if (!batches.hasNext()) {
        return false;
      }
      batch = batches.next();
      int rows = batch.numRows();
      if (selected.length < rows) {
        selected = new int[rows];
      }
      count = 0;
      position = 0;
      for (int i = 0; i < rows; i++) {
        if (filter == null || filter.eval(batch.getRow(i))) {
          selected[count++] = i;
        }
      }
      return true;
    }
  }

  private Iterator<InternalRow> predict(Source source) throws XGBoostError, java.io.IOException {
    Booster booster = XGBoost.loadModel(model.value());
    // the native booster is freed when the rows run out, and in any case when the task ends: a task that fails or is
    // killed part way, or whose consumer stops early (a limit), must not leave it on the executor
    TaskContext task = TaskContext.get();
    if (task != null) {
      task.addTaskCompletionListener((TaskCompletionListener) context -> booster.dispose());
    }
    booster.setParam("nthread", threads); // never more threads than the task's cores
    return new Iterator<>() {
      private final float[] buffer = new float[BATCH_ROWS * numFeatures];
      private final Object[][] pending = new Object[BATCH_ROWS][]; // the batch's output values, row by row
      private int size;
      private int next;
      private boolean disposed;

      @Override
      public boolean hasNext() {
        if (next < size) {
          return true;
        }
        fill();
        if (next < size) {
          return true;
        }
        if (!disposed) {
          booster.dispose();
          disposed = true;
        }
        return false;
      }

      @Override
      public InternalRow next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Object[] values = pending[next];
        pending[next++] = null;
        return new GenericInternalRow(values);
      }

      private void fill() {
        next = 0;
        size = 0;
        int n = source.take(buffer, pending);
        if (n == 0) {
          return;
        }
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
          Object[] out = pending[i];
          out[passThrough] = (double) predictions[i][0];
          if (featureNames != null) {
            out[passThrough + 1] = (double) margins[i][0];
            out[passThrough + 2] = (double) contribs[i][numFeatures];
            out[passThrough + 3] = top(contribs[i]);
          }
        }
        size = n;
      }
    };
  }

  private static float feature(InternalRow r, int ordinal, int kind) {
    if (r.isNullAt(ordinal)) {
      return Float.NaN;
    }
    switch (kind) {
      case DOUBLE:
        return (float) r.getDouble(ordinal);
      case FLOAT:
        return r.getFloat(ordinal);
      case INT:
        return r.getInt(ordinal);
      case LONG: // through double, as a long feature cast to double by the caller is converted
        return (float) (double) r.getLong(ordinal);
      case SHORT:
        return r.getShort(ordinal);
      default:
        return r.getByte(ordinal);
    }
  }

  /** Pass-through column {@code j} of {@code r}: read by its type (no generic dispatch per value), copied. */
  private Object passThroughValue(InternalRow r, int j) {
    int o = ordinals[j];
    if (r.isNullAt(o)) {
      return null;
    }
    switch (passKinds[j]) {
      case INT:
        return r.getInt(o); // int and date (days)
      case LONG:
        return r.getLong(o); // long and timestamps (microseconds)
      case DOUBLE:
        return r.getDouble(o);
      default:
        return copy(r.get(o, passTypes[j]));
    }
  }

  /** A value that outlives the (possibly reused) row it came from. */
  private static Object copy(Object v) {
    if (v instanceof UTF8String s) {
      return s.clone();
    } else if (v instanceof InternalRow row) {
      return row.copy();
    } else if (v instanceof ArrayData a) {
      return a.copy();
    } else if (v instanceof MapData m) {
      return m.copy();
    }
    return v; // primitives (boxed), Decimal values are immutable
  }

  /**
   * The {@code topK} largest positive contributions and the {@code topK} largest in absolute value among the others
   * (negative or zero), largest absolute first: what pushes the prediction up (a failure risk's reasons) and what
   * pushes it down (a remaining life's), each complete to {@code topK} even where the other side is larger.
   */
  private ArrayData top(float[] contributions) {
    Integer[] order = new Integer[numFeatures];
    for (int j = 0; j < numFeatures; j++) {
      order[j] = j;
    }
    Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -Math.abs(contributions[j])).thenComparing(j -> j));
    List<Object> out = new ArrayList<>();
    int up = 0;
    int down = 0;
    for (int j : order) {
      boolean keep = contributions[j] > 0 ? up++ < topK : down++ < topK;
      if (keep) {
        out.add(new GenericInternalRow(new Object[] {UTF8String.fromString(featureNames[j]), (double) contributions[j]}));
      }
    }
    return new GenericArrayData(out.toArray());
  }
}
