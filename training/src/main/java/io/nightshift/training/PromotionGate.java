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
 * Decides whether a challenger replaces the champion. Both models are scored on the same backtest windows: each of the
 * challenger's backtest folds whose validation window starts after the champion's training data (and its purge gap)
 * contributes that window, scored by the fold's challenger model (trained as of the fold's cutoff) and by the
 * champion, so every row compared is out of sample for both and on each window the challenger trained on data at
 * least as recent as the champion's. A fold validating earlier is left out (its model trained on less data than the champion), and each day
 * counts once, in the newest fold covering it. With an entity split the window is the held-out entities, scored by
 * the final challenger. The
 * metric (WAPE for regression, MAE for remaining useful life, log loss for classification) is pooled over the windows
 * and compared by its relative improvement, with a 90% block bootstrap confidence interval that resamples whole
 * entities (store-items, machines), each with its rows in every window, so correlated days of one entity move
 * together. The challenger is promoted when the interval's lower bound exceeds the margin, and only when the windows
 * hold at least {@link #MIN_BLOCKS} entities: with fewer the interval says next to nothing.
 */
public final class PromotionGate {
  static final int BOOTSTRAP_SAMPLES = 1000;
  /**
   * Fewest blocks (entities) the bootstrap interval is taken on: with one block every resample is that block and the
   * interval collapses to the point estimate, and with a few it is as narrow as it is unreliable, so any improvement
   * above the margin would promote. Below it the challenger is not promoted.
   */
  static final int MIN_BLOCKS = 10;
  private static final String WINDOW = "_gate_window";

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
      double margin,
      List<WindowResult> windows) {
    /** The same evidence, rejected for {@code why}: what the record says when the gate's promotion is not carried out. */
    public Decision rejected(String why) {
      return with(false, why, windows);
    }

    /** The same evidence, promoted for {@code why} (a forced promotion). */
    public Decision forced(String why) {
      return with(true, why, windows);
    }

    /** The same figures with another outcome, reason and windows. */
    private Decision with(boolean promoted, String why, List<WindowResult> w) {
      return new Decision(promoted, why, metric, championVersion, windowStart, windowEnd, rows, blocks,
          challengerMetric, championMetric, improvement, ciLow, ciHigh, margin, w);
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
      List<Map<String, Object>> w = new ArrayList<>();
      for (WindowResult r : windows) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("start", r.start() == null ? null : r.start().toString());
        e.put("end", r.end() == null ? null : r.end().toString());
        e.put("rows", r.rows());
        e.put("challenger_metric", finite(r.challengerMetric()));
        e.put("champion_metric", finite(r.championMetric()));
        w.add(e);
      }
      m.put("windows", w);
      return m;
    }

    private static Double finite(double v) {
      return Double.isFinite(v) ? v : null;
    }
  }

  /**
   * A window the challenger is judged on and the challenger model validated on it: a backtest fold's validation
   * window (dates inclusive) and that fold's booster, or, with an entity split, the final model (dates null).
   */
  public record Window(LocalDate start, LocalDate end, byte[] booster) {}

  /** One window's share of the comparison: its rows out of sample for both models and each model's metric there. */
  public record WindowResult(LocalDate start, LocalDate end, long rows, double challengerMetric, double championMetric) {}

  static Decision firstModel(double margin) {
    return new Decision(true, "no champion yet", "", "", null, null, 0, 0, Double.NaN, Double.NaN, Double.NaN,
        Double.NaN, Double.NaN, margin, List.of());
  }

  /** The windows of a training: every backtest fold's validation window, or the final model's when there is none. */
  public static List<Window> windows(TrainedModel model, Backtest.Result backtest) {
    if (backtest == null) {
      return List.of(new Window(model.validationStart(), model.validationEnd(), model.booster()));
    }
    return backtest.folds().stream().map(f -> new Window(f.validationStart(), f.validationEnd(), f.booster())).toList();
  }

  /**
   * @param table the feature table (labels and features)
   * @param windows the challenger's windows, oldest first (see {@link #windows}); with an entity split only the last
   *     one's booster is used
   */
  public static Decision evaluate(
      Dataset<Row> table, ModelSpec spec, List<Window> windows, LoadedModel champion, double margin, long seed) {
    FeatureView view = spec.view();
    String championVersion = champion.version().version();
    String metric = switch (spec.task()) {
      case REGRESSION -> "wape";
      case RUL_REGRESSION -> "mae";
      case BINARY_CLASSIFICATION -> "logloss";
    };
    Column labeled = col(view.labelColumn()).isNotNull();
    // the windows as compared: each with the rows that are out of sample for both models
    List<Window> compared = new ArrayList<>();
    List<Column> filters = new ArrayList<>();
    if (spec.entitySplit() != null) {
      // held-out entities: out of sample for the champion only if it held out the same ones
      String scheme = spec.validationScheme();
      if (!scheme.equals(champion.metadata().validationSplit())) {
        return new Decision(false,
            "champion v" + championVersion + " was validated on " + champion.metadata().validationSplit()
                + ", not on " + scheme + ", so no held-out set is out of sample for both; keep the split or use"
                + " --force-promote",
            metric, championVersion, null, null, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
            margin, List.of());
      }
      compared.add(new Window(null, null, windows.get(windows.size() - 1).booster()));
      filters.add(XGBoostTrainer.heldOut(spec));
    } else {
      if (champion.metadata().trainEnd() == null) {
        return new Decision(false,
            "champion v" + championVersion + " was validated on " + champion.metadata().validationSplit()
                + ", not on a time window, so its training data may hold any day; keep the split or use"
                + " --force-promote",
            metric, championVersion, null, null, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
            margin, List.of());
      }
      LocalDate championTrainEnd = LocalDate.parse(champion.metadata().trainEnd());
      LocalDate outOfSample = championTrainEnd.plusDays(spec.purgeDays() + 1L);
      Column date = col(view.dateColumn());
      for (int i = 0; i < windows.size(); i++) {
        Window w = windows.get(i);
        // a fold validating before that day trained on less data than the champion had on its window: left out
        if (w.start().isBefore(outOfSample)) {
          continue;
        }
        // each day once, with the newest fold covering it: a fold's window ends where the next one starts
        LocalDate end = w.end();
        if (i + 1 < windows.size() && !windows.get(i + 1).start().isAfter(end)) {
          end = windows.get(i + 1).start().minusDays(1);
        }
        if (!w.start().isAfter(end)) {
          compared.add(new Window(w.start(), end, w.booster()));
          filters.add(date.geq(lit(Date.valueOf(w.start()))).and(date.leq(lit(Date.valueOf(end)))));
        }
      }
      if (compared.isEmpty()) {
        LocalDate end = windows.get(windows.size() - 1).end();
        return new Decision(false,
            "no window is out of sample for both models: every validation window of the challenger (the last"
                + " through " + end + ") starts before " + outOfSample + ", the day after champion v"
                + championVersion + "'s training data (through " + championTrainEnd + ") and purge gap",
            metric, championVersion, outOfSample, end, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
            Double.NaN, margin, List.of());
      }
    }
    LocalDate start = compared.get(0).start();
    LocalDate end = compared.get(compared.size() - 1).end();
    List<String> missing =
        champion.metadata().features().stream().filter(f -> !Arrays.asList(table.columns()).contains(f)).toList();
    if (!missing.isEmpty()) {
      return new Decision(true, "champion v" + championVersion + " cannot score the current feature table (missing "
          + missing + ")", metric, championVersion, start, end, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
          Double.NaN, margin, List.of());
    }

    List<String> joinKeys = new ArrayList<>(view.keys());
    joinKeys.add(view.dateColumn());
    Dataset<Row> both = null;
    for (int i = 0; i < compared.size(); i++) {
      Dataset<Row> window = table.where(labeled.and(filters.get(i)));
      Dataset<Row> ch = predictions(window, view, view.features(), compared.get(i).booster(), "challenger");
      Dataset<Row> cp = predictions(window, view, champion.metadata().features(), champion.booster(), "champion");
      Dataset<Row> w = ch.join(cp.drop(view.labelColumn()), SparkColumns.seq(joinKeys.toArray(new String[0])))
          .withColumn(WINDOW, lit(i));
      both = both == null ? w : both.unionByName(w);
    }
    Column y = col(view.labelColumn());
    List<Column> groups = new ArrayList<>(Arrays.asList(SparkColumns.cols(view.keys())));
    groups.add(col(WINDOW));
    List<Row> sums =
        both.groupBy(groups.toArray(new Column[0]))
            .agg(
                sum(loss(spec.task(), y, col("challenger"))).as("ch"),
                sum(loss(spec.task(), y, col("champion"))).as("cp"),
                sum(spec.task() == Task.REGRESSION ? abs(y) : lit(1.0)).as("norm"), // WAPE; MAE and log loss per row
                count(lit(1)).as("n"))
            // in key order: the bootstrap picks blocks by position, and the order in which a shuffle returns groups
            // depends on the input's layout, so the same models and rows would otherwise give another interval
            .orderBy(groups.toArray(new Column[0]))
            .collectAsList();
    // one block per entity, its sums over every window; and each window's own totals for the record
    Map<List<Object>, double[]> blocks = new LinkedHashMap<>();
    double[][] perWindow = new double[compared.size()][3];
    long[] windowRows = new long[compared.size()];
    long rows = 0;
    for (Row r : sums) {
      List<Object> key = new ArrayList<>();
      for (String k : view.keys()) {
        key.add(r.get(r.fieldIndex(k)));
      }
      double[] v = {r.getDouble(r.fieldIndex("ch")), r.getDouble(r.fieldIndex("cp")), r.getDouble(r.fieldIndex("norm"))};
      double[] b = blocks.computeIfAbsent(key, k -> new double[3]);
      int wi = r.getInt(r.fieldIndex(WINDOW));
      for (int j = 0; j < 3; j++) {
        b[j] += v[j];
        perWindow[wi][j] += v[j];
      }
      long n = r.getLong(r.fieldIndex("n"));
      windowRows[wi] += n;
      rows += n;
    }
    List<WindowResult> results = new ArrayList<>();
    for (int i = 0; i < compared.size(); i++) {
      double[] m = metrics(new double[][] {perWindow[i]}, null);
      results.add(new WindowResult(compared.get(i).start(), compared.get(i).end(), windowRows[i], m[0], m[1]));
    }
    Decision d =
        decide(blocks.values().toArray(new double[0][]), rows, metric, championVersion, start, end, margin, seed);
    String scope;
    if (spec.entitySplit() != null) {
      scope = "on " + spec.validationScheme();
    } else if (windows.size() == 1) {
      scope = "on the validation window out of sample for both (" + start + ".." + end + ")";
    } else {
      scope = "on " + compared.size() + " of " + windows.size() + " backtest windows out of sample for both ("
          + start + ".." + end + ")";
    }
    return d.with(d.promote(), scope + ", " + d.reason(), results);
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
          0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, margin, List.of());
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
          observed[1], improvement, Double.NaN, Double.NaN, margin, List.of());
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
        observed[1], improvement, low, high, margin, List.of());
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
