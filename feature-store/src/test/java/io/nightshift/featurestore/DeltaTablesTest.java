package io.nightshift.featurestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.exceptions.ConcurrentAppendException;
import io.nightshift.core.NightshiftException;
import io.nightshift.testing.ConcurrentWriters;
import io.nightshift.testing.SparkTestSession;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
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

  @Test
  void concurrentWritersOfOnePartitionLeaveOneWholeVersionAndOthersUntouched() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String path = SparkTestSession.tempDir("delta-concurrent").resolve("t").toString();
    ConcurrentWriters.runAndCheck(spark, path, (rows, day) -> DeltaTables.replacePartition(rows, path, "day", day));
    // one commit per write: the first day and the four concurrent ones (a retried write commits once)
    assertThat(DeltaTables.version(spark, path)).isEqualTo(4L);
  }

  @Test
  void aTaskWritingMorePartitionsThanOpenWritersStillWritesEveryRowToItsPartition() {
    SparkSession spark = SparkTestSession.get();
    assertThat(spark.conf().get("spark.sql.maxConcurrentOutputFileWriters")).isEqualTo("4");
    String path = SparkTestSession.tempDir("delta-writers").resolve("t").toString();
    // one task, 7 days interleaved row by row: 4 open files, then Spark sorts the rest of the task's rows
    Dataset<Row> rows = spark.range(0, 700).selectExpr("id", "cast(id % 7 as string) as day").coalesce(1);
    DeltaTables.overwrite(rows, path, "day");
    DeltaTables.replacePartition(
        spark.range(0, 3).selectExpr("id + 1000 as id", "'5' as day").coalesce(1), path, "day", "5");

    List<Row> counts =
        spark.read().format("delta").load(path).groupBy("day").count().orderBy("day").collectAsList();
    assertThat(counts).extracting(r -> r.getString(0) + "=" + r.getLong(1))
        .containsExactly("0=100", "1=100", "2=100", "3=100", "4=100", "5=3", "6=100");
    assertThat(spark.read().format("delta").load(path).where("day = '6'").selectExpr("sum(id)").first().getLong(0))
        .isEqualTo(java.util.stream.LongStream.range(0, 700).filter(i -> i % 7 == 6).sum());
  }

  @Test
  void aPartitionValueIsALiteralOfTheColumnsType() {
    StructType schema =
        new StructType().add("score_date", DataTypes.DateType).add("store", DataTypes.IntegerType)
            .add("day", DataTypes.StringType);
    assertThat(DeltaTables.partitionPredicate(schema, "score_date", "2024-12-31"))
        .isEqualTo("`score_date` = DATE'2024-12-31'");
    assertThat(DeltaTables.partitionPredicate(schema, "store", "7")).isEqualTo("`store` = 7");
    assertThat(DeltaTables.partitionPredicate(schema, "day", "it's")).isEqualTo("`day` = 'it''s'");
    assertThatThrownBy(() -> DeltaTables.partitionPredicate(schema, "score_date", "2024-13-01"))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("score_date = '2024-13-01'").hasMessageContaining("pass a date as yyyy-MM-dd");
    assertThatThrownBy(() -> DeltaTables.partitionPredicate(schema, "store", "seven"))
        .isInstanceOf(NightshiftException.class).hasMessageContaining("store = 'seven'").hasMessageContaining("int");
  }

  @Test
  void aDatePartitionIsReplacedAloneAndARowOfAnotherDateRejectsTheWholeWrite() {
    SparkSession spark = SparkTestSession.get();
    String path = SparkTestSession.tempDir("delta-dates").resolve("t").toString();
    Dataset<Row> nights =
        spark.range(0, 30).selectExpr("id", "date_add(DATE'2024-12-30', cast(id % 3 as int)) as score_date");
    DeltaTables.overwrite(nights, path, "score_date");
    DeltaTables.replacePartition(
        spark.range(0, 2).selectExpr("id + 100 as id", "DATE'2024-12-31' as score_date"), path, "score_date",
        "2024-12-31");
    Dataset<Row> table = spark.read().format("delta").load(path);
    assertThat(table.groupBy("score_date").count().orderBy("score_date").collectAsList())
        .extracting(r -> r.get(0) + "=" + r.getLong(1))
        .containsExactly("2024-12-30=10", "2024-12-31=2", "2025-01-01=10");
    long version = DeltaTables.version(spark, path);

    Dataset<Row> stray =
        spark.range(0, 2).selectExpr("id + 200 as id", "date_add(DATE'2024-12-31', cast(id as int)) as score_date");
    assertThatThrownBy(() -> DeltaTables.replacePartition(stray, path, "score_date", "2024-12-31"))
        .isInstanceOf(NightshiftException.class)
        .hasMessageContaining("Cannot replace `score_date` = DATE'2024-12-31' in Delta table " + path)
        .hasMessageContaining("violated by row");
    assertThat(DeltaTables.version(spark, path)).isEqualTo(version);
    assertThat(spark.read().format("delta").load(path).where("score_date = DATE'2024-12-31'")
        .selectExpr("sum(id)").first().getLong(0)).isEqualTo(201L);
  }
}
