package io.nightshift.benchmarks;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightshift.core.UseCase;
import io.nightshift.training.ModelSpec;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.OpenMpPools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressionModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressor;
import org.apache.spark.ml.evaluation.RegressionEvaluator;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.regression.GBTRegressionModel;
import org.apache.spark.ml.regression.GBTRegressor;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Training on the same rows and parameters: XGBoost4J-Spark on local[2] ({@code --workers 1}: one worker with 2 threads
 * and {@code spark.task.cpus=2}, the default; {@code --workers 2}: two 1-thread workers joined by allreduce),
 * single-process native xgboost4j (2 threads, in a JVM of its own: {@link NativeTrainingPeer}), and Spark MLlib's
 * GBTRegressor at a few iterations. Reports fit times, their ratios, and the validation RMSE of each (so equal speed is
 * not bought with worse models). Goal: Spark at most 1.25x native.
 */
public final class TrainingBenchmark {
  public static void main(String[] args) throws Exception {
    int cores = 2;
    int workers = BenchmarkData.intArg(args, "--workers", 1);
    if (workers < 1 || cores % workers != 0) {
      throw new IllegalArgumentException("--workers must be 1 or 2 (local[2]); got " + workers);
    }
    int threads = cores / workers; // XGBoost threads per worker = spark.task.cpus
    BenchmarkData data = BenchmarkData.create(args, Map.of("spark.task.cpus", String.valueOf(threads)));
    // As Nightshift's trainer does (see OpenMpPools): idle task-result-getter and task threads exit, and with them the
    // OpenMP pools that loading boosters and training gave them. --spark-defaults measures Spark as it comes.
    boolean sparkDefaults = List.of(args).contains("--spark-defaults");
    boolean released = !sparkDefaults && OpenMpPools.releaseWhenIdle(data.spark);
    ModelSpec spec = ModelSpecs.demand();
    int rounds = BenchmarkData.intArg(args, "--rounds", spec.numRound()); // default: the shipped demand model's
    List<String> features = spec.view().features();
    Dataset<Row> table = data.spark.read().format("delta").load(data.warehouse.features(UseCase.DEMAND));
    Date validFrom = Date.valueOf(data.asOf.minusDays(27));
    List<Column> cols = new ArrayList<>(List.of(col("sales").cast("double").as("label")));
    List<Column> values = new ArrayList<>();
    for (String f : features) {
      Column v = org.apache.spark.sql.functions.coalesce(col(f).cast("double"), lit(Double.NaN));
      cols.add(v.as(f));
      values.add(v);
    }
    cols.add(functions.array_to_vector(org.apache.spark.sql.functions.array(values.toArray(new Column[0]))).as("features"));
    Dataset<Row> labeled = table.where(col("sales").isNotNull());
    Dataset<Row> train = labeled.where(col("date").lt(lit(validFrom))).select(cols.toArray(new Column[0])).repartition(workers).cache(); // one partition per worker: XGBoost4J-Spark reshuffles otherwise
    Dataset<Row> valid = labeled.where(col("date").geq(lit(validFrom))).select(cols.toArray(new Column[0])).cache();
    long trainRows = train.count();
    long validRows = valid.count();
    double baseScore = train.agg(org.apache.spark.sql.functions.avg("label")).head().getDouble(0);

    Map<String, Object> params = new HashMap<>(spec.boosterParams());
    params.put("base_score", baseScore);
    params.put("seed", 42);

    // XGBoost4J-Spark
    XGBoostRegressor est = new XGBoostRegressor();
    est.setFeaturesCol("features");
    est.setLabelCol("label");
    est.setNumWorkers(workers);
    est.setNthread(threads);
    est.setNumRound(rounds);
    est.setMissing(Float.NaN);
    est.setVerbosity(0);
    params.forEach((k, v) -> est.set(est.getParam(k), v));
    RegressionEvaluator rmse = new RegressionEvaluator().setLabelCol("label").setMetricName("rmse");

    // native xgboost4j, same rows, same params, 2 threads: in a JVM of its own each turn (see NativeTrainingPeer for
    // why it cannot share this one), reading the rows from a file this process writes once
    List<Row> trainRowsList = train.select("label", features.toArray(new String[0])).collectAsList();
    List<Row> validRowsList = valid.select("label", features.toArray(new String[0])).collectAsList();
    Path peerData = Files.createTempFile("nightshift-training-benchmark", ".bin");
    peerData.toFile().deleteOnExit();
    NativeTrainingPeer.write(
        peerData,
        new NativeTrainingPeer.Rows(
            features.size(), BenchmarkData.dense(trainRowsList, features, 1), labels(trainRowsList),
            BenchmarkData.dense(validRowsList, features, 1), labels(validRowsList)));
    trainRowsList = null;
    validRowsList = null;
    Map<String, Object> nativeParams = new HashMap<>(params);
    nativeParams.put("nthread", 2);
    nativeParams.put("verbosity", 0);
    List<String> peer = NativeTrainingPeer.command(peerData, rounds, nativeParams);
    // Warm-up: one full fit of XGBoost4J-Spark. The first fit in a JVM also pays for compiling Spark's code paths (the
    // JIT's compiler threads then compete with XGBoost's for the 2 cores); the timed fits below are the steady state
    // of a process that fits many models, as a backtest or a hyperparameter search does. The native peer does its own
    // untimed warm-up fit in each of its JVMs; the Spark one is printed.
    long t0 = System.nanoTime();
    est.fit(train);
    long sparkColdNs = System.nanoTime() - t0;

    // the fits take turns, --repeats times; each reports its median
    int repeats = BenchmarkData.intArg(args, "--repeats", 3);
    long[] sparkNs = new long[repeats];
    long[] matrixNs = new long[repeats];
    long[] nativeNs = new long[repeats];
    long[] watchedNs = new long[repeats];
    double nativeRmse = Double.NaN;
    XGBoostRegressionModel sparkModel = null;
    for (int i = 0; i < repeats; i++) {
      t0 = System.nanoTime();
      sparkModel = est.fit(train);
      sparkNs[i] = System.nanoTime() - t0;
      String[] result = runPeer(peer);
      matrixNs[i] = Long.parseLong(result[1]);
      nativeNs[i] = Long.parseLong(result[2]);
      watchedNs[i] = Long.parseLong(result[3]);
      nativeRmse = Double.parseDouble(result[4]);
    }
    double sparkSeconds = BenchmarkData.seconds(BenchmarkData.median(sparkNs));
    double nativeMatrixSeconds = BenchmarkData.seconds(BenchmarkData.median(matrixNs));
    double nativeSeconds = BenchmarkData.seconds(BenchmarkData.median(nativeNs));
    double nativeWatchedSeconds = BenchmarkData.seconds(BenchmarkData.median(watchedNs));
    double sparkRmse = rmse.evaluate(sparkModel.transform(valid));

    // Spark MLlib GBT at a few iterations (it has no missing-value support: NaN -> 0)
    int gbtIterations = 20;
    Dataset<Row> gbtTrain = train.na().fill(0.0).drop("features");
    Dataset<Row> gbtValid = valid.na().fill(0.0).drop("features");
    org.apache.spark.ml.feature.VectorAssembler asm =
        new org.apache.spark.ml.feature.VectorAssembler().setInputCols(features.toArray(new String[0])).setOutputCol("features");
    Dataset<Row> gbtTrainV = asm.transform(gbtTrain).cache();
    gbtTrainV.count();
    t0 = System.nanoTime();
    GBTRegressionModel gbt = new GBTRegressor().setLabelCol("label").setMaxIter(gbtIterations).setMaxDepth(7).setSeed(42).fit(gbtTrainV);
    double gbtSeconds = BenchmarkData.seconds(System.nanoTime() - t0);
    double gbtRmse = rmse.evaluate(gbt.transform(asm.transform(gbtValid)));

    System.out.println();
    System.out.printf("Training benchmark: %,d training rows, %,d validation rows, %d features, %s (medians of %d fits each)%n",
        trainRows, validRows, features.size(), spec.objective(), repeats);
    System.out.printf("  XGBoost4J-Spark local[2], %d worker(s) x %d thread(s) (spark.task.cpus=%d)  %3d rounds  %7.2f s   valid RMSE %.3f%n",
        workers, threads, threads, rounds, sparkSeconds, sparkRmse);
    System.out.printf("    idle task-result-getter and task threads %s%n",
        released ? "exit after 100 ms (Nightshift's setting, OpenMpPools)" : "kept, with their OpenMP pools (--spark-defaults)");
    System.out.printf("  native xgboost4j 2 threads, own JVM  %3d rounds  %7.2f s (+ %.2f s building its DMatrix from float arrays)   valid RMSE %.3f%n",
        rounds, nativeSeconds, nativeMatrixSeconds, nativeRmse);
    System.out.printf("  native xgboost4j 2 threads, evaluating the training set each round (as XGBoost4J-Spark does)  %7.2f s%n",
        nativeWatchedSeconds);
    System.out.printf("  Spark MLlib GBTRegressor  %3d iters   %7.2f s   valid RMSE %.3f%n", gbtIterations, gbtSeconds, gbtRmse);
    System.out.printf("  ratio XGBoost4J-Spark / native boosting:                  %.2fx (goal <= 1.25x)%n", sparkSeconds / nativeSeconds);
    System.out.printf("  ratio XGBoost4J-Spark / native incl. its DMatrix build:   %.2fx%n", sparkSeconds / (nativeSeconds + nativeMatrixSeconds));
    System.out.printf("  ratio XGBoost4J-Spark / native evaluating the training set each round:   %.2fx%n", sparkSeconds / nativeWatchedSeconds);
    System.out.printf("  XGBoost4J-Spark per-fit cost over native (incl. its DMatrix): %.2f s (Spark job, tracker, rows to DMatrix, slower rounds)%n",
        sparkSeconds - nativeSeconds - nativeMatrixSeconds);
    System.out.printf("  ratio MLlib GBT (%d iters) / native (%d rounds): %.2fx%n", gbtIterations, rounds, gbtSeconds / nativeSeconds);
    System.out.printf("  first fit in this JVM (warm-up, not in the ratios): XGBoost4J-Spark %.2f s%n", BenchmarkData.seconds(sparkColdNs));
    System.out.printf("  runs (s), taking turns: XGBoost4J-Spark %s, native boosting %s%n", BenchmarkData.secondsList(sparkNs), BenchmarkData.secondsList(nativeNs));
    data.spark.stop();
  }

  private static float[] labels(List<Row> rows) {
    float[] y = new float[rows.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = (float) rows.get(i).getDouble(0);
    }
    return y;
  }

  /** Runs one turn of the native peer; its RESULT line split on spaces. */
  private static String[] runPeer(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    int rc = p.waitFor();
    String result = out.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElse(null);
    if (rc != 0 || result == null) {
      throw new IllegalStateException("the native peer failed (exit code " + rc + "): " + String.join(" ", command) + "\n" + out);
    }
    return result.split(" ");
  }
}
