package io.nightshift.benchmarks;

import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.LocalCheckpointFileManager;
import io.nightshift.featurestore.LocalFileLogStore;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Shared set-up: a local[2] session and a generated demand feature table of the requested size. */
final class BenchmarkData {
  final SparkSession spark;
  final Warehouse warehouse;
  final LocalDate asOf;
  final int series;

  private BenchmarkData(SparkSession spark, Warehouse warehouse, LocalDate asOf, int series) {
    this.spark = spark;
    this.warehouse = warehouse;
    this.asOf = asOf;
    this.series = series;
  }

  static BenchmarkData create(String[] args) throws Exception {
    return create(args, java.util.Map.of());
  }

  /** As {@link #create(String[])}, with extra Spark settings (e.g. {@code spark.task.cpus}). */
  static BenchmarkData create(String[] args, java.util.Map<String, String> conf) throws Exception {
    int series = intArg(args, "--series", 500);
    int days = intArg(args, "--days", 1095);
    SparkSession.Builder builder =
        SparkSession.builder()
            .master("local[2]")
            .appName("nightshift-benchmark")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.databricks.delta.snapshotPartitions", "1") // as bin/nightshift does on one machine
            .config("spark.sql.maxConcurrentOutputFileWriters", "4") // as bin/nightshift does everywhere
            .config("spark.delta.logStore.file.impl", LocalFileLogStore.class.getName()) // as bin/nightshift does
            .config("spark.sql.streaming.checkpointFileManagerClass", LocalCheckpointFileManager.class.getName())
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
            .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog");
    conf.forEach(builder::config);
    SparkSession spark = builder.getOrCreate();
    spark.sparkContext().setLogLevel("ERROR");
    Path dir = Path.of(System.getProperty("nightshift.benchmark.dir", "target/benchmark-data"));
    Files.createDirectories(dir);
    int items = Math.max(1, Math.min(series, 50));
    int stores = Math.max(1, series / items);
    LocalDate end = LocalDate.of(2024, 12, 31);
    LocalDate start = end.minusDays(days - 1L);
    Warehouse w = new Warehouse(dir.toAbsolutePath().resolve("s" + stores * items + "-d" + days).toString());
    if (!DeltaTables.exists(spark, w.features(UseCase.DEMAND))) {
      System.out.printf("preparing data: %d stores x %d items, %s..%s%n", stores, items, start, end);
      SyntheticData.generate(spark, w, new GeneratorConfig(42, start, end, stores, items, 1, 14));
      DemandFeatures.build(spark, w, end);
    }
    return new BenchmarkData(spark, w, end, stores * items);
  }

  static int intArg(String[] args, String name, int fallback) {
    List<String> a = List.of(args);
    int i = a.indexOf(name);
    return i >= 0 && i + 1 < a.size() ? Integer.parseInt(a.get(i + 1)) : fallback;
  }

  /** Features of {@code rows} as one dense row-major float array (NaN for missing). */
  static float[] dense(List<Row> rows, List<String> features, int offset) {
    float[] data = new float[rows.size() * features.size()];
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      for (int j = 0; j < features.size(); j++) {
        Object v = r.get(offset + j);
        data[i * features.size() + j] = v == null ? Float.NaN : ((Number) v).floatValue();
      }
    }
    return data;
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }

  /** Run times as seconds with two decimals, e.g. {@code [8.78, 10.05]}. */
  static String secondsList(long[] ns) {
    return java.util.Arrays.toString(
        java.util.Arrays.stream(ns).mapToObj(t -> String.format(java.util.Locale.ROOT, "%.2f", seconds(t))).toArray());
  }

  /** The middle value (the upper one of an even count). */
  static long median(long[] v) {
    long[] c = v.clone();
    java.util.Arrays.sort(c);
    return c[c.length / 2];
  }

  /** Nanoseconds of one run of {@code r}. */
  static long time(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return System.nanoTime() - t0;
  }
}
