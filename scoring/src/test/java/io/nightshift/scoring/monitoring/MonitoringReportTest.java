package io.nightshift.scoring.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

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

/** The data of the forecast-vs-actual plot, on hand-made rows. */
class MonitoringReportTest {
  static final LocalDate D = LocalDate.of(2024, 3, 10);
  static final StructType PREDICTIONS =
      new StructType().add("score_date", "date").add("store", "int").add("item", "int").add("target_date", "date")
          .add("horizon_days", "int").add("prediction", "double");

  private static Row forecast(LocalDate scored, int horizon, double prediction) {
    return RowFactory.create(Date.valueOf(scored), 1, 1, Date.valueOf(scored.plusDays(horizon)), horizon, prediction);
  }

  @Test
  void thePlotOfANightDrawsOnlyForecastsMadeByThatNightSoLaterNightsDoNotChangeIt() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("report-series").toString());
    RawData.write(spark.createDataFrame(List.of(RowFactory.create(Date.valueOf(D), 1, 1, 9)), RawData.SALES),
        w.rawSales());
    List<Row> rows = List.of(
        forecast(D.minusDays(1), 1, 10.0), // for D
        forecast(D, 1, 11.0), forecast(D, 2, 12.0), // tonight: D+1, D+2
        forecast(D.plusDays(1), 1, 99.0), forecast(D.plusDays(1), 2, 98.0)); // a later night: D+2, D+3

    MonitoringReport.Series s =
        MonitoringReport.forecastVsActualSeries(spark, w, D, spark.createDataFrame(rows, PREDICTIONS));

    // the accuracy window's 28 days through D, then tonight's horizon (at least 7 days)
    assertThat(s.days()).hasSize(28 + 7);
    assertThat(s.days().get(0)).isEqualTo(D.minusDays(27));
    assertThat(s.series().keySet()).containsExactly(
        "actual sales", "forecast 1 day ahead", "forecast 7 days ahead", "tonight's forecast");
    int d = 27; // index of D
    assertThat(s.series().get("actual sales").get(d)).isEqualTo(9.0);
    List<Double> oneAhead = new ArrayList<>(java.util.Collections.nCopies(35, (Double) null));
    oneAhead.set(d, 10.0);
    oneAhead.set(d + 1, 11.0); // not the later night's 99 for D+2
    assertThat(s.series().get("forecast 1 day ahead")).isEqualTo(oneAhead);
    assertThat(s.series().get("forecast 7 days ahead")).containsOnlyNulls();
    List<Double> tonight = new ArrayList<>(java.util.Collections.nCopies(35, (Double) null));
    tonight.set(d + 1, 11.0);
    tonight.set(d + 2, 12.0);
    assertThat(s.series().get("tonight's forecast")).isEqualTo(tonight);
    assertThat(s.series().get("actual sales")).filteredOn(java.util.Objects::nonNull).hasSize(1);
  }
}
