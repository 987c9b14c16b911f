package io.nightshift.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/**
 * One Delta-enabled local SparkSession per test JVM: {@code local[2]}, loopback driver, UI off, two shuffle
 * partitions (and two file-listing tasks), UTC, queries interpreted rather than compiled. Tests get it through
 * {@link #get()} and never stop it.
 */
public final class SparkTestSession {
  private static final String LOCAL_LOG_STORE = "io.nightshift.featurestore.LocalFileLogStore";
  private static final String LOCAL_FILE_MANAGER = "io.nightshift.featurestore.LocalCheckpointFileManager";
  private static SparkSession session;

  private SparkTestSession() {}

  public static synchronized SparkSession get() {
    if (session == null) {
      Path warehouse = tempDir("spark-warehouse");
      SparkSession.Builder builder =
          SparkSession.builder()
              .master("local[2]")
              .appName("nightshift-tests")
              .config("spark.driver.host", "127.0.0.1")
              .config("spark.driver.bindAddress", "127.0.0.1")
              .config("spark.ui.enabled", "false")
              .config("spark.sql.shuffle.partitions", "2")
              .config("spark.default.parallelism", "2")
              .config("spark.sql.adaptive.enabled", "false")
              .config("spark.sql.session.timeZone", "UTC")
              .config("spark.sql.warehouse.dir", warehouse.toString())
              .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
              .config(
                  "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
              .config("spark.databricks.delta.snapshotPartitions", "1")
              // as SparkSessions sets it for the jobs: partitioned writes keep files open rather than sort rows
              .config("spark.sql.maxConcurrentOutputFileWriters", "4")
              // Delta's VACUUM lists the table's files in this many tasks (default 10000: a minute of empty tasks
              // per VACUUM on a test table)
              .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "2")
              .config("spark.task.cpus", "1")
              // Tests run many small queries once each: generating and compiling Java for each (Janino, then the
              // JIT compiling Janino) costs more than running them interpreted, about 30% of a module's test time.
              // Results are the same either way (Spark tests both paths); the integration tests that start
              // Nightshift's own launchers and the demo keep Spark's defaults.
              .config("spark.sql.codegen.wholeStage", "false")
              .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
              .config("spark.stage.maxConsecutiveAttempts", "1");
      // Delta commits (and writes its checksum files) to file: paths as Nightshift's sessions make it (SparkSessions);
      // both classes live in the feature-store module, on the classpath of every module that writes Delta tables in
      // its tests
      if (onClasspath(LOCAL_LOG_STORE)) {
        builder.config("spark.delta.logStore.file.impl", LOCAL_LOG_STORE);
        builder.config("spark.sql.streaming.checkpointFileManagerClass", LOCAL_FILE_MANAGER);
      }
      session = builder.getOrCreate();
      session.sparkContext().setLogLevel("WARN");
    }
    return session;
  }

  private static boolean onClasspath(String className) {
    try {
      Class.forName(className, false, SparkTestSession.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  /** A fresh directory under the build's temp dir. */
  public static Path tempDir(String prefix) {
    try {
      Path base = Path.of(System.getProperty("java.io.tmpdir"));
      Files.createDirectories(base);
      return Files.createTempDirectory(base, prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
