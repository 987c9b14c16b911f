package io.nightshift.benchmarks;

import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.views.ViewDefinition;
import io.nightshift.featurestore.views.ViewDefinitions;
import io.nightshift.featurestore.views.ViewMaterializer;
import io.nightshift.featurestore.views.ViewRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The feature store's costs, on the shipped {@code conf/features/sales_daily.yaml} view over generated sales (same
 * raw rows for every variant, one run):
 *
 * <ul>
 *   <li>one night's incremental build (the day the table lacks; reads the longest window's history) vs a full
 *       backfill of the same view through the same night; the incremental night must equal the backfill's;
 *   <li>writing the same computed feature rows as a Delta table vs plain Parquet (median of 3 alternating runs).
 * </ul>
 */
public final class FeatureStoreBenchmark {
  public static void main(String[] args) throws Exception {
    BenchmarkData data = BenchmarkData.create(args);
    SparkSession spark = data.spark;
    Path work = Files.createTempDirectory(Path.of("target"), "feature-store-benchmark").toAbsolutePath();
    ViewDefinition shipped = ViewDefinitions.load(Path.of("conf/features/sales_daily.yaml"));
    // every variant reads the same raw files, wherever its tables go
    ViewDefinition view =
        new ViewDefinition(
            shipped.name(), shipped.description(), shipped.owner(), shipped.entities(), shipped.eventTime(),
            shipped.timeType(),
            new ViewDefinition.Source(
                shipped.source().format(), data.warehouse.path("raw/sales"), shipped.source().options(),
                shipped.source().columns()),
            shipped.filter(), shipped.transformations(), shipped.label(), shipped.columns(), shipped.aggregations(),
            shipped.lags(), shipped.calendar(), shipped.includeCurrent());
    Warehouse incremental = new Warehouse(work.resolve("incremental").toString());
    Warehouse backfill = new Warehouse(work.resolve("backfill").toString());
    String file = "conf/features/sales_daily.yaml";

    System.out.printf(
        "feature view %s: %d series, through %s, %d features, lookback %d days%n",
        view.name(), data.series, data.asOf, view.featureNames().size(), ViewMaterializer.lookbackDays(view));
    ViewRegistry.build(spark, incremental, view, file, Optional.of(data.asOf.minusDays(1)), false);

    long t0 = System.nanoTime();
    ViewRegistry.Build night = ViewRegistry.buildMissing(spark, incremental, view, file, data.asOf);
    double incrementalSeconds = BenchmarkData.seconds(System.nanoTime() - t0);
    t0 = System.nanoTime();
    ViewRegistry.Build whole = ViewRegistry.build(spark, backfill, view, file, Optional.of(data.asOf), true);
    double backfillSeconds = BenchmarkData.seconds(System.nanoTime() - t0);

    String day = "date = DATE'" + data.asOf + "'";
    Dataset<Row> a = spark.read().format("delta").load(night.tablePath());
    Dataset<Row> b = spark.read().format("delta").load(whole.tablePath());
    long differ = a.except(b).count() + b.except(a).count();
    if (differ != 0 || a.where(day).count() != data.series) {
      System.out.printf("MISMATCH: incremental and backfilled tables differ in %d rows%n", differ);
      System.exit(1);
    }
    System.out.printf(
        "incremental night %s: %d rows in %.2f s; full backfill: %d rows in %.2f s; tables identical%n",
        data.asOf, night.rows(), incrementalSeconds, whole.rows(), backfillSeconds);

    Dataset<Row> rows = ViewMaterializer.compute(spark, view, data.warehouse.root(), Optional.of(data.asOf)).cache();
    long count = rows.count();
    double[] delta = new double[3];
    double[] parquet = new double[3];
    for (int i = 0; i < 3; i++) {
      t0 = System.nanoTime();
      rows.write().format("delta").save(work.resolve("delta-" + i).toString());
      delta[i] = BenchmarkData.seconds(System.nanoTime() - t0);
      t0 = System.nanoTime();
      rows.write().parquet(work.resolve("parquet-" + i).toString());
      parquet[i] = BenchmarkData.seconds(System.nanoTime() - t0);
    }
    double deltaMedian = median(delta);
    double parquetMedian = median(parquet);
    System.out.printf("write %d feature rows: Delta %.2f s, Parquet %.2f s (medians of 3)%n", count, deltaMedian, parquetMedian);
    System.out.println();
    System.out.printf("ratio full backfill / incremental night: %.1fx%n", backfillSeconds / incrementalSeconds);
    System.out.printf("ratio Delta write / Parquet write:       %.2fx%n", deltaMedian / parquetMedian);
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v[v.length / 2];
  }
}
