package io.nightshift.scoring;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;

import io.nightshift.core.Errors;
import io.nightshift.featurestore.SparkColumns;
import java.io.Serializable;
import java.sql.Date;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles item forecasts with their store's total ({@code nightshift score --reconcile store}).
 *
 * <p><b>Store base forecast</b>, independent of the item model, from the store's daily total sales up to the scored
 * night {@code D}: a same-weekday seasonal mean with a level adjustment,
 *
 * <pre>
 *   store_base(t) = mean of the totals of the last 4 days up to D with t's weekday        (weekly profile)
 *                 x mean of the totals of the last 7 days up to D                          (current level)
 *                 / mean of the totals of the last 28 days up to D                         (the profile's level)
 * </pre>
 *
 * i.e. the last four weeks' weekday profile scaled to the last week's level. Its error variance comes from the same
 * method's own history: the mean squared error of its forecasts made 7 days ahead for each of the 28 days up to
 * {@code D}, scaled with the horizon like the item spread ({@code x max(1, h/7)}), and at least the store base
 * itself (the Poisson variance of a count, so a perfectly regular past does not make the store forecast infallible).
 *
 * <p><b>Combination</b> (weighted least squares over the two-level hierarchy, i.e. MinT with a diagonal covariance):
 * with item base forecasts {@code y_i} of variances {@code v_i} (from their P10-P90 spread), {@code V = sum v_i},
 * store base {@code S} of variance {@code v_S} and {@code delta = S - sum y_i}, the reconciled store total is
 * {@code T = sum y_i + delta * V / (V + v_S)} (the variance-weighted mean of the two estimates of the total), and the
 * items take the difference in proportion to their variances, {@code b_i = y_i + v_i * (T - sum y_i) / V}. That is
 * the solution of {@code min sum (b_i - y_i)^2 / v_i + (sum b_i - S)^2 / v_S}. Where that would make an item
 * negative it is set to 0 and the rest is spread over the others in the same proportions (the non-negative solution
 * of the same problem with the total fixed at {@code T}), so the items always sum to {@code T}. When the items
 * already sum to the store base nothing changes.
 *
 * <p>Stores without enough history for the store base (fewer than {@link #MIN_ERROR_DAYS} evaluable days) keep their
 * item forecasts; scoring fails with an input error only when no store has it.
 */
final class StoreReconciliation {
  private static final Logger LOG = LoggerFactory.getLogger(StoreReconciliation.class);

  static final int PROFILE_WEEKS = 4;
  static final int LEVEL_DAYS = 7;
  static final int PROFILE_DAYS = 7 * PROFILE_WEEKS;
  /** Days up to {@code D} on which the store method's own 7-day-ahead error is measured. */
  static final int ERROR_DAYS = 28;
  static final int ERROR_LEAD_DAYS = 7;
  static final int MIN_ERROR_DAYS = 7;
  /** Days of store totals read: every error day's forecast needs a profile window before it. */
  static final int HISTORY_DAYS = ERROR_DAYS + ERROR_LEAD_DAYS + PROFILE_DAYS - 1;

  /** Variances below this are treated as this (keeps the weights finite). */
  static final double MIN_VARIANCE = 1e-9;

  private StoreReconciliation() {}

  // ---------------------------------------------------------------- store base forecast

  /**
   * The seasonal forecast of day {@code target} made at day {@code origin} from daily {@code totals} (index = day,
   * NaN = unknown), or NaN when the weekday or the level is unknown.
   */
  static double seasonal(double[] totals, int origin, int target) {
    double profile = mean(totals, origin - PROFILE_DAYS + 1, origin, Math.floorMod(target - origin, 7));
    double window = mean(totals, origin - PROFILE_DAYS + 1, origin, -1);
    double level = mean(totals, origin - LEVEL_DAYS + 1, origin, -1);
    if (Double.isNaN(profile) || Double.isNaN(window) || Double.isNaN(level)) {
      return Double.NaN;
    }
    return window > 0 ? profile * level / window : profile;
  }

  /**
   * Mean of the known totals of days {@code from..to}; with {@code weekdayOffset >= 0} only the days with the weekday
   * of day {@code to + weekdayOffset} (the target's).
   */
  private static double mean(double[] totals, int from, int to, int weekdayOffset) {
    double s = 0;
    int n = 0;
    for (int d = Math.max(0, from); d <= to && d < totals.length; d++) {
      if (weekdayOffset >= 0 && Math.floorMod(d - to - weekdayOffset, 7) != 0) {
        continue;
      }
      if (!Double.isNaN(totals[d])) {
        s += totals[d];
        n++;
      }
    }
    return n == 0 ? Double.NaN : s / n;
  }

  /**
   * The mean squared error of the method's {@value #ERROR_LEAD_DAYS}-day-ahead forecasts for the
   * {@value #ERROR_DAYS} days up to {@code origin}, or NaN with fewer than {@value #MIN_ERROR_DAYS} evaluable days.
   */
  static double errorVariance(double[] totals, int origin) {
    double s = 0;
    int n = 0;
    for (int t = origin - ERROR_DAYS + 1; t <= origin; t++) {
      if (t - ERROR_LEAD_DAYS < 0 || Double.isNaN(totals[t])) {
        continue;
      }
      double f = seasonal(totals, t - ERROR_LEAD_DAYS, t);
      if (!Double.isNaN(f)) {
        s += (totals[t] - f) * (totals[t] - f);
        n++;
      }
    }
    return n < MIN_ERROR_DAYS ? Double.NaN : s / n;
  }

  /** The store base's variance {@code horizon} days ahead: see the class comment. */
  static double storeVariance(double errorVariance, double storeBase, int horizon) {
    return Math.max(Math.max(errorVariance * Math.max(1.0, horizon / 7.0), storeBase), MIN_VARIANCE);
  }

  static final StructType STORE_BASE =
      new StructType()
          .add("store", DataTypes.IntegerType)
          .add("target_date", DataTypes.DateType)
          .add("store_base", DataTypes.DoubleType)
          .add("store_base_variance", DataTypes.DoubleType);

  /**
   * Store base forecasts and variances for {@code D+1..D+horizon}, from {@code table} (the feature table at the
   * version being scored: its {@code sales} are the known daily sales per store and item).
   */
  static Dataset<Row> storeBase(SparkSession spark, Dataset<Row> table, String tableName, LocalDate date, int horizon) {
    LocalDate from = date.minusDays(HISTORY_DAYS - 1);
    List<Row> totals =
        table.where(col("date").between(lit(Date.valueOf(from)), lit(Date.valueOf(date))).and(col("sales").isNotNull()))
            .groupBy("store", "date")
            .agg(sum(col("sales").cast("double")).as("total"), count(lit(1)).as("n"))
            .collectAsList();
    Map<Integer, double[]> byStore = new TreeMap<>();
    for (Row r : totals) {
      double[] days = byStore.computeIfAbsent(r.getInt(0), s -> {
        double[] a = new double[HISTORY_DAYS];
        Arrays.fill(a, Double.NaN);
        return a;
      });
      days[(int) ChronoUnit.DAYS.between(from, r.getDate(1).toLocalDate())] = r.getDouble(2);
    }
    List<Row> rows = new ArrayList<>();
    int origin = HISTORY_DAYS - 1;
    int skipped = 0;
    for (Map.Entry<Integer, double[]> e : byStore.entrySet()) {
      double mse = errorVariance(e.getValue(), origin);
      if (Double.isNaN(mse)) {
        skipped++;
        continue;
      }
      for (int h = 1; h <= horizon; h++) {
        double base = seasonal(e.getValue(), origin, origin + h);
        if (!Double.isNaN(base)) {
          rows.add(RowFactory.create(e.getKey(), Date.valueOf(date.plusDays(h)), base, storeVariance(mse, base, h)));
        }
      }
    }
    if (rows.isEmpty()) {
      throw Errors.invalidOption(
          "--reconcile", "store",
          "store reconciliation needs at least two weeks of daily sales up to " + date + " in " + tableName
              + " (" + MIN_ERROR_DAYS + " days whose store total it could have forecast " + ERROR_LEAD_DAYS
              + " days ahead, to measure its error; it reads up to " + HISTORY_DAYS + " days) and none of "
              + byStore.size() + " stores has them; score a later night or drop --reconcile");
    }
    if (skipped > 0) {
      LOG.warn("{} of {} stores lack the history for a store base forecast on {}; their item forecasts stay as they are",
          skipped, byStore.size(), date);
    }
    return spark.createDataFrame(rows, STORE_BASE);
  }

  // ---------------------------------------------------------------- combination

  /** Reconciled item forecasts and their total. */
  record Reconciled(double[] items, double total) {}

  /**
   * Reconciles item forecasts {@code base} (variances {@code variance}) with a store forecast {@code storeBase}
   * (variance {@code storeVariance}); NaN store base: nothing changes. See the class comment.
   */
  static Reconciled reconcile(double[] base, double[] variance, double storeBase, double storeVariance) {
    int n = base.length;
    double sum = 0;
    double v = 0;
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      sum += base[i];
      w[i] = Math.max(variance[i], MIN_VARIANCE);
      v += w[i];
    }
    if (Double.isNaN(storeBase) || n == 0) {
      return new Reconciled(base.clone(), sum);
    }
    double vs = Math.max(storeVariance, MIN_VARIANCE);
    double total = Math.max(0.0, sum + (storeBase - sum) * v / (v + vs));
    return new Reconciled(distribute(base, w, total), total);
  }

  /**
   * The items closest to {@code base} in the {@code weight}-scaled squared distance that sum to {@code total} and are
   * not negative: {@code max(0, base_i + weight_i * lambda)}, with {@code lambda} found by fixing the items that
   * would go negative at 0 until none does ({@code total >= 0}, weights > 0).
   */
  static double[] distribute(double[] base, double[] weight, double total) {
    int n = base.length;
    boolean[] zero = new boolean[n];
    double[] out = new double[n];
    if (!(total > 0)) {
      return out;
    }
    while (true) {
      double free = 0;
      double w = 0;
      for (int i = 0; i < n; i++) {
        if (!zero[i]) {
          free += base[i];
          w += weight[i];
        }
      }
      if (w == 0) {
        return out; // every item is at 0 (total 0)
      }
      double lambda = (total - free) / w;
      boolean changed = false;
      for (int i = 0; i < n; i++) {
        if (!zero[i] && base[i] + weight[i] * lambda < 0) {
          zero[i] = true;
          changed = true;
        }
      }
      if (!changed) {
        for (int i = 0; i < n; i++) {
          out[i] = zero[i] ? 0.0 : base[i] + weight[i] * lambda;
        }
        return out;
      }
    }
  }

  /**
   * Reconciles {@code items} (store, item, target_date, prediction_base, base_variance and any other columns) per
   * store and target date against {@code storeBase}; adds {@code prediction} and the store columns
   * {@code store_base}, {@code store_base_variance}, {@code items_base_total}, {@code items_base_variance},
   * {@code reconciled_total}. Items are processed in item order, so the sums do not depend on the partitioning.
   */
  static Dataset<Row> apply(Dataset<Row> items, Dataset<Row> storeBase) {
    Dataset<Row> joined = items.join(storeBase, SparkColumns.seq("store", "target_date"), "left");
    StructType in = joined.schema();
    StructType out =
        in.add("prediction", DataTypes.DoubleType)
            .add("items_base_total", DataTypes.DoubleType)
            .add("items_base_variance", DataTypes.DoubleType)
            .add("reconciled_total", DataTypes.DoubleType);
    return joined
        .groupByKey(
            (MapFunction<Row, String>) r -> r.getAs("store") + "|" + r.getAs("target_date"), Encoders.STRING())
        .flatMapGroups(new Combine(in), Encoders.row(out));
  }

  private static final class Combine implements FlatMapGroupsFunction<String, Row, Row>, Serializable {
    private static final long serialVersionUID = 1L;
    private final int item;
    private final int base;
    private final int variance;
    private final int storeBase;
    private final int storeVariance;
    private final int width;

    Combine(StructType schema) {
      item = schema.fieldIndex("item");
      base = schema.fieldIndex("prediction_base");
      variance = schema.fieldIndex("base_variance");
      storeBase = schema.fieldIndex("store_base");
      storeVariance = schema.fieldIndex("store_base_variance");
      width = schema.size();
    }

    @Override
    public Iterator<Row> call(String key, Iterator<Row> rows) {
      List<Row> group = new ArrayList<>();
      rows.forEachRemaining(group::add);
      group.sort(Comparator.comparing(r -> ((Number) r.get(item)).longValue()));
      int n = group.size();
      double[] y = new double[n];
      double[] v = new double[n];
      double vSum = 0;
      for (int i = 0; i < n; i++) {
        y[i] = group.get(i).getDouble(base);
        v[i] = group.get(i).getDouble(variance);
        vSum += Math.max(v[i], MIN_VARIANCE);
      }
      Row first = group.get(0);
      double s = first.isNullAt(storeBase) ? Double.NaN : first.getDouble(storeBase);
      double vs = first.isNullAt(storeVariance) ? Double.NaN : first.getDouble(storeVariance);
      Reconciled r = reconcile(y, v, s, vs);
      double baseTotal = 0;
      for (double x : y) {
        baseTotal += x;
      }
      List<Row> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Object[] values = new Object[width + 4];
        for (int j = 0; j < width; j++) {
          values[j] = group.get(i).get(j);
        }
        values[width] = r.items()[i];
        values[width + 1] = baseTotal;
        values[width + 2] = vSum;
        values[width + 3] = r.total();
        out.add(RowFactory.create(values));
      }
      return out.iterator();
    }
  }
}
