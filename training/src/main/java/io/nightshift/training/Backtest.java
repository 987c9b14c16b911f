package io.nightshift.training;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.NightshiftException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rolling-origin backtesting: the spec is trained and validated at several cutoffs, the last being the as-of date
 * and each earlier one {@code backtest.step_days} before the next. Every fold sees only feature rows dated up to its
 * own cutoff (the feature store's rows are point-in-time: a row's features use data known before its date, see the
 * feature views), validates on the {@code validation.days} before the cutoff, and trains on the days before that
 * less the {@code validation.purge_days} gap (the embargo that keeps look-ahead labels out of training).
 */
public final class Backtest {
  private static final Logger LOG = LoggerFactory.getLogger(Backtest.class);

  private Backtest() {}

  /** One cutoff's windows, validation metrics and model (UBJSON, for the promotion gate). */
  public record Fold(
      int index,
      LocalDate cutoff,
      LocalDate trainEnd,
      LocalDate validationStart,
      LocalDate validationEnd,
      long trainRows,
      long validationRows,
      Map<String, Double> metrics,
      List<SegmentMetrics> segments,
      byte[] booster) {
    static Fold of(int index, LocalDate cutoff, TrainedModel m) {
      return new Fold(index, cutoff, m.trainEnd(), m.validationStart(), m.validationEnd(), m.trainRows(),
          m.validationRows(), m.metrics(), m.segmentMetrics(), m.booster());
    }
  }

  /** The folds, oldest cutoff first. */
  public record Result(List<Fold> folds) {
    /** {@code backtest_<metric>_mean} over the folds, and the fold count. */
    public Map<String, Double> summary() {
      Map<String, Double> out = new LinkedHashMap<>();
      for (String k : metricNames()) {
        double sum = 0;
        int n = 0;
        for (Fold f : folds) {
          Double v = f.metrics().get(k);
          if (v != null && !v.isNaN()) {
            sum += v;
            n++;
          }
        }
        if (n > 0) {
          out.put("backtest_" + k + "_mean", sum / n);
        }
      }
      out.put("backtest_folds", (double) folds.size());
      return out;
    }

    /** Per metric, its value in each fold (oldest first), for step-indexed MLflow metric histories. */
    public Map<String, float[]> histories() {
      Map<String, float[]> out = new LinkedHashMap<>();
      for (String k : metricNames()) {
        float[] v = new float[folds.size()];
        for (int i = 0; i < folds.size(); i++) {
          Double x = folds.get(i).metrics().get(k);
          v[i] = x == null ? Float.NaN : x.floatValue();
        }
        out.put("backtest_" + k, v);
      }
      return out;
    }

    Set<String> metricNames() {
      Set<String> names = new LinkedHashSet<>();
      folds.forEach(f -> names.addAll(f.metrics().keySet()));
      return names;
    }

    /** One row per fold: windows, row counts and every metric. */
    public String csv() {
      List<String> names = new ArrayList<>(metricNames());
      StringBuilder sb =
          new StringBuilder("fold,cutoff,train_end,validation_start,validation_end,train_rows,validation_rows");
      names.forEach(n -> sb.append(',').append(n));
      sb.append('\n');
      for (Fold f : folds) {
        sb.append(f.index()).append(',').append(f.cutoff()).append(',').append(f.trainEnd()).append(',')
            .append(f.validationStart()).append(',').append(f.validationEnd()).append(',').append(f.trainRows())
            .append(',').append(f.validationRows());
        for (String n : names) {
          Double v = f.metrics().get(n);
          sb.append(',').append(v == null || v.isNaN() ? "" : String.format(Locale.ROOT, "%.6g", v));
        }
        sb.append('\n');
      }
      return sb.toString();
    }

    /** One row per fold and segment, or null when the spec names no segment key. */
    public String segmentsCsv() {
      if (folds.stream().allMatch(f -> f.segments().isEmpty())) {
        return null;
      }
      List<String> names = new ArrayList<>();
      folds.forEach(f -> f.segments().forEach(s -> s.metrics().keySet().forEach(k -> {
        if (!names.contains(k)) {
          names.add(k);
        }
      })));
      StringBuilder sb = new StringBuilder("fold,cutoff,segment_key,segment,rows");
      names.forEach(n -> sb.append(',').append(n));
      sb.append('\n');
      for (Fold f : folds) {
        for (SegmentMetrics s : f.segments()) {
          sb.append(f.index()).append(',').append(f.cutoff()).append(',').append(s.key()).append(',')
              .append(s.segment()).append(',').append(s.rows());
          for (String n : names) {
            Double v = s.metrics().get(n);
            sb.append(',').append(v == null || v.isNaN() ? "" : String.format(Locale.ROOT, "%.6g", v));
          }
          sb.append('\n');
        }
      }
      return sb.toString();
    }
  }

  /** The cutoffs of {@code spec}'s backtest ending at {@code asOf}, oldest first. */
  public static List<LocalDate> cutoffs(ModelSpec spec, LocalDate asOf) {
    int k = spec.evaluation().backtestFolds();
    List<LocalDate> out = new ArrayList<>();
    for (int i = k - 1; i >= 0; i--) {
      out.add(asOf.minusDays((long) i * spec.evaluation().backtestStepDays()));
    }
    return out;
  }

  /**
   * Trains every fold but the last, whose model is {@code atAsOf} (already trained on the same spec as of
   * {@code asOf}), so a backtest of k folds costs k - 1 extra trainings.
   */
  public static Result run(SparkSession spark, Dataset<Row> table, ModelSpec spec, LocalDate asOf, TrainedModel atAsOf) {
    List<LocalDate> cutoffs = cutoffs(spec, asOf);
    List<Fold> folds = new ArrayList<>();
    for (int i = 0; i < cutoffs.size(); i++) {
      LocalDate c = cutoffs.get(i);
      if (c.equals(asOf) && atAsOf != null) {
        folds.add(Fold.of(i, c, atAsOf));
        continue;
      }
      LOG.info("Backtest fold {}/{} of {}: cutoff {}", i + 1, cutoffs.size(), spec.modelName(), c);
      try {
        folds.add(Fold.of(i, c, XGBoostTrainer.train(spark, table, spec, c)));
      } catch (InvalidInputException e) {
        throw new NightshiftException(
            "Backtest fold " + (i + 1) + " of " + spec.modelName() + " (cutoff " + c + ") cannot train: "
                + e.getMessage() + " Fix: lower backtest.folds or backtest.step_days in the model spec, or build "
                + "features over a longer history.",
            e);
      }
    }
    return new Result(folds);
  }
}
