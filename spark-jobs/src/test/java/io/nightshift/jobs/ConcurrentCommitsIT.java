package io.nightshift.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.featurestore.DeltaTables;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.testing.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Separate processes committing to one local Delta table at the same time, as the jobs of an Airflow backfill do:
 * every commit of every process must be in the table. Delta takes the next version when another process created the
 * one it tried, which relies on the log store creating each commit file exclusively across processes
 * ({@code LocalFileLogStore}). In its runs about half of the commits found their version taken. (It passed with
 * Delta's default store as well: that store's window between checking for the file and renaming over it is narrow.)
 */
class ConcurrentCommitsIT {
  private static final int WRITERS = 3;
  private static final int COMMITS = 12;

  @Test
  void commitsOfConcurrentProcessesAreAllKept() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path dir = SparkTestSession.tempDir("concurrent-commits");
    String table = dir.resolve("t").toString();
    Path ready = Files.createDirectories(dir.resolve("ready"));
    DeltaTables.append( // version 0: the table exists before the writers start
        spark.range(0).select(lit(0).as("writer"), lit(0).as("commit"), col("id").cast("int").as("i")), table);

    Path root = LocalMlflowServer.projectRoot();
    String classpath =
        String.join(
            ":",
            root.resolve("spark-jobs/target/nightshift-jobs.jar").toString(),
            root.resolve("spark-jobs/target/test-classes").toString(),
            Files.readString(root.resolve("spark-jobs/target/provided-classpath.txt")).strip());
    List<CompletableFuture<ExternalProcess.Result>> jobs = new ArrayList<>();
    for (int w = 1; w <= WRITERS; w++) {
      String script =
          "source scripts/java-opts.sh && exec java -Xmx1g " + ExternalProcess.SHORT_LIVED_JVM
              + " \"${SPARK_JAVA17_OPENS[@]}\" -Dlog4j2.configurationFile=conf/log4j2.properties -cp \"$CP\" "
              + AppendingJob.class.getName() + " " + table + " " + w + " " + WRITERS + " " + COMMITS + " " + ready;
      Path log = dir.resolve("writer-" + w + ".log");
      jobs.add(
          CompletableFuture.supplyAsync(
              () -> ExternalProcess.run(log, Map.of("CP", classpath), 300, List.of("/bin/bash", "-c", script))));
    }
    for (CompletableFuture<ExternalProcess.Result> job : jobs) {
      ExternalProcess.Result r = job.get();
      assertThat(r.code()).as(r.output()).isZero();
    }

    List<Row> perCommit =
        spark.read().format("delta").load(table).groupBy("writer", "commit").count().collectAsList();
    assertThat(perCommit).hasSize(WRITERS * COMMITS);
    assertThat(perCommit).allSatisfy(r -> assertThat(r.getLong(2)).isEqualTo(10));
    assertThat(DeltaTables.version(spark, table)).isEqualTo(WRITERS * COMMITS);
  }
}
