package io.nightshift.benchmarks;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lead;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.timestamp_seconds;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.nightshift.featurestore.pit.FeatureTable;
import io.nightshift.featurestore.pit.PointInTimeJoin;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;

/**
 * Point-in-time (as-of) join of a spine with one feature table, three ways on the same cached rows in one run:
 *
 * <ul>
 *   <li>naive: join on the entity with {@code feature time <= spine time}, rank by feature time per spine row with
 *       {@code row_number}, keep rank 1;
 *   <li>sql-max: join only (entity, feature time) with the same condition, {@code max(feature time)} per spine row,
 *       then join back to the feature table on (entity, max time);
 *   <li>sql-interval: give each feature row its validity interval {@code [time, lead(time))} with a window, then
 *       join on the entity with {@code time <= spine time < next time} (one output row per spine row);
 *   <li>pit: {@link PointInTimeJoin} (union, one shuffle and sort, {@code last(struct, ignoreNulls)}).
 * </ul>
 *
 * All four must give the same count and checksum. Prints times and the ratios naive/pit and best-sql/pit.
 * Feature rows are unique per (entity, time), so every formulation has exactly one answer.
 */
public final class PitJoinBenchmark {
  public static void main(String[] args) {
    long spineRows = longArg(args, "--spine", 1_000_000L);
    long featureRows = longArg(args, "--features", 10_000_000L);
    long entities = longArg(args, "--entities", 10_000L);
    int runs = (int) longArg(args, "--runs", 1L);
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("nightshift-pit-benchmark")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate();
    spark.sparkContext().setLogLevel("ERROR");

    long rangeSeconds = 365L * 24 * 3600;
    long base = 1_704_067_200L; // 2024-01-01T00:00:00Z
    long perEntity = Math.max(1, (featureRows + entities - 1) / entities);
    long step = Math.max(1, rangeSeconds / perEntity);
    // Spine: random entity and time over the year; label = id % 2.
    Dataset<Row> spine =
        spark.range(spineRows)
            .select(
                col("id"),
                pmod(xxhash64(col("id"), lit(1)), lit(entities)).as("entity"),
                timestamp_seconds(lit(base).plus(pmod(xxhash64(col("id"), lit(2)), lit(rangeSeconds)))).as("ts"),
                col("id").mod(2).cast("int").as("label"))
            .cache();
    // Features: entity = i % E, the k-th row of an entity in slot [k*step, (k+1)*step): unique per (entity, time).
    Dataset<Row> features =
        spark.range(featureRows)
            .select(
                col("id").mod(entities).as("entity"),
                timestamp_seconds(
                        lit(base)
                            .plus(col("id").divide(entities).cast("long").multiply(step))
                            .plus(pmod(xxhash64(col("id"), lit(3)), lit(step))))
                    .as("ts"),
                when(pmod(xxhash64(col("id"), lit(4)), lit(10)).equalTo(0), lit(null))
                    .otherwise(pmod(xxhash64(col("id"), lit(5)), lit(100_000)).divide(100.0))
                    .as("f1"),
                pmod(xxhash64(col("id"), lit(6)), lit(1_000_000)).as("f2"))
            .cache();
    long t0 = System.nanoTime();
    long s = spine.count();
    long f = features.count();
    System.out.printf(
        "prepared %,d spine rows and %,d feature rows (%,d entities, ~%d rows each) in %.1f s%n",
        s, f, entities, perEntity, BenchmarkData.seconds(System.nanoTime() - t0));

    Map<String, BinaryOperator<Dataset<Row>>> variants = new LinkedHashMap<>();
    variants.put("naive", PitJoinBenchmark::naive);
    variants.put("sql-max", PitJoinBenchmark::sqlMax);
    variants.put("sql-interval", PitJoinBenchmark::sqlInterval);
    variants.put("pit", PitJoinBenchmark::pit);

    // Warm-up of every variant on a 1% slice (JIT, code generation), then the timed runs on everything.
    Dataset<Row> spineSlice = spine.where(col("entity").lt(Math.max(1, entities / 100)));
    Dataset<Row> featureSlice = features.where(col("entity").lt(Math.max(1, entities / 100)));
    variants.values().forEach(v -> checksum(v.apply(spineSlice, featureSlice)));
    // Round-robin over the variants, so that load from other processes spreads over all of them.
    Map<String, long[]> times = new LinkedHashMap<>();
    Map<String, Row> results = new LinkedHashMap<>();
    variants.keySet().forEach(k -> times.put(k, new long[runs]));
    for (int i = 0; i < runs; i++) {
      for (Map.Entry<String, BinaryOperator<Dataset<Row>>> v : variants.entrySet()) {
        long start = System.nanoTime();
        Row r = checksum(v.getValue().apply(spine, features));
        times.get(v.getKey())[i] = System.nanoTime() - start;
        results.put(v.getKey(), r);
        System.out.printf(
            "  run %d %-13s %8.2f s  rows %,d  matched %,d  checksum %s%n",
            i + 1, v.getKey(), BenchmarkData.seconds(times.get(v.getKey())[i]), r.getLong(0), r.getLong(1), r.get(2));
      }
    }
    Row reference = results.get("pit");
    List<String> different = new ArrayList<>();
    results.forEach((k, r) -> {
      if (!r.equals(reference)) {
        different.add(k);
      }
    });
    double pit = BenchmarkData.seconds(BenchmarkData.median(times.get("pit")));
    double naive = BenchmarkData.seconds(BenchmarkData.median(times.get("naive")));
    double sqlMax = BenchmarkData.seconds(BenchmarkData.median(times.get("sql-max")));
    double sqlInterval = BenchmarkData.seconds(BenchmarkData.median(times.get("sql-interval")));
    double bestSql = Math.min(sqlMax, sqlInterval);
    System.out.println();
    System.out.printf(
        "Point-in-time join benchmark: %,d spine rows x %,d feature rows, %,d entities (local[2], median of %d run%s)%n",
        s, f, entities, runs, runs == 1 ? "" : "s");
    System.out.printf("  naive join + filter + row_number   %8.2f s%n", naive);
    System.out.printf("  sql-max (max(time), join back)     %8.2f s%n", sqlMax);
    System.out.printf("  sql-interval (lead(), range join)  %8.2f s%n", sqlInterval);
    System.out.printf("  PointInTimeJoin                    %8.2f s%n", pit);
    System.out.printf("  ratio naive / pit:     %.2fx%n", naive / pit);
    System.out.printf("  ratio best sql / pit:  %.2fx (best sql: %s)%n", bestSql / pit, sqlMax <= sqlInterval ? "sql-max" : "sql-interval");
    System.out.println("  identical results (count, matched, checksum): " + (different.isEmpty() ? "yes" : "NO, differ: " + different));
    System.out.println("  " + Map.of("times_s", timesString(times)));
    spark.stop();
    if (!different.isEmpty()) {
      System.exit(1);
    }
  }

  /** Nightshift's union-and-sort as-of join. */
  static Dataset<Row> pit(Dataset<Row> spine, Dataset<Row> features) {
    return PointInTimeJoin.spine(spine, List.of("entity"), "ts")
        .with(FeatureTable.of("features", features, "ts", List.of("f1", "f2")))
        .result()
        .select("id", "f1", "f2");
  }

  /** Join on the entity with time <= spine time, then rank per spine row: pairs every spine row with its past. */
  static Dataset<Row> naive(Dataset<Row> spine, Dataset<Row> features) {
    Dataset<Row> fr = features.select(col("entity").as("f_entity"), col("ts").as("f_ts"), col("f1"), col("f2"));
    return spine
        .join(fr, col("entity").equalTo(col("f_entity")).and(col("f_ts").leq(col("ts"))), "left")
        .withColumn("rn", row_number().over(Window.partitionBy(col("id")).orderBy(col("f_ts").desc_nulls_last())))
        .where(col("rn").equalTo(1))
        .select("id", "f1", "f2");
  }

  /** The latest feature time per spine row from a narrow join and a hash aggregate, then one join back. */
  static Dataset<Row> sqlMax(Dataset<Row> spine, Dataset<Row> features) {
    Dataset<Row> times = features.select(col("entity").as("f_entity"), col("ts").as("f_ts"));
    Dataset<Row> latest =
        spine
            .join(times, col("entity").equalTo(col("f_entity")).and(col("f_ts").leq(col("ts"))), "left")
            .groupBy(col("entity"), col("id"), col("ts"), col("label"))
            .agg(max(col("f_ts")).as("max_ts"));
    Dataset<Row> fr = features.select(col("entity").as("f_entity"), col("ts").as("f_ts"), col("f1"), col("f2"));
    return latest
        .join(fr, col("entity").equalTo(col("f_entity")).and(col("max_ts").equalTo(col("f_ts"))), "left")
        .select("id", "f1", "f2");
  }

  /** Each feature row valid on [time, next time); one equi-join on the entity with a range condition. */
  static Dataset<Row> sqlInterval(Dataset<Row> spine, Dataset<Row> features) {
    Dataset<Row> intervals =
        features
            .select(
                col("entity").as("f_entity"),
                col("ts").as("f_ts"),
                lead(col("ts"), 1).over(Window.partitionBy(col("entity")).orderBy(col("ts"))).as("f_next"),
                col("f1"),
                col("f2"));
    return spine
        .join(
            intervals,
            col("entity").equalTo(col("f_entity"))
                .and(col("f_ts").leq(col("ts")))
                .and(col("f_next").isNull().or(col("ts").lt(col("f_next")))),
            "left")
        .select("id", "f1", "f2");
  }

  /** Row count, rows with a match (f2 not null) and an order-independent checksum of (id, f1, f2). */
  static Row checksum(Dataset<Row> out) {
    Column h =
        xxhash64(
            col("id"),
            col("f1").isNull(),
            when(col("f1").isNull(), lit(0.0)).otherwise(col("f1")),
            col("f2").isNull(),
            when(col("f2").isNull(), lit(0L)).otherwise(col("f2")));
    return out.agg(count(lit(1)), count(col("f2")), sum(h.cast("decimal(38,0)"))).head();
  }

  static long longArg(String[] args, String name, long fallback) {
    List<String> a = List.of(args);
    int i = a.indexOf(name);
    return i >= 0 && i + 1 < a.size() ? Long.parseLong(a.get(i + 1).replace("_", "")) : fallback;
  }

  static String timesString(Map<String, long[]> times) {
    StringBuilder b = new StringBuilder();
    times.forEach((k, v) -> b.append(k).append('=').append(Arrays.toString(Arrays.stream(v).mapToDouble(BenchmarkData::seconds).toArray())).append(' '));
    return b.toString().trim();
  }
}
