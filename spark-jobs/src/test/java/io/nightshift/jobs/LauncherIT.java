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
    // the launcher's default heap, and the C1 compiler only (a short-lived JVM, see ExternalProcess)
    java.util.Map<String, String> all =
        new java.util.HashMap<>(java.util.Map.of("NIGHTSHIFT_JAVA_OPTS", "-Xmx4g " + ExternalProcess.SHORT_LIVED_JVM));
    all.putAll(env);
    return run("bin/nightshift", all, args);
  }

  /** {@code script} (relative to the project root) with {@code args}, in the project root, with {@code env} added. */
  static Result run(String script, java.util.Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    Path root = LocalMlflowServer.projectRoot();
    List<String> cmd = new ArrayList<>(List.of(root.resolve(script).toString()));
    cmd.addAll(List.of(args));
    Path log = SparkTestSession.tempDir("launcher").resolve("out.log");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
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

  /**
   * A jar whose main class prints the driver JVM's heap limit and system property {@code probe}, then exits with
   * {@code probe.exit}: what bin/spark-submit gives the driver, seen from inside it.
   */
  static Path probeJar() throws IOException {
    Path dir = SparkTestSession.tempDir("submit-probe");
    Path source = dir.resolve("Probe.java");
    Files.writeString(source, "public class Probe { public static void main(String[] a) {"
        + " System.out.println(\"heap=\" + Runtime.getRuntime().maxMemory() / (1024 * 1024)"
        + " + \" probe=\" + System.getProperty(\"probe\"));"
        + " System.exit(Integer.getInteger(\"probe.exit\", 0)); } }");
    assertThat(javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", dir.toString(),
        source.toString())).isZero();
    Path jar = dir.resolve("probe.jar");
    try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new java.util.jar.JarEntry("Probe.class"));
      out.write(Files.readAllBytes(dir.resolve("Probe.class")));
      out.closeEntry();
    }
    return jar;
  }

  static Result submit(java.util.Map<String, String> env, String... args) throws IOException, InterruptedException {
    return run("bin/spark-submit", env, args);
  }

  @Test
  void sparkSubmitGivesTheDriverItsMemoryAndJavaOptionsAsSparksOwnDoes() throws Exception {
    String jar = probeJar().toString();
    // the default, 1g, as Spark's spark-submit
    Result plain = submit(java.util.Map.of(), "--master", "local[1]", "--class", "Probe", jar);
    assertThat(plain.code()).as(plain.output()).isZero();
    assertThat(plain.output()).contains("heap=1024 probe=null");
    // --driver-memory and --driver-java-options
    Result options = submit(java.util.Map.of(), "--master", "local[1]", "--driver-memory", "1536m",
        "--driver-java-options", "-Dprobe=options", "--class", "Probe", jar);
    assertThat(options.output()).contains("heap=1536 probe=options");
    // spark.driver.memory from the properties file (conf/spark/local.conf: 4g), the environment's Java options
    Result preset = submit(java.util.Map.of("SPARK_SUBMIT_OPTS", "-Dprobe=env"), "--master", "local[1]",
        "--properties-file", "conf/spark/local.conf", "--class", "Probe", jar);
    assertThat(preset.output()).contains("heap=4096 probe=env");
    // the driver's exit code reaches the shell, as for a job's bad input (exit code 2)
    Result exit = submit(java.util.Map.of(), "--master", "local[1]", "--conf", "spark.driver.extraJavaOptions=-Dprobe.exit=2",
        "--class", "Probe", jar);
    assertThat(exit.code()).as(exit.output()).isEqualTo(2);
    // an option spark-submit does not know is its usage error
    Result bad = submit(java.util.Map.of(), "--no-such-option");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.output()).contains("Unrecognized option: --no-such-option");
  }
}
