package io.nightshift.featurestore;

import io.delta.tables.DeltaTable;
import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delta housekeeping for every Nightshift table: compaction (OPTIMIZE, Z-ordered by entity keys for the feature
 * tables), VACUUM with a retention that keeps replays and time travel safe, and the retention table properties.
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

  /** The tables and the columns their files are Z-ordered by (empty: compaction only). */
  static Map<String, List<String>> tables(Warehouse w) {
    Map<String, List<String>> t = new LinkedHashMap<>();
    t.put(w.features(UseCase.DEMAND), List.of("store", "item"));
    t.put(w.features(UseCase.MAINTENANCE), List.of("machine_id"));
    t.put(w.predictions(UseCase.DEMAND), List.of());
    t.put(w.predictions(UseCase.MAINTENANCE), List.of());
    t.put(w.replenishmentOrders(), List.of());
    t.put(w.workOrders(), List.of());
    for (String m : List.of("scoring_manifest", "prediction_stats", "accuracy", "feature_drift", "retraining_signals")) {
      t.put(w.monitoring(m), List.of());
    }
    return t;
  }

  public static List<TableReport> run(SparkSession spark, Warehouse warehouse, int retentionHours) {
    if (retentionHours < MIN_RETENTION_HOURS) {
      throw Errors.invalidOption(
          "--retention-hours",
          Integer.toString(retentionHours),
          "keep at least " + MIN_RETENTION_HOURS + " hours, so replays and readers of recent versions keep their files");
    }
    List<TableReport> out = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : tables(warehouse).entrySet()) {
      String path = e.getKey();
      if (!DeltaTables.exists(spark, path)) {
        continue;
      }
      long before = files(spark, path);
      spark.sql(
          "ALTER TABLE delta.`" + path + "` SET TBLPROPERTIES ("
              + "'delta.deletedFileRetentionDuration' = 'interval " + retentionHours + " hours', "
              + "'delta.logRetentionDuration' = 'interval 30 days')");
      DeltaTable table = DeltaTable.forPath(spark, path);
      if (e.getValue().isEmpty()) {
        table.optimize().executeCompaction();
      } else {
        table.optimize().executeZOrderBy(e.getValue().toArray(new String[0]));
      }
      table.vacuum(retentionHours);
      long after = files(spark, path);
      LOG.info("Housekeeping {}: {} -> {} data files{}", path, before, after,
          e.getValue().isEmpty() ? "" : " (Z-ordered by " + e.getValue() + ")");
      out.add(new TableReport(path, String.join(",", e.getValue()), before, after));
    }
    return out;
  }

  private static long files(SparkSession spark, String path) {
    return spark.sql("DESCRIBE DETAIL delta.`" + path + "`").head().getAs("numFiles");
  }
}
