package io.nightshift.training;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/**
 * The result of one training: the booster (UBJSON bytes), its validation metrics, per-round loss curves, feature
 * importance, and the exact data windows used.
 *
 * @param residualStd standard deviation of the validation residuals (regression; NaN otherwise), used for
 *     uncertainty in downstream decisions
 * @param predictedVsActual validation outcomes against predictions for the report plot: a sample of rows for
 *     regression, a calibration table (mean outcome and mean probability per decile of the probability) for
 *     classification
 * @param segmentMetrics validation metrics per value of the spec's {@code backtest.segment_by} key (empty if none)
 */
public record TrainedModel(
    byte[] booster,
    List<String> featureNames,
    Map<String, Double> metrics,
    String evalMetric,
    float[] trainCurve,
    float[] validationCurve,
    Map<String, Double> importance,
    LocalDate trainStart,
    LocalDate trainEnd,
    LocalDate validationStart,
    LocalDate validationEnd,
    long trainRows,
    long validationRows,
    double residualStd,
    Map<String, io.nightshift.training.model.FeatureProfile> baseline,
    PredictedVsActual predictedVsActual,
    List<SegmentMetrics> segmentMetrics) {

  /**
   * The MLflow metric key of a per-round curve on {@code dataset} ({@code train}, {@code valid}): the dataset and the
   * evaluation metric, as MLflow accepts it ({@code valid-error@0.3} is logged as {@code valid-error_at_0.3}).
   */
  public String curveKey(String dataset) {
    return io.nightshift.training.tracking.MetricKeys.of(dataset + "-" + evalMetric);
  }

  /** Paired outcomes and predictions (same length). */
  public record PredictedVsActual(double[] actual, double[] predicted) {
    public static final PredictedVsActual EMPTY = new PredictedVsActual(new double[0], new double[0]);
  }
}
