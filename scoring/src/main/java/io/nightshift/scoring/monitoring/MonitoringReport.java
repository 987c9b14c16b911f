package io.nightshift.scoring.monitoring;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.NightshiftException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.RawData;
import io.nightshift.training.report.Charts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The PNG plots of a monitoring run, written next to the warehouse under
 * {@code reports/monitoring/<use case>/<date>/} (any Hadoop file system, so an {@code s3a://} warehouse works too):
 *
 * <ul>
 *   <li>{@code feature_drift.png}: PSI per monitored feature and the prediction, with the alert threshold;
 *   <li>{@code forecast_vs_actual.png} (demand): daily total actual sales over the accuracy window against the
 *       total one-day-ahead and seven-day-ahead forecasts made for those days (and the forecasts made tonight's
 *       horizon ahead, when it is longer than seven days), and tonight's forecast over its horizon.
 * </ul>
 *
 * Re-running a date overwrites its plots.
 */
public final class MonitoringReport {
  private MonitoringReport() {}

  public static List<String> write(
      SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate date, Dataset<Row> predictions,
      List<Row> drift) {
    Path tmp;
    try {
      tmp = Files.createTempDirectory("nightshift-report");
    } catch (IOException e) {
      throw new NightshiftException("Cannot create a temporary directory for the monitoring plots: " + e.getMessage(), e);
    }
    try {
      Map<String, Double> psi = new LinkedHashMap<>();
      for (Row d : drift) {
        if (!d.isNullAt(d.fieldIndex("psi"))) { // features whose drift could not be measured are left out
          psi.put(d.getAs("column"), d.getAs("psi"));
        }
      }
      Charts.bars(
          tmp.resolve("feature_drift.png"),
          useCase.id() + " drift on " + date + " against the training baseline (PSI)",
          "column", "PSI", psi, Monitor.PSI_ALERT);
      if (useCase == UseCase.DEMAND) {
        forecastVsActual(spark, warehouse, date, predictions, tmp.resolve("forecast_vs_actual.png"));
      }
      return copy(spark, tmp, warehouse.reports("monitoring/" + useCase.id() + "/" + date));
    } finally {
      try (Stream<Path> s = Files.walk(tmp)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // a leftover temp file is harmless
      }
    }
  }

  static void forecastVsActual(
      SparkSession spark, Warehouse warehouse, LocalDate date, Dataset<Row> predictions, Path png) {
    Series s = forecastVsActualSeries(spark, warehouse, date, predictions);
    Charts.daily(png, "Demand: total units per day, actual vs forecast (as of " + date + ")", "units", s.days(),
        s.series());
  }

  /** The days of a daily plot and its series by name, one value per day (null: none). */
  record Series(List<LocalDate> days, Map<String, List<Double>> series) {}

  /**
   * The data of {@code forecast_vs_actual.png} for night {@code date}: only forecasts made by that night or before
   * (score date at most {@code date}), so the plot of a night does not change when later nights are scored.
   */
  static Series forecastVsActualSeries(
      SparkSession spark, Warehouse warehouse, LocalDate date, Dataset<Row> predictions) {
    LocalDate from = date.minusDays(Monitor.ACCURACY_WINDOW_DAYS - 1);
    Map<LocalDate, Double> actual = new HashMap<>();
    RawData.read(spark, warehouse.rawSales(), "raw/sales", RawData.SALES)
        .where(col("date").between(lit(Date.valueOf(from)), lit(Date.valueOf(date))))
        .groupBy("date").agg(sum("sales").cast("double").as("units"))
        .collectAsList()
        .forEach(r -> actual.put(r.getDate(0).toLocalDate(), r.getDouble(1)));
    // tonight's horizon (7 by default, up to 56 with 'score --horizon-days'); its longest lead time gets a series too
    Row tonightsHorizon =
        predictions.where(col("score_date").equalTo(lit(Date.valueOf(date)))).agg(max("horizon_days")).head();
    int horizon = tonightsHorizon.isNullAt(0) ? 7 : Math.max(7, ((Number) tonightsHorizon.get(0)).intValue());
    List<Integer> leads = horizon > 7 ? List.of(1, 7, horizon) : List.of(1, 7);
    Map<Integer, Map<LocalDate, Double>> byLead = new LinkedHashMap<>();
    List<org.apache.spark.sql.Column> aggs = new ArrayList<>();
    for (int h : leads) {
      byLead.put(h, new HashMap<>());
      aggs.add(sum(when(col("horizon_days").equalTo(h), col("prediction"))).as("h" + h));
    }
    Map<LocalDate, Double> tonight = new HashMap<>();
    aggs.add(sum(when(col("score_date").equalTo(lit(Date.valueOf(date))), col("prediction"))).as("tonight"));
    predictions
        .where(col("target_date").between(lit(Date.valueOf(from)), lit(Date.valueOf(date.plusDays(horizon))))
            .and(col("score_date").leq(lit(Date.valueOf(date)))))
        .groupBy("target_date")
        .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new org.apache.spark.sql.Column[0]))
        .collectAsList()
        .forEach(r -> {
          LocalDate d = r.getDate(0).toLocalDate();
          for (int i = 0; i < leads.size(); i++) {
            if (!r.isNullAt(1 + i)) {
              byLead.get(leads.get(i)).put(d, r.getDouble(1 + i));
            }
          }
          if (!r.isNullAt(1 + leads.size())) {
            tonight.put(d, r.getDouble(1 + leads.size()));
          }
        });
    List<LocalDate> days = new ArrayList<>();
    for (LocalDate d = from; !d.isAfter(date.plusDays(horizon)); d = d.plusDays(1)) {
      days.add(d);
    }
    Map<String, List<Double>> series = new LinkedHashMap<>();
    series.put("actual sales", days.stream().map(actual::get).toList());
    for (int h : leads) {
      series.put("forecast " + h + (h == 1 ? " day" : " days") + " ahead", days.stream().map(byLead.get(h)::get).toList());
    }
    series.put("tonight's forecast", days.stream().map(tonight::get).toList());
    return new Series(days, series);
  }

  private static List<String> copy(SparkSession spark, Path dir, String target) {
    List<String> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      org.apache.hadoop.fs.Path to = new org.apache.hadoop.fs.Path(target);
      FileSystem fs = to.getFileSystem(spark.sparkContext().hadoopConfiguration());
      fs.mkdirs(to);
      for (Path f : files.sorted().toList()) {
        org.apache.hadoop.fs.Path dest = new org.apache.hadoop.fs.Path(to, f.getFileName().toString());
        fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(f.toUri()), dest);
        out.add(dest.toString());
      }
      return out;
    } catch (IOException e) {
      throw new NightshiftException("Cannot write the monitoring plots to " + target + ": " + e.getMessage(), e);
    }
  }
}
