package io.nightshift.featurestore.quality;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The Delta table {@code monitoring/quality_metrics}: one row per evaluated check and as-of date. A re-evaluation of
 * the same table and date replaces its rows, so the history holds one value per build.
 */
public final class QualityMetrics {
  static final StructType SCHEMA =
      new StructType()
          .add("table_name", DataTypes.StringType)
          .add("as_of", DataTypes.DateType)
          .add("subject", DataTypes.StringType)
          .add("metric", DataTypes.StringType)
          .add("expected", DataTypes.StringType)
          .add("value", DataTypes.DoubleType)
          .add("passed", DataTypes.BooleanType);

  private QualityMetrics() {}

  public static void record(SparkSession spark, Warehouse warehouse, QualityGate.Report report) {
    List<Row> rows = new ArrayList<>();
    for (QualityGate.Check c : report.checks()) {
      rows.add(RowFactory.create(report.table(), Date.valueOf(report.asOf()), c.column(), c.metric(), c.expected(),
          c.actual(), c.passed()));
    }
    DeltaTables.replaceWhere(
        spark.createDataFrame(rows, SCHEMA),
        warehouse.monitoring("quality_metrics"),
        "table_name = '" + report.table().replace("'", "''") + "' AND as_of = '" + report.asOf() + "'",
        "table_name");
  }

  /** The median of {@code metric} over the last {@code runs} builds before {@code asOf}, or null without history. */
  public static Double medianBefore(
      SparkSession spark, Warehouse warehouse, String table, String subject, String metric, LocalDate asOf, int runs) {
    String path = warehouse.monitoring("quality_metrics");
    if (!DeltaTables.exists(spark, path)) {
      return null;
    }
    List<Double> values =
        spark.read().format("delta").load(path)
            .where(col("table_name").equalTo(table).and(col("subject").equalTo(subject))
                .and(col("metric").equalTo(metric)).and(col("as_of").lt(lit(Date.valueOf(asOf)))))
            .orderBy(col("as_of").desc())
            .limit(runs)
            .collectAsList()
            .stream()
            .map(r -> r.<Double>getAs("value"))
            .sorted()
            .toList();
    if (values.isEmpty()) {
      return null;
    }
    int n = values.size();
    return n % 2 == 1 ? values.get(n / 2) : (values.get(n / 2 - 1) + values.get(n / 2)) / 2;
  }
}
