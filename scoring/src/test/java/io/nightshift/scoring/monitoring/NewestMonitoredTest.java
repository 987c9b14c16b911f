package io.nightshift.scoring.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.testing.SparkTestSession;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The newest night monitored per use case, which decides whether a monitoring run's metrics are the current ones. */
class NewestMonitoredTest {
  static final LocalDate D = LocalDate.of(2024, 12, 26);

  @Test
  void theNewestMonitorDateOfTheUseCaseInThePredictionStats() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("newest-monitored").toString());
    assertThat(Monitor.newestMonitored(spark, w, UseCase.DEMAND)).isEmpty(); // nothing monitored yet

    StructType stats = new StructType().add("use_case", "string").add("monitor_date", "date").add("rows", "long");
    // demand: D+1 monitored, then a backfill of D-5 (written last); maintenance only up to D-3
    spark.createDataFrame(List.of(
            RowFactory.create("demand", Date.valueOf(D.plusDays(1)), 10L),
            RowFactory.create("demand", Date.valueOf(D.minusDays(5)), 10L),
            RowFactory.create("maintenance", Date.valueOf(D.minusDays(3)), 10L)), stats)
        .write().format("delta").partitionBy("use_case").save(w.monitoring("prediction_stats"));

    assertThat(Monitor.newestMonitored(spark, w, UseCase.DEMAND)).contains(D.plusDays(1));
    assertThat(Monitor.newestMonitored(spark, w, UseCase.MAINTENANCE)).contains(D.minusDays(3));
  }
}
