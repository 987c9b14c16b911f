package io.nightshift.featurestore.maintenance;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.stddev_samp;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.RawData;
import io.nightshift.featurestore.SparkColumns;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Daily machine-health features: rolling sensor statistics over 7 and 30 days (by calendar days, so downtime gaps
 * do not stretch windows), their trend, days since the last maintenance, recent failures, and the machine type.
 *
 * <p>The label {@code failure_within_7d} is 1 when the machine fails within the next seven days and 0 when it does
 * not. It is null for the last seven days before the as-of date, whose window is not over yet; labeling the early
 * failures there but not the survivors would bias training towards failures.
 */
public final class MachineFeatures {
  private static final Logger LOG = LoggerFactory.getLogger(MachineFeatures.class);

  public static final int LABEL_HORIZON_DAYS = 7;

  static final List<String> SENSORS =
      List.of("temperature", "vibration", "pressure", "rpm", "torque");

  public static final FeatureView VIEW = view();

  private MachineFeatures() {}

  private static FeatureView view() {
    List<String> features = new ArrayList<>();
    for (String s : SENSORS) {
      features.add(s);
      features.add(s + "_mean_7d");
      features.add(s + "_std_7d");
      features.add(s + "_max_7d");
      features.add(s + "_mean_30d");
      features.add(s + "_trend");
    }
    features.addAll(
        List.of(
            "operating_hours",
            "machine_type_code",
            "days_since_maintenance",
            "failures_last_90d",
            "telemetry_days_7d"));
    return new FeatureView(
        "features/machine_daily",
        UseCase.MAINTENANCE,
        List.of("machine_id"),
        "date",
        "failure_within_7d",
        features,
        features.stream().filter(f -> !f.equals("operating_hours") && !f.equals("machine_type_code")).toList());
  }

  public static long build(SparkSession spark, Warehouse warehouse, LocalDate asOf) {
    Dataset<Row> features = compute(spark, warehouse, asOf);
    String path = warehouse.features(UseCase.MAINTENANCE);
    DeltaTables.overwrite(features, path);
    long rows = spark.read().format("delta").load(path).count();
    LOG.info("Wrote {} rows to {} (as of {}, version {})", rows, path, asOf, DeltaTables.version(spark, path));
    return rows;
  }

  public static Dataset<Row> compute(SparkSession spark, Warehouse warehouse, LocalDate asOf) {
    Column upToAsOf = col("date").leq(lit(Date.valueOf(asOf)));
    Dataset<Row> telemetry =
        RawData.read(spark, warehouse.rawTelemetry(), "raw/telemetry", RawData.TELEMETRY).where(upToAsOf);
    Dataset<Row> log =
        RawData.read(spark, warehouse.rawMaintenanceLog(), "raw/maintenance_log", RawData.MAINTENANCE_LOG)
            .where(upToAsOf);
    if (telemetry.isEmpty()) {
      throw Errors.emptyPartition(
          "raw/telemetry", "dates up to " + asOf, "pick an --as-of date inside the telemetry history");
    }

    Dataset<Row> events =
        log.groupBy("machine_id", "date")
            .agg(
                max(when(col("event_type").equalTo("failure"), 1).otherwise(0)).as("failed"),
                lit(1).as("maintained"));
    // a full join: a machine often does not report on the day it fails or is serviced (it is down), and its event
    // must still label the days before it and count in its own windows; such rows only feed the windows and are
    // dropped once they are computed
    Dataset<Row> t =
        telemetry
            .withColumn("reported", lit(1))
            .join(events, SparkColumns.seq("machine_id", "date"), "full_outer")
            .withColumn("day", datediff(col("date"), lit(Date.valueOf("1970-01-01"))));

    WindowSpec byDay = Window.partitionBy("machine_id").orderBy("day");
    WindowSpec last7 = byDay.rangeBetween(-6, 0);
    WindowSpec last30 = byDay.rangeBetween(-29, 0);
    WindowSpec last90 = byDay.rangeBetween(-89, 0);
    List<Column> out = new ArrayList<>(List.of(col("machine_id"), col("date")));
    for (String s : SENSORS) {
      Column v = col(s);
      out.add(v);
      out.add(avg(v).over(last7).as(s + "_mean_7d"));
      out.add(stddev_samp(v).over(last7).as(s + "_std_7d"));
      out.add(max(v).over(last7).as(s + "_max_7d"));
      out.add(avg(v).over(last30).as(s + "_mean_30d"));
      out.add(avg(v).over(last7).minus(avg(v).over(last30)).as(s + "_trend"));
    }
    Column lastMaintenanceDay =
        max(when(col("maintained").equalTo(1), col("day"))).over(byDay.rangeBetween(Window.unboundedPreceding(), 0));
    Column nextFailureDay =
        min(when(col("failed").equalTo(1), col("day"))).over(byDay.rangeBetween(1, Window.unboundedFollowing()));
    long asOfDay = asOf.toEpochDay();
    out.add(col("operating_hours"));
    out.add(
        when(col("machine_type").equalTo("L"), 0.0)
            .when(col("machine_type").equalTo("M"), 1.0)
            .when(col("machine_type").equalTo("H"), 2.0)
            .as("machine_type_code"));
    out.add(col("day").minus(lastMaintenanceDay).cast("double").as("days_since_maintenance"));
    out.add(coalesce(sum(col("failed")).over(last90), lit(0)).cast("double").as("failures_last_90d"));
    out.add(org.apache.spark.sql.functions.count(col("reported")).over(last7).cast("double").as("telemetry_days_7d"));
    out.add(
        when(
                col("day").plus(LABEL_HORIZON_DAYS).leq(asOfDay),
                when(nextFailureDay.minus(col("day")).leq(LABEL_HORIZON_DAYS), 1.0).otherwise(0.0))
            .as("failure_within_7d"));
    out.add(col("reported"));
    return t.select(out.toArray(new Column[0])).where(col("reported").isNotNull()).drop("reported");
  }
}
