package io.nightshift.featurestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.exceptions.ConcurrentAppendException;
import io.nightshift.core.NightshiftException;
import io.nightshift.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

class DeltaTablesTest {
  @Test
  void conflictingCommitsAreRetriedUntilOneGoesThrough() {
    AtomicInteger calls = new AtomicInteger();
    DeltaTables.retryingConflicts(
        "/t",
        () -> {
          if (calls.incrementAndGet() < 3) {
            throw new ConcurrentAppendException("Files were added to partition [date=2024-01-01] by a concurrent update");
          }
        });
    assertThat(calls).hasValue(3);
  }

  @Test
  void aConflictFoundInTheCauseChainCountsToo() {
    AtomicInteger calls = new AtomicInteger();
    DeltaTables.retryingConflicts(
        "/t",
        () -> {
          if (calls.incrementAndGet() == 1) {
            throw new RuntimeException("wrapped", new java.util.ConcurrentModificationException("conflict"));
          }
        });
    assertThat(calls).hasValue(2);
  }

  @Test
  void persistentConflictsGiveUpWithAMessageNamingTheTable() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(
            () ->
                DeltaTables.retryingConflicts(
                    "s3a://b/wh/predictions/demand",
                    () -> {
                      calls.incrementAndGet();
                      throw new ConcurrentAppendException("conflict");
                    }))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("s3a://b/wh/predictions/demand")
        .hasMessageContaining("4 attempts")
        .hasMessageContaining("ConcurrentAppendException")
        .hasMessageContaining("DynamoDB log store");
    assertThat(calls).hasValue(DeltaTables.CONFLICT_ATTEMPTS);
  }

  @Test
  void otherErrorsAreNotRetried() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(
            () ->
                DeltaTables.retryingConflicts(
                    "/t",
                    () -> {
                      calls.incrementAndGet();
                      throw new IllegalStateException("disk full");
                    }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("disk full");
    assertThat(calls).hasValue(1);
  }

  /** Partition "day" of a table, filled by writer {@code writer}: rows (day, writer, i) for i in [0, rows). */
  static Dataset<Row> rows(SparkSession spark, String day, int writer, int rows) {
    return spark.range(rows)
        .select(
            functions.lit(day).as("day"),
            functions.lit(writer).as("writer"),
            functions.col("id").cast("int").as("i"));
  }

  @Test
  void concurrentWritersOfOnePartitionLeaveOneWholeVersionAndOthersUntouched() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String path = SparkTestSession.tempDir("delta-concurrent").resolve("t").toString();
    DeltaTables.replacePartition(rows(spark, "2024-01-01", 0, 5), path, "day", "2024-01-01");

    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Void>> writes = new ArrayList<>();
      for (int w = 1; w <= 3; w++) {
        int writer = w;
        // three writers replace the same night, one writes another night
        writes.add(() -> {
          DeltaTables.replacePartition(rows(spark, "2024-01-02", writer, 10 * writer), path, "day", "2024-01-02");
          return null;
        });
      }
      writes.add(() -> {
        DeltaTables.replacePartition(rows(spark, "2024-01-03", 9, 7), path, "day", "2024-01-03");
        return null;
      });
      for (Future<Void> f : pool.invokeAll(writes)) {
        f.get(); // every writer finished without error
      }
    } finally {
      pool.shutdown();
    }

    Dataset<Row> table = spark.read().format("delta").load(path);
    // the untouched night and the other concurrent night are intact
    assertThat(table.where("day = '2024-01-01'").count()).isEqualTo(5);
    assertThat(table.where("day = '2024-01-03' AND writer = 9").count()).isEqualTo(7);
    // the contested night holds exactly one writer's complete output, never a mix or a duplicate
    List<Row> contested = table.where("day = '2024-01-02'").groupBy("writer").count().collectAsList();
    assertThat(contested).hasSize(1);
    int winner = contested.get(0).getInt(0);
    assertThat(winner).isBetween(1, 3);
    assertThat(contested.get(0).getLong(1)).isEqualTo(10L * winner);
    assertThat(table.where("day = '2024-01-02'").select("i").distinct().count()).isEqualTo(10L * winner);
  }
}
