package io.nightshift.scoring;

import io.nightshift.featurestore.DeltaTables;
import org.apache.spark.sql.SparkSession;

/** Test set-up: a Delta table whose earlier versions keep their log but lose their data files. */
final class Vacuum {
  private Vacuum() {}

  /**
   * Rewrites the table at {@code path} with its own rows, then VACUUMs with no retention, so every version before the
   * rewrite names data files that no longer exist (Delta's retention check is off for that one command).
   */
  static void rewriteAndRemoveOldFiles(SparkSession spark, String path) {
    DeltaTables.overwrite(spark.read().format("delta").load(path).localCheckpoint(), path);
    String check = "spark.databricks.delta.retentionDurationCheck.enabled";
    String was = spark.conf().get(check, "true");
    spark.conf().set(check, "false");
    try {
      spark.sql("VACUUM delta.`" + path + "` RETAIN 0 HOURS");
    } finally {
      spark.conf().set(check, was);
    }
  }
}
