package io.nightshift.training;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * How a model is evaluated and tuned, beside its single validation window ({@code validation:} in the spec):
 *
 * @param backtestFolds rolling-origin cutoffs (1: the validation window only); the last cutoff is the as-of date,
 *     each earlier one {@code backtestStepDays} before the next, and every fold trains only on days before its own
 *     validation window less the purge gap, from the same point-in-time feature rows
 * @param backtestStepDays days between cutoffs
 * @param segmentBy a key column whose values get their own validation metrics (null: none)
 * @param alertThreshold the probability above which a classifier raises an alert (work order)
 * @param costFalseNegative cost of a missed failure, for the expected cost per scored row
 * @param costFalsePositive cost of a needless intervention
 * @param search hyperparameter search, or null
 */
public record Evaluation(
    int backtestFolds,
    int backtestStepDays,
    String segmentBy,
    double alertThreshold,
    double costFalseNegative,
    double costFalsePositive,
    Search search)
    implements Serializable {
  public static final Evaluation DEFAULT = new Evaluation(1, 28, null, 0.5, 1.0, 1.0, null);

  public Evaluation {
    if (backtestFolds < 1 || backtestStepDays < 1) {
      throw new IllegalArgumentException("backtest folds and step days must be >= 1");
    }
    if (!(alertThreshold > 0 && alertThreshold < 1)) {
      throw new IllegalArgumentException("alert threshold must be in (0, 1)");
    }
  }

  /**
   * A budgeted random search: {@code trials} parameter sets drawn from {@code choices} (one of the listed values)
   * and {@code ranges} (uniform in [min, max]); the best by {@code metric} wins. Draws are seeded, so a search is
   * repeatable.
   */
  public record Search(int trials, String metric, Map<String, List<Object>> choices, Map<String, double[]> ranges, long seed)
      implements Serializable {
    public Search {
      choices = Map.copyOf(choices);
      ranges = Map.copyOf(ranges);
    }

    /** Metrics where larger is better; every other metric is minimized. */
    public boolean maximize() {
      return metric.endsWith("auc") || metric.contains("recall") || metric.contains("precision")
          || metric.contains("coverage");
    }

    /** The parameters of trial {@code t} (0-based): the same for the same seed and trial. */
    public Map<String, Object> sample(int t) {
      Random r = new Random(seed * 1_000_003L + t);
      Map<String, Object> p = new TreeMap<>();
      new TreeMap<>(choices).forEach((k, values) -> p.put(k, values.get(r.nextInt(values.size()))));
      new TreeMap<>(ranges).forEach((k, mm) -> p.put(k, mm[0] + (mm[1] - mm[0]) * r.nextDouble()));
      return p;
    }
  }
}
