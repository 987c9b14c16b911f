package io.nightshift.training;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
   * and {@code ranges} (uniform in [min, max]; for a parameter XGBoost takes as a whole number, such as max_depth,
   * uniform among the whole numbers in [ceil(min), floor(max)]); the best by {@code metric} wins. Draws are seeded,
   * so a search is repeatable.
   */
  public record Search(int trials, String metric, Map<String, List<Object>> choices, Map<String, double[]> ranges, long seed)
      implements Serializable {
    public Search {
      choices = Map.copyOf(choices);
      ranges = Map.copyOf(ranges);
      ranges.forEach((k, mm) -> {
        Class<?> whole = XGBoostTrainer.wholeNumberType(k);
        if (whole != null && Math.ceil(mm[0]) > Math.floor(mm[1])) {
          throw new IllegalArgumentException("search range of " + k + " [" + mm[0] + ", " + mm[1]
              + "] holds no whole number, and XGBoost takes " + k + " as one");
        }
        if (whole == Integer.class && (mm[0] < Integer.MIN_VALUE || mm[1] > Integer.MAX_VALUE)) {
          throw new IllegalArgumentException("search range of " + k + " [" + mm[0] + ", " + mm[1]
              + "] exceeds the int XGBoost takes");
        }
      });
    }

    /**
     * Metrics where larger is better; every other metric is minimized, except those {@link #loss} compares with a
     * target (signed bias, coverage with a nominal level in its name).
     */
    public boolean maximize() {
      return metric.endsWith("auc") || metric.contains("recall") || metric.contains("precision")
          || (metric.contains("coverage") && nominalCoverage(metric) == null);
    }

    /**
     * The score as a loss (smaller wins) for picking the best trial: a signed {@code bias} by its absolute value
     * (closest to 0 wins), a coverage whose nominal level the name gives ({@code valid_coverage_p10_p90}: 0.8) by
     * its distance to that level, a metric where larger is better ({@link #maximize}) negated, any other as it is.
     * NaN stays NaN.
     */
    public double loss(double score) {
      Double nominal = nominalCoverage(metric);
      if (nominal != null) {
        return Math.abs(score - nominal);
      }
      if (metric.endsWith("bias")) {
        return Math.abs(score);
      }
      return maximize() ? -score : score;
    }

    /** Whether {@code score} beats {@code best} (null: nothing yet); a NaN score never does, ties keep {@code best}. */
    public boolean better(double score, Double best) {
      if (Double.isNaN(score)) {
        return false;
      }
      return best == null || Double.isNaN(best) || loss(score) < loss(best);
    }

    private static final Pattern COVERAGE = Pattern.compile(".*coverage_p(\\d{1,2})_p(\\d{1,2})");

    /** The nominal level of an interval coverage metric named {@code ..coverage_pLO_pHI} ((HI - LO) / 100), or null. */
    static Double nominalCoverage(String metric) {
      Matcher m = COVERAGE.matcher(metric);
      if (!m.matches()) {
        return null;
      }
      int lo = Integer.parseInt(m.group(1));
      int hi = Integer.parseInt(m.group(2));
      return lo < hi ? (hi - lo) / 100.0 : null;
    }

    /** The parameters of trial {@code t} (0-based): the same for the same seed and trial. */
    public Map<String, Object> sample(int t) {
      Random r = new Random(seed * 1_000_003L + t);
      Map<String, Object> p = new TreeMap<>();
      new TreeMap<>(choices).forEach((k, values) -> p.put(k, values.get(r.nextInt(values.size()))));
      new TreeMap<>(ranges).forEach((k, mm) -> p.put(k, draw(k, mm, r)));
      return p;
    }

    /** Uniform in [min, max], or among the whole numbers in it for a parameter XGBoost types as a whole number. */
    private static Object draw(String name, double[] mm, Random r) {
      Class<?> whole = XGBoostTrainer.wholeNumberType(name);
      if (whole == null) {
        return mm[0] + (mm[1] - mm[0]) * r.nextDouble();
      }
      long v = r.nextLong((long) Math.ceil(mm[0]), (long) Math.floor(mm[1]) + 1);
      return whole == Integer.class ? (Object) Math.toIntExact(v) : (Object) v;
    }
  }
}
