package io.nightshift.training.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.testing.SparkTestSession;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.math3.distribution.PoissonDistribution;
import org.apache.commons.math3.random.MersenneTwister;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ForecastQuantilesTest {
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkTestSession.get();
  }

  /** Poisson outcomes around a known mean forecast: the exact conditional quantiles are known. */
  static Dataset<Row> poissonValidation(int rows, long seed) {
    Random r = new Random(seed);
    MersenneTwister rng = new MersenneTwister(seed);
    List<Row> out = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      double mean = 2 + r.nextInt(40);
      int y = new PoissonDistribution(rng, mean, 1e-12, 10_000).sample();
      out.add(RowFactory.create(Date.valueOf(LocalDate.of(2024, 1, 1).plusDays(i % 28)), mean, (double) y));
    }
    StructType schema =
        new StructType().add("date", DataTypes.DateType).add("score", DataTypes.DoubleType).add("sales", DataTypes.DoubleType);
    return spark.createDataFrame(out, schema);
  }

  @Test
  void calibratedIntervalsCoverEightyPercentOutOfSample() {
    Map<String, Double> m =
        ForecastQuantiles.validationMetrics(poissonValidation(6000, 7), "score", "sales", col("date"));
    assertThat(m).containsKeys("valid_stdres_p10", "valid_stdres_p50", "valid_stdres_p90");
    // standardized Poisson residuals are roughly N(0, 1): about -1.28, 0, +1.28
    assertThat(m.get("valid_stdres_p10")).isBetween(-1.6, -1.0);
    assertThat(m.get("valid_stdres_p50")).isBetween(-0.4, 0.4);
    assertThat(m.get("valid_stdres_p90")).isBetween(1.0, 1.6);
    // cross-fitted: each half is scored with the other half's calibration
    assertThat(m.get("valid_coverage_p10_p90")).isCloseTo(0.8, within(0.04));
    assertThat(m.get("valid_pinball")).isPositive().isLessThan(0.2);
  }

  @Test
  void quantileForecastScalesWithTheSquareRootOfTheLevelAndIsNeverNegative() {
    Map<String, Double> metrics = Map.of("valid_stdres_p10", -1.5, "valid_stdres_p90", 2.0);
    Row r =
        spark.range(1)
            .select(
                ForecastQuantiles.forecast(metrics, 0.9, lit(16.0)).as("hi16"),
                ForecastQuantiles.forecast(metrics, 0.1, lit(16.0)).as("lo16"),
                ForecastQuantiles.forecast(metrics, 0.1, lit(0.5)).as("lo_small"),
                ForecastQuantiles.forecast(metrics, 0.5, lit(16.0)).as("uncalibrated"))
            .head();
    assertThat(r.getDouble(0)).isCloseTo(16 + 2.0 * 4, within(1e-12));
    assertThat(r.getDouble(1)).isCloseTo(16 - 1.5 * 4, within(1e-12));
    assertThat(r.getDouble(2)).isZero(); // 0.5 - 1.5 * sqrt(max(0.5, 1)) < 0, clipped
    assertThat(r.isNullAt(3)).isTrue(); // no P50 calibration stored: null, not a made-up value
  }

  @Test
  void pinballLossWeighsUnderAndOverForecastsByTheLevel() {
    Row r =
        spark.range(1)
            .select(
                ForecastQuantiles.pinball(lit(10.0), lit(14.0), 0.9).as("under"),
                ForecastQuantiles.pinball(lit(10.0), lit(6.0), 0.9).as("over"))
            .head();
    assertThat(r.getDouble(0)).isCloseTo(3.6, within(1e-12)); // 0.9 * 4
    assertThat(r.getDouble(1)).isCloseTo(0.4, within(1e-12)); // 0.1 * 4
  }

  @Test
  void suffixesNameThePercentile() {
    assertThat(ForecastQuantiles.suffix(0.1)).isEqualTo("p10");
    assertThat(ForecastQuantiles.suffix(0.9)).isEqualTo("p90");
    assertThat(ForecastQuantiles.metric(0.5)).isEqualTo("valid_stdres_p50");
  }
}
