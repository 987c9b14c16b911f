package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.testing.LocalMlflowServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the project's scripts and launchers as separate processes, as a user would, for the integration tests. */
final class ExternalProcess {
  record Result(int code, String output, double seconds) {
    /** The last line of the output (what the start scripts print: a URL). */
    String lastLine() {
      String[] lines = output.strip().split("\n");
      return lines[lines.length - 1].strip();
    }
  }

  /**
   * JVM options for the short-lived Spark JVMs the tests start (spark-submit drivers, executors, bin/nightshift): the
   * C1 compiler only. Each runs a minute at most over small data, mostly cold code (Catalyst, Delta), where the C2
   * compiler spends more CPU compiling than it saves; on the 2-core CI machine this takes about 40% off their CPU
   * time. Production launchers keep the default (tiered) compilation.
   */
  static final String SHORT_LIVED_JVM = "-XX:TieredStopAtLevel=1";

  private ExternalProcess() {}

  /**
   * Runs {@code command} (relative paths resolved against the project root) with extra environment {@code env};
   * stdout and stderr go together to {@code log}. A process still running after {@code timeoutSeconds} is killed and
   * reported as exit code -1.
   */
  static Result run(Path log, Map<String, String> env, int timeoutSeconds, List<String> command) {
    Path root = LocalMlflowServer.projectRoot();
    List<String> cmd = new ArrayList<>(command);
    if (!cmd.get(0).startsWith("/")) {
      cmd.set(0, root.resolve(cmd.get(0)).toString());
    }
    ProcessBuilder pb =
        new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().remove("MLFLOW_TRACKING_URI");
    pb.environment().putAll(env);
    long start = System.nanoTime();
    try {
      Process p = pb.start();
      boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
      if (!done) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      double seconds = (System.nanoTime() - start) / 1e9;
      return new Result(done ? p.exitValue() : -1, done ? out : out + "\n(killed after " + timeoutSeconds + "s)", seconds);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + cmd, e);
    }
  }

  /**
   * Starts a background server with one of the project's start/stop scripts ({@code script start}, its settings in
   * {@code env}, output to {@code logs/start.log}), checks that it printed {@code expectedAddress}, and returns it.
   * The server is also stopped when this JVM ends, in case the test class's own stop never runs.
   */
  static String startServer(String script, Path logs, Map<String, String> env, int timeoutSeconds, String expectedAddress) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stopServer(script, logs, env), "stop " + script));
    Result start = run(logs.resolve("start.log"), env, timeoutSeconds, List.of(script, "start"));
    assertThat(start.code()).as(start.output()).isZero();
    assertThat(start.lastLine()).isEqualTo(expectedAddress);
    return start.lastLine();
  }

  /** Stops a server {@link #startServer} started ({@code script stop}, output to {@code logs/stop.log}). */
  static synchronized void stopServer(String script, Path logs, Map<String, String> env) {
    run(logs.resolve("stop.log"), env, 120, List.of(script, "stop"));
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
