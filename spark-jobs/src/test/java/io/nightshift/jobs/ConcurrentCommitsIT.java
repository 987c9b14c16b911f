package io.nightshift.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.testing.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
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

    // committed through Nightshift's LocalFileLogStore: Delta's default store leaves Hadoop's ".N.json.crc" beside
    // every commit file
    Path log = dir.resolve("t/_delta_log");
    try (var names = Files.list(log)) {
      assertThat(names.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".json.crc"));
    }
    // and the writers committed at the same time: versions 1..36 alternate between them, rather than one writer's 12
    // commits after another's (2 changes of writer)
    Map<String, Integer> writerOfFile = new HashMap<>();
    for (Row r : spark.read().format("delta").load(table).select(input_file_name(), col("writer")).distinct()
        .collectAsList()) {
      writerOfFile.put(fileName(r.getString(0)), r.getInt(1));
    }
    List<Integer> writerOfVersion = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (long v = 1; v <= WRITERS * COMMITS; v++) {
      List<Integer> writers = new ArrayList<>();
      for (String line : Files.readAllLines(log.resolve(String.format("%020d.json", v)))) {
        JsonNode add = json.readTree(line).get("add");
        if (add != null) {
          writers.add(writerOfFile.get(fileName(add.get("path").asText())));
        }
      }
      assertThat(writers).as("version %d", v).isNotEmpty().containsOnly(writers.get(0));
      writerOfVersion.add(writers.get(0));
    }
    int changes = 0;
    for (int i = 1; i < writerOfVersion.size(); i++) {
      changes += writerOfVersion.get(i).equals(writerOfVersion.get(i - 1)) ? 0 : 1;
    }
    assertThat(changes).as("writer of versions 1..%d: %s", WRITERS * COMMITS, writerOfVersion)
        .isGreaterThan(WRITERS - 1);
  }

  private static String fileName(String pathOrUri) {
    return pathOrUri.substring(pathOrUri.lastIndexOf('/') + 1);
  }
}
