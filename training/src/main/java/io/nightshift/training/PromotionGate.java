package io.nightshift.training;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.count;

import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.SparkColumns;
import io.nightshift.training.model.LoadedModel;
import io.nightshift.training.predict.NativePredictor;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Decides whether a challenger replaces the champion. Both models are scored on the same window, one that is out of
 * sample for both (after the champion's training data and inside the challenger's validation window). The metric
 * (WAPE for regression, MAE for remaining useful life, log loss for classification) is compared by its relative improvement, with a 90% block
 * bootstrap confidence interval that resamples whole entities (store-items, machines) so correlated days of one
 * entity move together. The challenger is promoted when the interval's lower bound exceeds the margin, and only when
 * the window has at least {@link #MIN_BLOCKS} entities: with fewer the interval says next to nothing.
 */
public final class PromotionGate {
  static final int BOOTSTRAP_SAMPLES = 1000;
  /**
   * Fewest blocks (entities) the bootstrap interval is taken on: with one block every resample is that block and the
   * interval collapses to the point estimate, and with a few it is as narrow as it is unreliable, so any improvement
   * above the margin would promote. Below it the challenger is not promoted.
   */
  static final int MIN_BLOCKS = 10;

  private PromotionGate() {}

  /** The gate's decision and its evidence; written to MLflow as the blessing record. */
  public record Decision(
      boolean promote,
      String reason,
      String metric,
      String championVersion,
      LocalDate windowStart,
      LocalDate windowEnd,
      long rows,
      int blocks,
      double challengerMetric,
      double championMetric,
      double improvement,
      double ciLow,
      double ciHigh,
      double margin) {
    /** The same evidence, rejected for {@code why}: what the record says when the gate's promotion is not carried out. */
    public Decision rejected(String why) {
      return new Decision(false, why, metric, championVersion, windowStart, windowEnd, rows, blocks, challengerMetric,
          championMetric, improvement, ciLow, ciHigh, margin);
    }

    public Map<String, Object> asRecord() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("decision", promote ? "PROMOTED" : "REJECTED");
      m.put("reason", reason);
      m.put("metric", metric);
      m.put("champion_version", championVersion);
      m.put("window_start", windowStart == null ? null : windowStart.toString());
      m.put("window_end", windowEnd == null ? null : windowEnd.toString());
      m.put("rows", rows);
      m.put("bootstrap_blocks", blocks);
      m.put("bootstrap_min_blocks", MIN_BLOCKS);
      m.put("bootstrap_samples", BOOTSTRAP_SAMPLES);
      m.put("challenger_metric", finite(challengerMetric));
      m.put("champion_metric", finite(championMetric));
      m.put("relative_improvement", finite(improvement));
      m.put("ci90_low", finite(ciLow));
      m.put("ci90_high", finite(ciHigh));
      m.put("margin", margin);
      return m;
    }

    private static Double finite(double v) {
      return Double.isFinite(v) ? v : null;
    }
  }

  static Decision firstModel(double margin) {
    return new Decision(true, "no champion yet", "", "", null, null, 0, 0, Double.NaN, Double.NaN, Double.NaN,
        Double.NaN, Double.NaN, margin);
  }

  /**
   * @param table the feature table (labels and features)
   * @param challenger the new model's booster
   * @param trained the new model's training result (its validation window)
   */
  public static Decision evaluate(
      Dataset<Row> table, ModelSpec spec, TrainedModel trained, byte[] challenger, LoadedModel champion,
      double margin, long seed) {
    FeatureView view = spec.view();
    String championVersion = champion.version().version();
    String metric = switch (spec.task()) {
      case REGRESSION -> "wape";
      case RUL_REGRESSION -> "mae";
      case BINARY_CLASSIFICATION -> "logloss";
    };
    LocalDate start;
    LocalDate end;
    Column labeled = col(view.labelColumn()).isNotNull();
    Column inWindow;
    if (spec.entitySplit() != null) {
      // held-out entities: out of sample for the champion only if it held out the same ones
      start = null;
      end = null;
      String scheme = spec.validationScheme();
      if (!scheme.equals(champion.metadata().validationSplit())) {
        return new Decision(false,
            "champion v" + championVersion + " was validated on " + champion.metadata().validationSplit()
                + ", not on " + scheme + ", so no held-out set is out of sample for both; keep the split or use"
                + " --force-promote",
            metric, championVersion, null, null, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
            margin);
      }
      inWindow = XGBoostTrainer.heldOut(spec);
    } else {
      LocalDate championTrainEnd = LocalDate.parse(champion.metadata().trainEnd());
      start = trained.validationStart();
      LocalDate outOfSample = championTrainEnd.plusDays(spec.purgeDays() + 1L);
      if (outOfSample.isAfter(start)) {
        start = outOfSample;
      }
      end = trained.validationEnd();
      if (start.isAfter(end)) {
        return new Decision(false,
            "no window is out of sample for both models (champion v" + championVersion + " trained through "
                + championTrainEnd + ", challenger validated through " + end + ")",
            metric, championVersion, start, end, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, margin);
      }
      Column date = col(view.dateColumn());
      inWindow = date.geq(lit(Date.valueOf(start))).and(date.leq(lit(Date.valueOf(end))));
    }
    List<String> missing =
        champion.metadata().features().stream().filter(f -> !Arrays.asList(table.columns()).contains(f)).toList();
    if (!missing.isEmpty()) {
      return new Decision(true, "champion v" + championVersion + " cannot score the current feature table (missing "
          + missing + ")", metric, championVersion, start, end, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
          Double.NaN, margin);
    }

    Dataset<Row> window = table.where(labeled.and(inWindow));
    Dataset<Row> ch = predictions(window, view, view.features(), challenger, "challenger");
    Dataset<Row> cp = predictions(window, view, champion.metadata().features(), champion.booster(), "champion");
    List<String> joinKeys = new ArrayList<>(view.keys());
    joinKeys.add(view.dateColumn());
    Dataset<Row> both = ch.join(cp.drop(view.labelColumn()), SparkColumns.seq(joinKeys.toArray(new String[0])));
    Column y = col(view.labelColumn());
    List<Row> blocks =
        both.groupBy(SparkColumns.cols(view.keys()))
            .agg(
                sum(loss(spec.task(), y, col("challenger"))).as("ch"),
                sum(loss(spec.task(), y, col("champion"))).as("cp"),
                sum(spec.task() == Task.REGRESSION ? abs(y) : lit(1.0)).as("norm"), // WAPE; MAE and log loss per row
                count(lit(1)).as("n"))
            // in key order: the bootstrap picks blocks by position, and the order in which a shuffle returns groups
            // depends on the input's layout, so the same models and rows would otherwise give another interval
            .orderBy(SparkColumns.cols(view.keys()))
            .collectAsList();
    double[][] b = new double[blocks.size()][];
    long rows = 0;
    for (int i = 0; i < b.length; i++) {
      Row r = blocks.get(i);
      b[i] = new double[] {r.getDouble(r.fieldIndex("ch")), r.getDouble(r.fieldIndex("cp")), r.getDouble(r.fieldIndex("norm"))};
      rows += r.getLong(r.fieldIndex("n"));
    }
    return decide(b, rows, metric, championVersion, start, end, margin, seed);
  }

  /**
   * The decision from per-block sums {challenger loss, champion loss, normalizer}: metric = loss / normalizer
   * (WAPE: absolute errors over absolute actuals; log loss: over row counts).
   */
  static Decision decide(
      double[][] blocks, long rows, String metric, String championVersion, LocalDate start, LocalDate end,
      double margin, long seed) {
    if (blocks.length == 0) {
      return new Decision(false, "no labeled rows in the comparison window", metric, championVersion, start, end, 0,
          0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, margin);
    }
    double[] observed = metrics(blocks, null);
    double improvement = relative(observed);
    if (blocks.length < MIN_BLOCKS) {
      String reason =
          String.format(
              Locale.ROOT,
              "%s: challenger %.4f vs champion %.4f, improvement %.2f%%, but on %d %s (bootstrap blocks), fewer than"
                  + " the %d a meaningful 90%% interval needs; not promoted. Fix: compare on more entities (a feature"
                  + " view with more of them in the window, or a larger validation.fraction with split_by), or"
                  + " promote anyway with nightshift train --force-promote",
              metric, observed[0], observed[1], 100 * improvement, blocks.length,
              blocks.length == 1 ? "entity" : "entities", MIN_BLOCKS);
      return new Decision(false, reason, metric, championVersion, start, end, rows, blocks.length, observed[0],
          observed[1], improvement, Double.NaN, Double.NaN, margin);
    }
    SplittableRandom random = new SplittableRandom(seed);
    double[] samples = new double[BOOTSTRAP_SAMPLES];
    int[] pick = new int[blocks.length];
    for (int s = 0; s < BOOTSTRAP_SAMPLES; s++) {
      for (int i = 0; i < pick.length; i++) {
        pick[i] = random.nextInt(blocks.length);
      }
      samples[s] = relative(metrics(blocks, pick));
    }
    Arrays.sort(samples);
    double low = samples[(int) Math.floor(0.05 * (BOOTSTRAP_SAMPLES - 1))];
    double high = samples[(int) Math.ceil(0.95 * (BOOTSTRAP_SAMPLES - 1))];
    boolean promote = low > margin;
    String reason =
        String.format(
            Locale.ROOT,
            "%s: challenger %.4f vs champion %.4f, improvement %.2f%% (90%% CI %.2f%%..%.2f%%) %s margin %.2f%%",
            metric, observed[0], observed[1], 100 * improvement, 100 * low, 100 * high,
            promote ? "clears" : "does not clear", 100 * margin);
    return new Decision(promote, reason, metric, championVersion, start, end, rows, blocks.length, observed[0],
        observed[1], improvement, low, high, margin);
  }

  private static double[] metrics(double[][] blocks, int[] pick) {
    double ch = 0;
    double cp = 0;
    double norm = 0;
    int n = pick == null ? blocks.length : pick.length;
    for (int i = 0; i < n; i++) {
      double[] b = blocks[pick == null ? i : pick[i]];
      ch += b[0];
      cp += b[1];
      norm += b[2];
    }
    return new double[] {norm == 0 ? Double.NaN : ch / norm, norm == 0 ? Double.NaN : cp / norm};
  }

  /** Relative improvement of the challenger: positive when its loss is lower. */
  private static double relative(double[] m) {
    return m[1] == 0 ? (m[0] == 0 ? 0 : Double.NEGATIVE_INFINITY) : (m[1] - m[0]) / m[1];
  }

  private static Column loss(Task task, Column y, Column p) {
    if (task.numeric()) {
      return abs(p.minus(y));
    }
    Column q = least(greatest(p, lit(1e-15)), lit(1 - 1e-15));
    return y.multiply(log(q)).plus(lit(1).minus(y).multiply(log(lit(1).minus(q)))).multiply(-1);
  }

  private static Dataset<Row> predictions(
      Dataset<Row> window, FeatureView view, List<String> features, byte[] booster, String name) {
    List<Column> cols = new ArrayList<>();
    for (String k : view.keys()) {
      cols.add(col(k));
    }
    cols.add(col(view.dateColumn()));
    cols.add(col(view.labelColumn()).cast("double").as(view.labelColumn()));
    for (String f : features) {
      cols.add(col(f).cast("double"));
    }
    int pass = view.keys().size() + 2;
    Dataset<Row> p = NativePredictor.predict(window.select(cols.toArray(new Column[0])), pass, features.size(), booster);
    return p.withColumnRenamed("prediction", name);
  }
}
