package io.nightshift.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightshift.featurestore.DeltaTables;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/**
 * A job of its own for {@link ConcurrentCommitsIT}: with a session as Nightshift's jobs make it, waits until all
 * {@code writers} processes are ready, then appends {@code commits} batches of 10 rows (writer, commit, i) to one
 * Delta table, one commit each. Arguments: TABLE WRITER WRITERS COMMITS READY_DIR.
 */
public final class AppendingJob {
  private AppendingJob() {}

  public static void main(String[] args) throws Exception {
    String table = args[0];
    int writer = Integer.parseInt(args[1]);
    int writers = Integer.parseInt(args[2]);
    int commits = Integer.parseInt(args[3]);
    Path ready = Path.of(args[4]);
    SparkSession spark = SparkSessions.create("appending-job-" + writer, "local[1]");
    spark.sparkContext().setLogLevel("WARN");
    DeltaTables.version(spark, table); // Delta loaded and the table's log read before the start line
    Files.createFile(ready.resolve("writer-" + writer));
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (countReady(ready) < writers) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the other writers never became ready in " + ready);
      }
      Thread.sleep(10);
    }
    for (int c = 0; c < commits; c++) {
      DeltaTables.append(
          spark.range(10).select(lit(writer).as("writer"), lit(c).as("commit"), col("id").cast("int").as("i")), table);
    }
    spark.stop();
  }

  private static long countReady(Path ready) throws java.io.IOException {
    try (var files = Files.list(ready)) {
      return files.count();
    }
  }
}
