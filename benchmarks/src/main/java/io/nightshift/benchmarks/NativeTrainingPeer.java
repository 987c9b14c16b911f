package io.nightshift.benchmarks;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;

/**
 * The training benchmark's native peer, a process of its own: plain xgboost4j, no Spark, the same rows and params.
 *
 * <p>It runs apart from the Spark JVM because libgomp (XGBoost's OpenMP runtime) keeps the worker threads of every
 * thread that ever ran a parallel region, process-wide, and once there are more of them than CPUs every waiting
 * thread spins only briefly before it sleeps. In the Spark JVM the driver (which deserializes each trained booster)
 * and the task threads each hold such a pool, so on a 2-core machine native fits there ran 10-20% slower than in a
 * process of their own (4.5 s alone against 5.0-5.5 s after a few Spark fits, same rows): not the peer a
 * single-process xgboost4j user has.
 *
 * <p>Usage: {@code NativeTrainingPeer DATA_FILE ROUNDS key=value...}. DATA_FILE is written by {@link #write}. One
 * warm-up fit, then a timed fit, then a timed fit that also evaluates the training set each round (as XGBoost4J-Spark
 * does); the last line is {@code RESULT matrixNs fitNs watchedFitNs validRmse}.
 */
public final class NativeTrainingPeer {
  private NativeTrainingPeer() {}

  /** Training and validation rows: dense row-major features (NaN = missing) and labels. */
  record Rows(int features, float[] train, float[] trainLabels, float[] valid, float[] validLabels) {}

  static void write(Path file, Rows rows) throws IOException {
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 20))) {
      out.writeInt(rows.features());
      for (float[] a : List.of(rows.train(), rows.trainLabels(), rows.valid(), rows.validLabels())) {
        out.writeInt(a.length);
        for (float v : a) {
          out.writeFloat(v);
        }
      }
    }
  }

  static Rows read(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
      int features = in.readInt();
      float[][] arrays = new float[4][];
      for (int k = 0; k < 4; k++) {
        arrays[k] = new float[in.readInt()];
        for (int i = 0; i < arrays[k].length; i++) {
          arrays[k][i] = in.readFloat();
        }
      }
      return new Rows(features, arrays[0], arrays[1], arrays[2], arrays[3]);
    }
  }

  /** The command line that runs one turn of the peer in a JVM of its own, on this JVM's class path. */
  static List<String> command(Path data, int rounds, Map<String, Object> params) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx2g");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(NativeTrainingPeer.class.getName());
    cmd.add(data.toString());
    cmd.add(String.valueOf(rounds));
    params.forEach((k, v) -> cmd.add(k + "=" + v));
    return cmd;
  }

  public static void main(String[] args) throws Exception {
    Rows rows = read(Path.of(args[0]));
    int rounds = Integer.parseInt(args[1]);
    Map<String, Object> params = new HashMap<>();
    for (int i = 2; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      params.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    int d = rows.features();
    DMatrix valid = new DMatrix(rows.valid(), rows.validLabels().length, d, Float.NaN);
    XGBoost.train(matrix(rows, d), params, rounds, Map.of(), null, null); // warm-up
    long t0 = System.nanoTime();
    DMatrix train = matrix(rows, d);
    long matrixNs = System.nanoTime() - t0;
    t0 = System.nanoTime();
    Booster model = XGBoost.train(train, params, rounds, Map.of(), null, null);
    long fitNs = System.nanoTime() - t0;
    t0 = System.nanoTime();
    XGBoost.train(train, params, rounds, Map.of("train", train), null, null);
    long watchedNs = System.nanoTime() - t0;
    float[][] pred = model.predict(valid);
    double se = 0;
    for (int i = 0; i < pred.length; i++) {
      double e = pred[i][0] - rows.validLabels()[i];
      se += e * e;
    }
    System.out.printf(Locale.ROOT, "RESULT %d %d %d %.6f%n", matrixNs, fitNs, watchedNs, Math.sqrt(se / pred.length));
  }

  private static DMatrix matrix(Rows rows, int d) throws Exception {
    DMatrix m = new DMatrix(rows.train(), rows.trainLabels().length, d, Float.NaN);
    m.setLabel(rows.trainLabels());
    return m;
  }
}
