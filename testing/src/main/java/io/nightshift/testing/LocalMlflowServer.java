package io.nightshift.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real MLflow tracking server (SQLite store, proxied artifacts) on 127.0.0.1 for integration tests, started through
 * the project's own {@code scripts/mlflow.sh} (which creates the Python virtual environment on first use).
 *
 * <p>If {@code MLFLOW_TRACKING_URI} is set, that server is used instead and nothing is started. A server this class
 * starts is shared by all tests of the JVM and stopped by a shutdown hook; {@link #dedicated()} starts one for a single
 * test class.
 */
public final class LocalMlflowServer {
  private static String trackingUri;

  private LocalMlflowServer() {}

  /** The tracking URI of a running server, starting one if needed. */
  public static synchronized String trackingUri() {
    if (trackingUri != null) {
      return trackingUri;
    }
    String fromEnv = System.getenv("MLFLOW_TRACKING_URI");
    if (fromEnv != null && !fromEnv.isBlank()) {
      trackingUri = fromEnv;
      return trackingUri;
    }
    trackingUri = start();
    return trackingUri;
  }

  /**
   * A server of its own, for a test that asserts on registry state from scratch (model version 1, no champion yet)
   * and so must not see the models other test classes of the JVM registered, whichever order they run in. Always
   * started here, even when {@code MLFLOW_TRACKING_URI} is set; stopped by a shutdown hook.
   */
  public static String dedicated() {
    return start();
  }

  private static String start() {
    Path root = projectRoot();
    // a space in the data directory's path: the tests cover the quoting of scripts/mlflow.sh's server arguments
    Path home = SparkTestSession.tempDir("mlflow it ");
    int port = freePort();
    run(root, home, port, "start", 300);
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> run(root, home, port, "stop", 60), "mlflow-stop"));
    return "http://127.0.0.1:" + port;
  }

  /** The repository root, passed by the build as {@code -Dnightshift.root}. */
  public static Path projectRoot() {
    String root = System.getProperty("nightshift.root");
    if (root == null) {
      throw new IllegalStateException(
          "System property nightshift.root is not set; run the tests through Maven (bin/test)");
    }
    return Path.of(root);
  }

  private static void run(Path root, Path home, int port, String action, int timeoutSeconds) {
    Path log = home.resolve("mlflow-script-" + action + ".log");
    ProcessBuilder pb =
        new ProcessBuilder("bash", root.resolve("scripts/mlflow.sh").toString(), action)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("NIGHTSHIFT_MLFLOW_HOME", home.toString());
    pb.environment().put("NIGHTSHIFT_MLFLOW_PORT", Integer.toString(port));
    try {
      Process p = pb.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "scripts/mlflow.sh " + action + " timed out after " + timeoutSeconds + "s: " + read(log));
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "scripts/mlflow.sh " + action + " failed (exit " + p.exitValue() + "): " + read(log));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running scripts/mlflow.sh " + action, e);
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
