package io.nightshift.scoring.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.RawData;
import io.nightshift.testing.SparkTestSession;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Realized accuracy of quantile forecasts on hand-made rows, every number worked out by hand. */
class DemandAccuracyTest {
  static final LocalDate D = LocalDate.of(2024, 3, 10);

  @Test
  void wapeCoverageAndPinballByHorizon() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("accuracy").toString());
    int[] actual = {8, 12, 16, 5};
    List<Row> sales = new ArrayList<>();
    List<Row> predictions = new ArrayList<>();
    for (int i = 0; i < actual.length; i++) {
      LocalDate target = D.minusDays(3 - i);
      sales.add(RowFactory.create(Date.valueOf(target), 1, 1, actual[i]));
      predictions.add(
          RowFactory.create(Date.valueOf(target.minusDays(1)), 1, 1, Date.valueOf(target), 1, 10.0, 6.0, 9.0, 14.0, "3"));
    }
    // a forecast whose target day is still in the future has no outcome yet
    predictions.add(RowFactory.create(Date.valueOf(D), 1, 1, Date.valueOf(D.plusDays(1)), 1, 10.0, 6.0, 9.0, 14.0, "3"));
    RawData.write(spark.createDataFrame(sales, RawData.SALES), w.rawSales());
    StructType schema =
        new StructType().add("score_date", "date").add("store", "int").add("item", "int").add("target_date", "date")
            .add("horizon_days", "int").add("prediction", "double").add("forecast_p10", "double")
            .add("forecast_p50", "double").add("forecast_p90", "double").add("model_version", "string");

    List<Row> rows = Monitor.demandAccuracy(spark, w, spark.createDataFrame(predictions, schema), D).collectAsList();

    assertThat(rows).hasSize(1);
    Row h1 = rows.get(0);
    assertThat(h1.<Integer>getAs("horizon_days")).isEqualTo(1);
    assertThat(h1.<String>getAs("model_version")).isEqualTo("3");
    assertThat(h1.<Long>getAs("n")).isEqualTo(4L);
    assertThat(h1.<Double>getAs("wape")).isCloseTo(15.0 / 41, within(1e-12)); // |2| + |-2| + |-6| + |5| over 41
    assertThat(h1.<Double>getAs("bias")).isCloseTo(-1.0 / 41, within(1e-12));
    assertThat(h1.<Double>getAs("coverage_p10_p90")).isEqualTo(0.5); // 8 and 12 inside [6, 14]; 16 and 5 outside
    // pinball sums over P10/P50/P90: 1.3, 2.3, 6.3, 3.8 -> mean of (sum / 3) = 13.7 / 12, over the mean actual 10.25
    assertThat(h1.<Double>getAs("pinball")).isCloseTo((13.7 / 12) / 10.25, within(1e-12));
  }

  /** Hand-made predictions without quantiles; extra columns (the model version) are carried along. */
  static final StructType PLAIN =
      new StructType().add("score_date", "date").add("store", "int").add("item", "int").add("target_date", "date")
          .add("horizon_days", "int").add("prediction", "double").add("model_version", "string");

  @Test
  void accuracyIsReportedByModelVersionAndHorizon() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("accuracy-versions").toString());
    RawData.write(spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(D.minusDays(1)), 1, 1, 10),
        RowFactory.create(Date.valueOf(D), 1, 1, 20)), RawData.SALES), w.rawSales());
    // version 2 forecast both days one day ahead before the retrain; version 3 forecast D one day ahead
    List<Row> predictions = List.of(
        RowFactory.create(Date.valueOf(D.minusDays(2)), 1, 1, Date.valueOf(D.minusDays(1)), 1, 19.0, "2"),
        RowFactory.create(Date.valueOf(D.minusDays(1)), 1, 1, Date.valueOf(D), 1, 38.0, "2"),
        RowFactory.create(Date.valueOf(D.minusDays(1)), 1, 1, Date.valueOf(D), 1, 22.0, "3"));

    List<Row> rows = Monitor.demandAccuracy(spark, w, spark.createDataFrame(predictions, PLAIN), D)
        .orderBy("model_version").collectAsList();

    assertThat(rows).extracting(r -> r.<String>getAs("model_version")).containsExactly("2", "3");
    assertThat(rows.get(0).<Long>getAs("n")).isEqualTo(2L);
    assertThat(rows.get(0).<Double>getAs("wape")).isCloseTo(27.0 / 30, within(1e-12)); // |9| + |18| over 30
    assertThat(rows.get(1).<Long>getAs("n")).isEqualTo(1L);
    assertThat(rows.get(1).<Double>getAs("wape")).isCloseTo(0.1, within(1e-12)); // |2| over 20
  }

  @Test
  void aSalesRowWithoutAValueIsNoOutcomeAndNotCounted() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("accuracy-null-sales").toString());
    // the sales of D-1 landed with an empty sales field: no outcome is known for it yet
    RawData.write(spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(D.minusDays(1)), 1, 1, null),
        RowFactory.create(Date.valueOf(D), 1, 1, 20)), RawData.SALES), w.rawSales());
    List<Row> predictions = List.of(
        RowFactory.create(Date.valueOf(D.minusDays(2)), 1, 1, Date.valueOf(D.minusDays(1)), 1, 19.0, "3"),
        RowFactory.create(Date.valueOf(D.minusDays(1)), 1, 1, Date.valueOf(D), 1, 22.0, "3"));

    Row h = Monitor.demandAccuracy(spark, w, spark.createDataFrame(predictions, PLAIN), D).head();

    assertThat(h.<Long>getAs("n")).isEqualTo(1L);
    assertThat(h.<Double>getAs("wape")).isCloseTo(0.1, within(1e-12));
    assertThat(h.<Double>getAs("bias")).isCloseTo(0.1, within(1e-12));
  }

  @Test
  void predictionsWithoutQuantilesReportNullCoverage() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("accuracy-plain").toString());
    RawData.write(
        spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(D), 1, 1, 10)), RawData.SALES), w.rawSales());
    Row h =
        Monitor.demandAccuracy(
                spark, w,
                spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(D.minusDays(2)), 1, 1, Date.valueOf(D), 2, 12.0, "3")), PLAIN),
                D)
            .head();
    assertThat(h.<Double>getAs("wape")).isCloseTo(0.2, within(1e-12));
    assertThat(h.isNullAt(h.fieldIndex("coverage_p10_p90"))).isTrue();
    assertThat(h.isNullAt(h.fieldIndex("pinball"))).isTrue();
  }

  @Test
  void theAccuracySignalComparesOnlyTheDirectHorizonsWithValidation() {
    StructType schema =
        new StructType().add("model_version", "string").add("horizon_days", "int").add("n", "long").add("wape", "double");
    io.nightshift.training.model.ModelMetadata meta =
        new io.nightshift.training.model.ModelMetadata("nightshift-demand", "demand", "REGRESSION", "v", List.of("store"),
            "date", "sales", List.of("x"), "", "", 0, "", "", "", "", 1.0, java.util.Map.of("valid_wape", 0.3),
            java.util.Map.of());
    io.nightshift.training.model.LoadedModel model =
        new io.nightshift.training.model.LoadedModel(
            new io.nightshift.training.tracking.ModelVersion("nightshift-demand", "4", "r", "s", java.util.Map.of(), List.of()),
            meta, new byte[0]);
    // a 28-day forecast: horizons 1..7 as accurate as validation (0.3), the recursive weeks much less (0.9)
    List<Row> accuracy = new ArrayList<>();
    for (int h = 1; h <= 28; h++) {
      accuracy.add(new org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema(
          new Object[] {"4", h, 20L, h <= 7 ? 0.3 : 0.9}, schema));
    }
    assertThat(Monitor.signals(io.nightshift.core.UseCase.DEMAND, D, model, List.of(), accuracy)).isEmpty();
    // the direct horizons degrading does raise it: 0.5 > 1.25 x 0.3
    accuracy.replaceAll(r -> r.<Integer>getAs("horizon_days") <= 7
        ? new org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema(new Object[] {"4", r.getAs("horizon_days"), 20L, 0.5}, schema)
        : r);
    List<Row> signals = Monitor.signals(io.nightshift.core.UseCase.DEMAND, D, model, List.of(), accuracy);
    assertThat(signals).hasSize(1);
    assertThat(signals.get(0).<Double>getAs("value")).isCloseTo(0.5, within(1e-12));
  }
}
