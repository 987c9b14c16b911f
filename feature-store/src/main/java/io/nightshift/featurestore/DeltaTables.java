package io.nightshift.featurestore;

import io.delta.tables.DeltaTable;
import io.nightshift.core.Errors;
import io.nightshift.core.NightshiftException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.Snapshot;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * Delta table I/O used by every job: reads that fail with a clear message when the table is missing, whole-table
 * overwrites, and single-partition replacement in one transaction ({@code replaceWhere}), so re-running a date
 * replaces exactly that date.
 *
 * <p>Writers of the same table may run at the same time (two nights backfilled in parallel, a retry racing a slow
 * attempt). Delta's optimistic concurrency lets writes to different partitions both commit; when a concurrent
 * commit conflicts with ours (both replaced the same partition), the whole write is retried from a fresh snapshot,
 * which is safe because every Nightshift write is idempotent: the later writer wins with a complete partition,
 * never a mix of the two.
 */
public final class DeltaTables {
  private static final Logger LOG = LoggerFactory.getLogger(DeltaTables.class);

  /** Attempts of a write whose commit conflicts with a concurrent writer's. */
  static final int CONFLICT_ATTEMPTS = 4;

  private DeltaTables() {}

  public static boolean exists(SparkSession spark, String path) {
    try {
      return DeltaTable.isDeltaTable(spark, path);
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Reads a Delta table, or fails with an input error naming the table and the command that creates it.
   *
   * @param name a human name of the table (e.g. "features/demand_daily")
   * @param fix how to create it (e.g. "run 'nightshift features build --as-of DATE' first")
   */
  public static Dataset<Row> read(SparkSession spark, String path, String name, String fix) {
    requireTable(spark, path, name, fix);
    return spark.read().format("delta").load(path);
  }

  /**
   * Fails with an input error naming the table and the command that creates it unless {@code path} holds a Delta
   * table; for callers that then read a version of it ({@link #readVersion}).
   */
  public static void requireTable(SparkSession spark, String path, String name, String fix) {
    if (!exists(spark, path)) {
      throw Errors.missingTable(name, path, fix);
    }
  }

  /**
   * A Delta table as of {@code version}; a version that does not exist, or whose data files were vacuumed, is an
   * input error. For reads of a version pinned a moment ago (the latest); a version recorded earlier is read with
   * {@link #readVersion(SparkSession, String, String, long, String, String)}, which also checks the table's id.
   */
  public static Dataset<Row> readVersion(SparkSession spark, String path, String name, long version) {
    return readVersion(spark, path, name, version, null, "read a version the table still has, or rebuild the table");
  }

  /**
   * The version {@code version} of the Delta table whose id ({@link #tableId}) was recorded with it as {@code tableId}
   * (null: not recorded, not checked). The version is checked before any row is read: a version number past the
   * table's latest, a table id that differs (the table was deleted and created again, so the number names other
   * data), a log that was cleaned up, or data files that VACUUM removed are all an input error naming the table, the
   * version, why, and {@code fix}, never a read of other data or Spark's file-not-found error from the first query.
   */
  public static Dataset<Row> readVersion(
      SparkSession spark, String path, String name, long version, String tableId, String fix) {
    DeltaLog log = DeltaLog.forTable(spark, path);
    Snapshot current = log.update(false, Option.empty(), Option.empty());
    long latest = current.version();
    if (version < 0 || version > latest) {
      throw Errors.unreadableVersion(name, path, version,
          "the table has versions 0.." + latest + " only, so it was recreated since that version was recorded", fix);
    }
    Snapshot snapshot;
    try {
      snapshot = snapshotAt(log, version);
    } catch (RuntimeException e) {
      throw Errors.unreadableVersion(name, path, version,
          "its log cannot be read (" + e.getMessage() + "); the log of old versions may have been cleaned up", fix);
    }
    String id = snapshot.metadata().id();
    if (tableId != null && !tableId.equals(id)) {
      throw Errors.unreadableVersion(name, path, version,
          "the table was recreated since that version was recorded (it was Delta table " + tableId + ", now it is "
              + id + "), so the version number names other data",
          fix);
    }
    String gone = missingDataFile(spark, log, snapshot, current);
    if (gone != null) {
      throw Errors.unreadableVersion(name, path, version,
          "its data file " + gone + " no longer exists; VACUUM removed the files of that version", fix);
    }
    try {
      return spark.read().format("delta").option("versionAsOf", version).load(path);
    } catch (RuntimeException e) {
      throw Errors.unreadableVersion(name, path, version, "it cannot be read (" + e.getMessage() + ")", fix);
    }
  }

  /**
   * Delta's id of the table ({@code metadata.id}) as of {@code version}. A table deleted and created again at the
   * same path gets a new id, so a version recorded with its table's id names one table's data: recorded where a
   * version is ({@code monitoring/scoring_manifest}) and checked by
   * {@link #readVersion(SparkSession, String, String, long, String, String)}.
   */
  public static String tableId(SparkSession spark, String path, long version) {
    return snapshotAt(DeltaLog.forTable(spark, path), version).metadata().id();
  }

  private static Snapshot snapshotAt(DeltaLog log, long version) {
    return log.getSnapshotAt(version, Option.empty(), Option.empty());
  }

  /**
   * A data file of {@code snapshot} that no longer exists, or null. The files the {@code current} version also has
   * are there; only the others (removed by later commits, so candidates for VACUUM) are looked up.
   */
  private static String missingDataFile(SparkSession spark, DeltaLog log, Snapshot snapshot, Snapshot current) {
    if (snapshot.version() == current.version()) {
      return null;
    }
    List<String> older =
        snapshot.allFiles().select("path")
            .except(current.allFiles().select("path"))
            .as(Encoders.STRING())
            .collectAsList();
    if (older.isEmpty()) {
      return null;
    }
    Path table = log.dataPath();
    try {
      FileSystem fs = table.getFileSystem(spark.sessionState().newHadoopConf());
      for (String file : older) {
        Path p = new Path(new URI(file));
        Path absolute = p.isAbsolute() ? p : new Path(table, p);
        if (!fs.exists(absolute)) {
          return absolute.toString();
        }
      }
      return null;
    } catch (IOException | URISyntaxException e) {
      throw new NightshiftException("Cannot check the data files of Delta table " + table + ": " + e.getMessage(), e);
    }
  }

  /** The current version of a Delta table. */
  public static long version(SparkSession spark, String path) {
    return DeltaTable.forPath(spark, path).history(1).select("version").head().getLong(0);
  }

  /** Replaces the whole table (data and schema) in one commit. */
  public static void overwrite(Dataset<Row> df, String path, String... partitionColumns) {
    overwriteWith(df, path, Map.of("overwriteSchema", "true"), partitionColumns, "Cannot write Delta table " + path);
  }

  /** Appends {@code df} to the table (creating it) in one commit, with new columns added to its schema. */
  public static void append(Dataset<Row> df, String path) {
    try {
      retryingConflicts(path, () -> df.write().format("delta").mode("append").option("mergeSchema", "true").save(path));
    } catch (Exception e) { // also Spark's AnalysisException (checked in Java, thrown undeclared from Scala)
      throw new NightshiftException("Cannot append to Delta table " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Replaces the rows whose {@code column} equals {@code value} in one transaction; other partitions are untouched.
   * Creates the table (partitioned by {@code column}) if it does not exist. Every row of {@code df} must carry that
   * value.
   */
  public static void replacePartition(Dataset<Row> df, String path, String column, String value) {
    replaceWhere(df, path, partitionPredicate(df.schema(), column, value), column);
  }

  /**
   * {@code column = value} with the value as a literal of the column's type ({@code DATE'2024-12-31'}, not the string
   * {@code '2024-12-31'}). Delta checks every written row against the predicate; against a string literal that check
   * casts the string to the column's type again for each row, which took 7% of a scoring task's time.
   */
  static String partitionPredicate(StructType schema, String column, String value) {
    String name = "`" + column.replace("`", "``") + "`";
    String quoted = "'" + value.replace("'", "''") + "'";
    if (!Arrays.asList(schema.fieldNames()).contains(column)) {
      return name + " = " + quoted; // Delta names the missing column
    }
    DataType type = schema.apply(column).dataType();
    try {
      if (type instanceof DateType) {
        return name + " = DATE'" + LocalDate.parse(value) + "'";
      } else if (type instanceof ByteType || type instanceof ShortType || type instanceof IntegerType
          || type instanceof LongType) {
        return name + " = " + Long.parseLong(value);
      }
    } catch (DateTimeParseException | NumberFormatException e) {
      throw new NightshiftException(
          "Cannot replace partition " + column + " = '" + value + "': the column has type " + type.simpleString()
              + " and '" + value + "' is not a value of it; pass a " + type.simpleString()
              + (type instanceof DateType ? " as yyyy-MM-dd" : ""),
          e);
    }
    return name + " = " + quoted;
  }

  /**
   * Replaces the rows matching {@code predicate} with {@code df} in one transaction (Delta {@code replaceWhere});
   * Delta rejects the write if a row of {@code df} does not match the predicate. New columns are added to the table
   * (older partitions read them as null), so a release that adds an output column keeps writing to existing tables.
   */
  public static void replaceWhere(Dataset<Row> df, String path, String predicate, String... partitionColumns) {
    overwriteWith(
        df, path, Map.of("replaceWhere", predicate, "mergeSchema", "true"), partitionColumns,
        "Cannot replace " + predicate + " in Delta table " + path);
  }

  /** An overwrite-mode Delta write with {@code options}, retried on commit conflicts, failing with {@code what}. */
  private static void overwriteWith(
      Dataset<Row> df, String path, Map<String, String> options, String[] partitionColumns, String what) {
    try {
      retryingConflicts(
          path,
          () -> df.write().format("delta").mode("overwrite").options(options).partitionBy(partitionColumns).save(path));
    } catch (Exception e) { // also Spark's AnalysisException (checked in Java, thrown undeclared from Scala)
      throw new NightshiftException(what + ": " + e.getMessage(), e);
    }
  }

  /**
   * Runs an idempotent write, again from the start when Delta rejects its commit because a concurrent writer
   * committed a conflicting change first ({@code io.delta.exceptions.Concurrent*Exception}, all
   * {@link ConcurrentModificationException}s). Gives up after {@link #CONFLICT_ATTEMPTS} attempts.
   */
  static void retryingConflicts(String path, Runnable write) {
    for (int attempt = 1; ; attempt++) {
      try {
        write.run();
        return;
      } catch (RuntimeException e) {
        ConcurrentModificationException conflict = conflictIn(e);
        if (conflict == null) {
          throw e;
        }
        if (attempt >= CONFLICT_ATTEMPTS) {
          throw new NightshiftException(
              "Another writer kept committing conflicting changes to " + path + " (" + CONFLICT_ATTEMPTS
                  + " attempts; last: " + conflict.getClass().getSimpleName() + "). Run one writer per table and"
                  + " date, then re-run this one; on S3 with writers in several clusters, configure Delta's"
                  + " DynamoDB log store (README, Running on a cluster).",
              e);
        }
        LOG.warn(
            "Delta commit to {} conflicted with a concurrent writer ({}); retrying the write from the latest version"
                + " (attempt {} of {})",
            path, conflict.getClass().getSimpleName(), attempt + 1, CONFLICT_ATTEMPTS);
      }
    }
  }

  private static ConcurrentModificationException conflictIn(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConcurrentModificationException cme) {
        return cme;
      }
    }
    return null;
  }

  /** Fails with an input error naming {@code source} when any of {@code required} is absent. */
  public static void requireColumns(Dataset<Row> df, String source, List<String> required) {
    Set<String> present = new HashSet<>(Arrays.asList(df.columns()));
    List<String> missing = required.stream().filter(c -> !present.contains(c)).toList();
    if (!missing.isEmpty()) {
      throw Errors.missingColumns(source, missing, present);
    }
  }
}
