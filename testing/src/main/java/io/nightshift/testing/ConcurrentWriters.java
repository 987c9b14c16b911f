package io.nightshift.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * A concurrent-writer scenario for one Delta table partitioned by {@code day}, run against whatever storage the
 * path is on: day 2024-01-01 is written first (5 rows), then three writers replace 2024-01-02 at the same time
 * (writer w writes 10 * w rows) while a fourth writes 2024-01-03 (7 rows). Afterwards the untouched and the
 * uncontested days must be intact and the contested day must hold exactly one writer's complete output.
 */
public final class ConcurrentWriters {
  /** Replaces one day of the table with {@code rows} (the code under test, e.g. DeltaTables.replacePartition). */
  public interface DayWriter {
    void replace(Dataset<Row> rows, String day);
  }

  private ConcurrentWriters() {}

  /** Rows (day, writer, i) for i in [0, n). */
  public static Dataset<Row> rows(SparkSession spark, String day, int writer, int n) {
    return spark.range(n)
        .select(
            functions.lit(day).as("day"),
            functions.lit(writer).as("writer"),
            functions.col("id").cast("int").as("i"));
  }

  /** Runs the scenario, checks the table and returns the writer whose output holds the contested day. */
  public static int runAndCheck(SparkSession spark, String path, DayWriter writer) throws Exception {
    writer.replace(rows(spark, "2024-01-01", 0, 5), "2024-01-01");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Void>> writes = new ArrayList<>();
      for (int w = 1; w <= 3; w++) {
        int id = w;
        writes.add(() -> {
          writer.replace(rows(spark, "2024-01-02", id, 10 * id), "2024-01-02");
          return null;
        });
      }
      writes.add(() -> {
        writer.replace(rows(spark, "2024-01-03", 9, 7), "2024-01-03");
        return null;
      });
      for (Future<Void> f : pool.invokeAll(writes)) {
        f.get(); // every writer finished without error
      }
    } finally {
      pool.shutdown();
    }
    Dataset<Row> table = spark.read().format("delta").load(path);
    assertThat(table.where("day = '2024-01-01'").count()).isEqualTo(5L);
    assertThat(table.where("day = '2024-01-03' AND writer = 9").count()).isEqualTo(7L);
    List<Row> contested = table.where("day = '2024-01-02'").groupBy("writer").count().collectAsList();
    assertThat(contested).as("one writer's complete output, never a mix").hasSize(1);
    int winner = contested.get(0).getInt(0);
    assertThat(winner).isBetween(1, 3);
    assertThat(contested.get(0).getLong(1)).isEqualTo(10L * winner);
    assertThat(table.where("day = '2024-01-02'").select("i").distinct().count()).isEqualTo(10L * winner);
    return winner;
  }
}
