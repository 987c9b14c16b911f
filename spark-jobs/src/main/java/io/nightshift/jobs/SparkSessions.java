package io.nightshift.jobs;

import io.nightshift.featurestore.LocalCheckpointFileManager;
import io.nightshift.featurestore.LocalFileLogStore;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The only place Nightshift creates a SparkSession. Settings from spark-submit ({@code --master}, {@code --conf})
 * win; on a plain {@code java} launch the session is local with all cores. Delta is always enabled.
 */
public final class SparkSessions {
  private SparkSessions() {}

  public static SparkSession create(String appName, String masterOverride) {
    SparkConf conf = new SparkConf(); // picks up spark.* system properties set by spark-submit
    SparkSession.Builder b = SparkSession.builder().appName(appName);
    if (masterOverride != null && !masterOverride.isBlank()) {
      b.master(masterOverride);
    } else if (!conf.contains("spark.master")) {
      b.master("local[*]");
    }
    String master = masterOverride != null && !masterOverride.isBlank() ? masterOverride : conf.get("spark.master", "local[*]");
    defaults(master).forEach((key, value) -> {
      if (!conf.contains(key)) {
        b.config(key, value);
      }
    });
    return b.getOrCreate();
  }

  /**
   * The settings every Nightshift session gets unless spark-submit or {@code --conf} gives them: Delta, UTC, the
   * commit classes for {@code file:} tables and the partitioned-write setting; on a {@code local} master also the
   * small-machine settings. The {@code conf/spark} presets carry the same values (tested).
   */
  public static Map<String, String> defaults(String master) {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension");
    d.put("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog");
    d.put("spark.sql.session.timeZone", "UTC");
    d.put("spark.ui.showConsoleProgress", "false");
    // Partitioned Delta writes (a night's partition replaced) keep up to this many files open per task instead of
    // first sorting the task's rows by the partition column: most writes fill one partition, where that sort of
    // every row is pure cost. A task that meets more partitions sorts only the rest of its rows.
    d.put("spark.sql.maxConcurrentOutputFileWriters", "4");
    // Commits to file: tables (one machine, or a file system mounted on all of them) are created exclusively even
    // when two jobs commit the same table at once; Delta's default store can let one overwrite the other.
    d.put("spark.delta.logStore.file.impl", LocalFileLogStore.class.getName());
    // ... and Delta's per-version checksum files too, without Hadoop starting a process per permission and link check
    d.put("spark.sql.streaming.checkpointFileManagerClass", LocalCheckpointFileManager.class.getName());
    if (master.startsWith("local")) {
      d.put("spark.sql.shuffle.partitions", "8");
      // Delta rebuilds a table's state from its log in this many tasks (default 50) before every replaceWhere or
      // overwrite, and scans plan against it. On one machine the log is small and every extra task only adds
      // scheduling: 1,000-row replaces, taking turns in one JVM, took a median 0.80 s with one and 0.99 s with four.
      d.put("spark.databricks.delta.snapshotPartitions", "1");
      d.put("spark.driver.host", "127.0.0.1");
      d.put("spark.driver.bindAddress", "127.0.0.1");
    }
    return d;
  }
}
