package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar through the real launcher (bin/nightshift): the shaded jar plus the provided Spark and Delta jars
 * must be a working classpath, and exit codes must reach the shell.
 */
class LauncherIT {
  record Result(int code, String output) {}

  static Result launch(String... args) throws IOException, InterruptedException {
    return launch(java.util.Map.of(), args);
  }

  static Result launch(java.util.Map<String, String> env, String... args) throws IOException, InterruptedException {
    Path root = LocalMlflowServer.projectRoot();
    List<String> cmd = new ArrayList<>(List.of(root.resolve("bin/nightshift").toString()));
    cmd.addAll(List.of(args));
    Path log = SparkTestSession.tempDir("launcher").resolve("out.log");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    // the launcher's default heap, and the C1 compiler only (a short-lived JVM, see ExternalProcess)
    pb.environment().put("NIGHTSHIFT_JAVA_OPTS", "-Xmx4g " + ExternalProcess.SHORT_LIVED_JVM);
    pb.environment().putAll(env);
    Process p = pb.start();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
    return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  @Test
  void versionAndHelpWork() throws Exception {
    // the version is the code's commit: the launcher passes NIGHTSHIFT_GIT_COMMIT, else the checkout's short HEAD
    Result v = launch(java.util.Map.of("NIGHTSHIFT_GIT_COMMIT", "0123abc"), "--version");
    assertThat(v.code()).as(v.output()).isZero();
    assertThat(v.output()).isEqualTo("nightshift 0123abc\n");
    Result help = launch("--help");
    assertThat(help.code()).as(help.output()).isZero();
    assertThat(help.output()).contains("generate").contains("features").contains("train").contains("score");
  }

  @Test
  void generatesAndBuildsFeaturesFromTheShadedJar() throws Exception {
    Path warehouse = SparkTestSession.tempDir("launcher-wh");
    Result gen =
        launch("--warehouse", warehouse.toString(), "generate", "--start", "2024-01-01", "--end", "2024-03-31",
            "--stores", "1", "--items", "2", "--machines", "2");
    assertThat(gen.code()).as(gen.output()).isZero();
    assertThat(gen.output()).contains("generated 182 sales rows");
    Result build = launch("--warehouse", warehouse.toString(), "features", "build", "--as-of", "2024-03-31", "--use-case", "demand");
    assertThat(build.code()).as(build.output()).isZero();
    Path log = warehouse.resolve("features/demand_daily/_delta_log");
    assertThat(log.resolve("00000000000000000000.json")).exists();
    // committed through Nightshift's LocalFileLogStore: Delta's default store leaves Hadoop's ".N.json.crc" beside
    // every commit file
    try (var names = Files.list(log)) {
      assertThat(names.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".json.crc"));
    }
  }

  @Test
  void badInputExitsWithTwo() throws Exception {
    Result r = launch("features", "build", "--as-of", "yesterday");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.output()).contains("Invalid date for --as-of: 'yesterday'");
  }
}
