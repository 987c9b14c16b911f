package io.nightshift.training.model;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.when;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Quantile forecasts (P10, P50, P90) around a regression model's point forecast, calibrated on its validation
 * residuals (split-conformal style).
 *
 * <p>Demand counts are heteroscedastic: the spread grows with the level. Residuals are therefore standardized by
 * {@code sqrt(max(forecast, 1))} (quasi-Poisson scaling), the empirical quantiles {@code r_q} of the standardized
 * residuals on the validation window are stored with the model as metrics {@code valid_stdres_p10} etc., and a
 * night's quantile forecast is {@code max(0, forecast + r_q * sqrt(max(forecast, 1)))}. Because the offsets are
 * ordered quantiles of one distribution, P10 &le; P50 &le; P90 for every row.
 *
 * <p>To report honest out-of-sample quality, {@link #validationMetrics} also calibrates on every other validation
 * day and evaluates on the remaining days (and vice versa): {@code valid_coverage_p10_p90} (share of actuals inside
 * [P10, P90], nominally 0.8) and {@code valid_pinball} (mean pinball loss over the three levels divided by the mean
 * actual, comparable across scales).
 */
public final class ForecastQuantiles {
  /** The quantile levels forecast, lowest first. */
  public static final List<Double> LEVELS = List.of(0.1, 0.5, 0.9);

  private ForecastQuantiles() {}

  /** {@code p10}, {@code p50}, {@code p90}. */
  public static String suffix(double level) {
    return String.format(Locale.ROOT, "p%02d", Math.round(level * 100));
  }

  /** The metric holding the calibrated standardized-residual quantile of {@code level}. */
  public static String metric(double level) {
    return "valid_stdres_" + suffix(level);
  }

  /** One standard unit of a forecast's residual: {@code sqrt(max(forecast, 1))} (quasi-Poisson scaling). */
  public static Column scale(Column prediction) {
    return sqrt(greatest(prediction, lit(1.0)));
  }

  /** The standardized residual {@code (actual - forecast) / sqrt(max(forecast, 1))}. */
  static Column standardizedResidual(Column prediction, Column actual) {
    return actual.minus(prediction).divide(scale(prediction));
  }

  /**
   * The quantile-{@code level} forecast column for a model's metrics, or a null column when the model carries no
   * calibration (classifiers, or models registered before quantiles existed).
   */
  public static Column forecast(Map<String, Double> metrics, double level, Column prediction) {
    Double offset = metrics.get(metric(level));
    if (offset == null || offset.isNaN()) {
      return lit(null).cast("double");
    }
    return greatest(lit(0.0), prediction.plus(lit(offset).multiply(scale(prediction))));
  }

  /**
   * The calibration (one metric per level) and the cross-fitted coverage and pinball loss, from validation rows
   * with the forecast in {@code prediction} and the outcome in {@code label}; {@code day} splits the folds.
   */
  public static Map<String, Double> validationMetrics(
      Dataset<Row> scored, String prediction, String label, Column day) {
    Column p = col(prediction);
    Dataset<Row> rows =
        scored
            .where(col(label).isNotNull().and(p.isNotNull()))
            .select(
                p.cast("double").as("p"),
                col(label).cast("double").as("y"),
                standardizedResidual(p.cast("double"), col(label).cast("double")).as("r"),
                org.apache.spark.sql.functions.pmod(org.apache.spark.sql.functions.datediff(day, lit("2000-01-01")), lit(2))
                    .as("fold"));
    Map<String, Double> m = new LinkedHashMap<>();
    double[] all = quantiles(rows);
    if (all == null) {
      return m;
    }
    for (int i = 0; i < LEVELS.size(); i++) {
      m.put(metric(LEVELS.get(i)), all[i]);
    }
    double[] even = quantiles(rows.where(col("fold").equalTo(0)));
    double[] odd = quantiles(rows.where(col("fold").equalTo(1)));
    if (even == null || odd == null) {
      return m;
    }
    // evaluate each fold with the other fold's calibration
    Dataset<Row> evaluated =
        rows.select(
            col("y"),
            when(col("fold").equalTo(0), predictQuantile(odd[0])).otherwise(predictQuantile(even[0])).as("q_lo"),
            when(col("fold").equalTo(0), predictQuantile(odd[1])).otherwise(predictQuantile(even[1])).as("q_mid"),
            when(col("fold").equalTo(0), predictQuantile(odd[2])).otherwise(predictQuantile(even[2])).as("q_hi"));
    Row r =
        evaluated
            .agg(
                avg(when(col("y").geq(col("q_lo")).and(col("y").leq(col("q_hi"))), 1.0).otherwise(0.0)),
                avg(pinball(col("q_lo"), col("y"), LEVELS.get(0))
                    .plus(pinball(col("q_mid"), col("y"), LEVELS.get(1)))
                    .plus(pinball(col("q_hi"), col("y"), LEVELS.get(2)))
                    .divide(LEVELS.size())),
                avg(abs(col("y"))))
            .head();
    m.put("valid_coverage_p10_p90", r.getDouble(0));
    if (r.getDouble(2) > 0) {
      m.put("valid_pinball", r.getDouble(1) / r.getDouble(2));
    }
    return m;
  }

  private static Column predictQuantile(double offset) {
    return greatest(lit(0.0), col("p").plus(lit(offset).multiply(scale(col("p")))));
  }

  /** The pinball (quantile) loss of forecast {@code q} at {@code level} for outcome {@code y}. */
  public static Column pinball(Column q, Column y, double level) {
    Column diff = y.minus(q);
    return when(diff.geq(0), diff.multiply(level)).otherwise(diff.multiply(level - 1));
  }

  private static double[] quantiles(Dataset<Row> rows) {
    double[] probs = LEVELS.stream().mapToDouble(Double::doubleValue).toArray();
    double[] q = rows.stat().approxQuantile("r", probs, 0.001);
    return q.length == probs.length ? q : null;
  }
}
