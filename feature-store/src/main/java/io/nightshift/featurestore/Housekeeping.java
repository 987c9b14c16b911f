package io.nightshift.featurestore;

import io.delta.tables.DeltaTable;
import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delta housekeeping for every Nightshift table (every Delta table below the warehouse's {@link #ZONES}, whichever
 * command or model wrote it): compaction (OPTIMIZE, Z-ordered by entity keys for the feature tables), VACUUM with a
 * retention that keeps replays and time travel safe, and the retention table properties.
 */
public final class Housekeeping {
  private static final Logger LOG = LoggerFactory.getLogger(Housekeeping.class);

  /**
   * The shortest VACUUM retention allowed: a week, Delta's default. Shorter retention can delete files that running
   * readers or a replay of a recent night still need.
   */
  public static final int MIN_RETENTION_HOURS = 168;

  private Housekeeping() {}

  /** What was done to one table. */
  public record TableReport(String table, String zOrderBy, long filesBefore, long filesAfter) {}

  /** The folders of the warehouse that hold Nightshift's own Delta tables (raw/ holds the user's data). */
  static final List<String> ZONES = List.of("features", "predictions", "actions", "monitoring", "registry", "quarantine");

  /**
   * Every Delta table in the warehouse's {@link #ZONES} and the columns its files are Z-ordered by (empty: compaction
   * only): the built-in feature tables by their keys, a declared feature view by the entities its latest recorded
   * build names, every other table (predictions of any model, decisions, monitoring, the view registry, quarantined
   * rows) compacted. The built-in tables come first, then the others by path; only tables that exist are listed.
   */
  static Map<String, List<String>> tables(SparkSession spark, Warehouse w) {
    Map<String, List<String>> builtIn = new LinkedHashMap<>();
    builtIn.put(w.features(UseCase.DEMAND), List.of("store", "item"));
    builtIn.put(w.features(UseCase.MAINTENANCE), List.of("machine_id"));
    List<String> found = new ArrayList<>();
    for (String zone : ZONES) {
      found.addAll(deltaTablesIn(spark, w, zone));
    }
    Map<String, List<String>> t = new LinkedHashMap<>();
    builtIn.forEach((table, keys) -> {
      if (found.contains(table)) {
        t.put(table, keys);
      }
    });
    Map<String, List<String>> viewKeys = viewEntities(spark, w);
    for (String table : found) {
      t.putIfAbsent(table, viewKeys.getOrDefault(table, List.of()));
    }
    return t;
  }

  /** The entities of each declared view, by its table's path, from the registry's latest build of the view. */
  private static Map<String, List<String>> viewEntities(SparkSession spark, Warehouse w) {
    Map<String, List<String>> keys = new LinkedHashMap<>();
    if (!DeltaTables.exists(spark, w.featureRegistry())) {
      return keys;
    }
    List<Row> latest = spark.read().format("delta").load(w.featureRegistry())
        .withColumn("latest", org.apache.spark.sql.functions.row_number().over(
            org.apache.spark.sql.expressions.Window.partitionBy("view")
                .orderBy(org.apache.spark.sql.functions.col("built_at").desc(),
                    org.apache.spark.sql.functions.col("table_version").desc())))
        .where("latest = 1").select("view", "entities").collectAsList();
    for (Row r : latest) {
      keys.put(w.featureView(r.getString(0)), r.getList(1));
    }
    return keys;
  }

  /** The Delta tables directly below {@code zone}, sorted by path (none when the folder does not exist). */
  private static List<String> deltaTablesIn(SparkSession spark, Warehouse w, String zone) {
    String dir = w.path(zone);
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir);
    List<String> out = new ArrayList<>();
    try {
      org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(p)) {
        return out;
      }
      for (org.apache.hadoop.fs.FileStatus f : fs.listStatus(p)) {
        String table = dir + "/" + f.getPath().getName();
        if (f.isDirectory() && DeltaTables.exists(spark, table)) {
          out.add(table);
        }
      }
    } catch (java.io.IOException e) {
      throw new io.nightshift.core.NightshiftException("Cannot list the tables in " + dir + ": " + e.getMessage(), e);
    }
    out.sort(null);
    return out;
  }

  public static List<TableReport> run(SparkSession spark, Warehouse warehouse, int retentionHours) {
    if (retentionHours < MIN_RETENTION_HOURS) {
      throw Errors.invalidOption(
          "--retention-hours",
          Integer.toString(retentionHours),
          "keep at least " + MIN_RETENTION_HOURS + " hours, so replays and readers of recent versions keep their files");
    }
    List<TableReport> out = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : tables(spark, warehouse).entrySet()) {
      String path = e.getKey();
      long before = files(spark, path);
      spark.sql(
          "ALTER TABLE " + sqlTable(spark, path) + " SET TBLPROPERTIES ("
              + "'delta.deletedFileRetentionDuration' = 'interval " + retentionHours + " hours', "
              + "'delta.logRetentionDuration' = 'interval 30 days')");
      DeltaTable table = DeltaTable.forPath(spark, path);
      if (e.getValue().isEmpty()) {
        table.optimize().executeCompaction();
      } else {
        table.optimize().executeZOrderBy(e.getValue().toArray(new String[0]));
      }
      vacuum(spark, table, retentionHours, before);
      long after = files(spark, path);
      LOG.info("Housekeeping {}: {} -> {} data files{}", path, before, after,
          e.getValue().isEmpty() ? "" : " (Z-ordered by " + e.getValue() + ")");
      out.add(new TableReport(path, String.join(",", e.getValue()), before, after));
    }
    return out;
  }

  /** Spark's setting of the number of tasks in which Delta's VACUUM lists a table's files (default 10,000). */
  static final String LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism";

  /**
   * VACUUM, its file listing sized to the table. Delta 3.3 lists a table in as many tasks as {@link
   * #LISTING_PARALLELISM} says, whatever its size; Spark's default of 10,000 made a VACUUM of a small table take
   * 30-80 s of empty tasks on a 2-core machine (the demo warehouse's 18 tables: 9 minutes). Unless the session sets
   * that value itself, a VACUUM runs {@link #listingTasks} tasks.
   */
  private static void vacuum(SparkSession spark, DeltaTable table, int retentionHours, long files) {
    if (spark.conf().contains(LISTING_PARALLELISM)) {
      table.vacuum(retentionHours);
      return;
    }
    spark.conf().set(LISTING_PARALLELISM, listingTasks(spark.sparkContext().defaultParallelism(), files));
    try {
      table.vacuum(retentionHours);
    } finally {
      spark.conf().unset(LISTING_PARALLELISM);
    }
  }

  /**
   * Tasks to list a table of {@code files} data files in: one per 10 files (the first level of a table is its
   * partition folders, or its files when it has none), at least the cluster's default parallelism and at most
   * Spark's default of 10,000.
   */
  static int listingTasks(int defaultParallelism, long files) {
    long perTen = (files + 9) / 10;
    return (int) Math.max(Math.max(defaultParallelism, 1), Math.min(10_000, perTen));
  }

  private static long files(SparkSession spark, String path) {
    return spark.sql("DESCRIBE DETAIL " + sqlTable(spark, path)).head().getAs("numFiles");
  }

  /**
   * The table at {@code path} as Delta's SQL names a table by path: qualified and absolute (Delta refuses a relative
   * one, such as the default warehouse {@code .nightshift/warehouse}, as "table or view not found"), backticks
   * doubled.
   */
  private static String sqlTable(SparkSession spark, String path) {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
    try {
      String qualified = p.getFileSystem(spark.sparkContext().hadoopConfiguration()).makeQualified(p).toString();
      return "delta.`" + qualified.replace("`", "``") + "`";
    } catch (java.io.IOException e) {
      throw new io.nightshift.core.NightshiftException("Cannot resolve the table path " + path + ": " + e.getMessage(), e);
    }
  }
}
