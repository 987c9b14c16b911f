package io.nightshift.featurestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.execution.streaming.CheckpointFileManager;
import org.junit.jupiter.api.Test;

class LocalCheckpointFileManagerTest {
  private final Configuration conf = new Configuration();

  @Test
  void aFileAppearsWholeUnderItsNameWithNothingBesideIt() throws IOException {
    java.nio.file.Path log = SparkTestSession.tempDir("crc");
    Path crc = new Path(log.resolve("00000000000000000004.crc").toUri());
    CheckpointFileManager files = new LocalCheckpointFileManager(new Path(log.toUri()), conf);

    write(files.createAtomic(crc, false), "{\"numFiles\":3}\n");

    assertThat(Files.readString(log.resolve("00000000000000000004.crc"))).isEqualTo("{\"numFiles\":3}\n");
    assertThat(names(log)).containsExactly("00000000000000000004.crc");
    assertThat(files.exists(crc)).isTrue();
  }

  @Test
  void aFileThatExistsIsKeptWhenOverwritingIsNotAllowed() throws IOException {
    java.nio.file.Path log = SparkTestSession.tempDir("crc");
    Path crc = new Path(log.resolve("00000000000000000004.crc").toUri());
    CheckpointFileManager files = new LocalCheckpointFileManager(new Path(log.toUri()), conf);
    write(files.createAtomic(crc, false), "first\n");

    CheckpointFileManager.CancellableFSDataOutputStream second = files.createAtomic(crc, false);
    second.write("second\n".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(second::close) // as from Spark's own managers; Delta then cancels the write
        .isInstanceOf(org.apache.hadoop.fs.FileAlreadyExistsException.class)
        .hasMessageContaining("00000000000000000004.crc");
    second.cancel();

    assertThat(Files.readString(log.resolve("00000000000000000004.crc"))).isEqualTo("first\n");
    assertThat(names(log)).containsExactly("00000000000000000004.crc");
  }

  @Test
  void overwritingReplacesTheFileAndTheChecksumHadoopLeftBesideIt() throws IOException {
    java.nio.file.Path dir = SparkTestSession.tempDir("crc");
    Path file = new Path(dir.resolve("state").toUri());
    FileSystem local = FileSystem.getLocal(conf);
    try (OutputStream out = local.create(file, true)) {
      out.write("old\n".getBytes(StandardCharsets.UTF_8));
    }
    CheckpointFileManager files = new LocalCheckpointFileManager(new Path(dir.toUri()), conf);

    write(files.createAtomic(file, true), "new\n");

    try (var in = local.open(file)) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("new\n");
    }
    assertThat(names(dir)).containsExactly("state");
  }

  @Test
  void anAbandonedFileLeavesNoTrace() throws IOException {
    java.nio.file.Path dir = SparkTestSession.tempDir("crc");
    CheckpointFileManager files = new LocalCheckpointFileManager(new Path(dir.toUri()), conf);
    CheckpointFileManager.CancellableFSDataOutputStream out =
        files.createAtomic(new Path(dir.resolve("00000000000000000001.crc").toUri()), false);
    out.write("half".getBytes(StandardCharsets.UTF_8));

    out.cancel();

    assertThat(names(dir)).isEmpty();
  }

  private static void write(CheckpointFileManager.CancellableFSDataOutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.close();
  }

  /** The names of the files in {@code dir}, sorted (also used by {@link LocalFileLogStoreTest}). */
  static List<String> names(java.nio.file.Path dir) throws IOException {
    try (Stream<java.nio.file.Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
