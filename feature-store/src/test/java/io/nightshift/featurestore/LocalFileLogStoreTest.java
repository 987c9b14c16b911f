package io.nightshift.featurestore;

import static io.nightshift.featurestore.LocalCheckpointFileManagerTest.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.storage.CloseableIterator;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class LocalFileLogStoreTest {
  private final Configuration conf = new Configuration();

  @Test
  void aCommitFileHoldsOneLinePerActionAndNoTemporaryFileRemains() throws IOException {
    java.nio.file.Path log = SparkTestSession.tempDir("log").resolve("_delta_log");
    Path commit = new Path(log.resolve("00000000000000000000.json").toUri());
    new LocalFileLogStore(conf).write(commit, List.of("{\"a\":1}", "{\"b\":2}").iterator(), false, conf);

    assertThat(Files.readString(log.resolve("00000000000000000000.json"))).isEqualTo("{\"a\":1}\n{\"b\":2}\n");
    assertThat(names(log)).containsExactly("00000000000000000000.json");
    try (CloseableIterator<String> lines = new LocalFileLogStore(conf).read(commit, conf)) {
      assertThat(lines).toIterable().containsExactly("{\"a\":1}", "{\"b\":2}");
    }
  }

  @Test
  void anExistingCommitIsNeverReplaced() throws IOException {
    java.nio.file.Path log = SparkTestSession.tempDir("log");
    Path commit = new Path(log.resolve("00000000000000000007.json").toUri());
    LocalFileLogStore store = new LocalFileLogStore(conf);
    store.write(commit, List.of("first").iterator(), false, conf);

    assertThatThrownBy(() -> store.write(commit, List.of("second").iterator(), false, conf))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining("00000000000000000007.json");
    assertThat(Files.readString(log.resolve("00000000000000000007.json"))).isEqualTo("first\n");
    assertThat(names(log)).containsExactly("00000000000000000007.json");
  }

  @Test
  void ofWritersRacingForOneVersionExactlyOneWinsAndItsCommitIsTheFile() throws Exception {
    int writers = 6;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      for (int round = 0; round < 25; round++) {
        java.nio.file.Path log = SparkTestSession.tempDir("race");
        Path commit = new Path(log.resolve("00000000000000000003.json").toUri());
        CyclicBarrier start = new CyclicBarrier(writers);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
          String action = "{\"writer\":" + w + "}";
          LocalFileLogStore store = new LocalFileLogStore(conf); // one store per writer, as separate jobs have
          results.add(
              pool.submit(
                  () -> {
                    start.await();
                    try {
                      store.write(commit, List.of(action).iterator(), false, conf);
                      return true;
                    } catch (FileAlreadyExistsException e) {
                      return false;
                    }
                  }));
        }
        List<Integer> winners = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
          if (results.get(w).get()) {
            winners.add(w);
          }
        }
        assertThat(winners).as("writers whose commit of version 3 succeeded, round %d", round).hasSize(1);
        assertThat(Files.readString(log.resolve("00000000000000000003.json")))
            .isEqualTo("{\"writer\":" + winners.get(0) + "}\n");
        assertThat(names(log)).containsExactly("00000000000000000003.json");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void overwritingReplacesTheFileAndDropsTheChecksumHadoopLeftBesideIt() throws IOException {
    java.nio.file.Path log = SparkTestSession.tempDir("log");
    Path last = new Path(log.resolve("_last_checkpoint").toUri());
    FileSystem local = FileSystem.getLocal(conf); // writes ._last_checkpoint.crc and verifies reads against it
    try (OutputStream out = local.create(last, true)) {
      out.write("{\"version\":10}\n".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(log.resolve("._last_checkpoint.crc")).exists();

    new LocalFileLogStore(conf).write(last, List.of("{\"version\":20,\"size\":3}").iterator(), true, conf);

    assertThat(log.resolve("._last_checkpoint.crc")).doesNotExist();
    try (var in = local.open(last)) { // no ChecksumException against the old checksum
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("{\"version\":20,\"size\":3}\n");
    }
    assertThat(names(log)).containsExactly("_last_checkpoint");
  }

  @Test
  void nightshiftSessionsCommitDeltaTablesAndWriteTheirChecksumsThroughIt() throws IOException {
    SparkSession spark = SparkTestSession.get();
    String table = SparkTestSession.tempDir("table").resolve("t").toString();
    for (int i = 0; i < 11; i++) { // past Delta's checkpoint interval: _last_checkpoint is written too
      DeltaTables.append(spark.range(i * 10L, i * 10L + 10).toDF("id"), table);
    }

    assertThat(spark.read().format("delta").load(table).count()).isEqualTo(110);
    assertThat(DeltaTables.version(spark, table)).isEqualTo(10);
    java.nio.file.Path logDir = java.nio.file.Path.of(table, "_delta_log");
    assertThat(logDir.resolve("_last_checkpoint")).exists();
    // commits and checksum files written through Hadoop's local file system would each have a ".NAME.crc" beside
    // them (the checkpoint, which Spark's Parquet writer writes, still has one)
    assertThat(names(logDir)).filteredOn(n -> n.endsWith(".json")).hasSize(11);
    assertThat(names(logDir)).filteredOn(n -> n.matches("\\d{20}\\.crc")).hasSize(11); // Delta's checksum files
    assertThat(names(logDir)).noneMatch(n -> n.endsWith(".json.crc") || n.endsWith(".crc.crc") || n.endsWith(".tmp"));
  }
}
