package io.nightshift.benchmarks;

import static io.nightshift.benchmarks.BenchmarkData.median;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.nightshift.core.UseCase;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.training.ModelSpec;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.TrainedModel;
import io.nightshift.training.XGBoostTrainer;
import io.nightshift.training.predict.NativePredictor;
import java.io.File;
import java.sql.Date;
import java.util.ArrayList;
import java.util.List;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.apache.commons.io.FileUtils;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Batch scoring throughput, Delta to Delta through Nightshift's batched native predictor on local[2], against the
 * native Booster.predict on the same rows already in memory (2 threads): the peer does no I/O and no Spark work, so
 * the ratio is what the pipeline costs on top of pure prediction. The predictions replace one {@code score_date}
 * partition in one transaction, as the score job writes a night. Goal: at least 0.7x. Nightshift and the native
 * peers take turns ({@code --repeats}, default 5, after {@code --warmups}, default 3) and each reports its median, so
 * a slow spell of a shared machine does not land on one side only.
 */
public final class ScoringBenchmark {
  public static void main(String[] args) throws Exception {
    BenchmarkData data = BenchmarkData.create(args);
    String path = data.warehouse.features(UseCase.DEMAND);
    ModelSpec base = ModelSpecs.demand();
    int rounds = BenchmarkData.intArg(args, "--rounds", base.numRound()); // default: the shipped demand model's
    ModelSpec spec = new ModelSpec(base.modelName(), base.task(), base.view(), base.boosterParams(), rounds, 28, 0, 42);
    TrainedModel model = XGBoostTrainer.train(data.spark, data.spark.read().format("delta").load(path), spec, data.asOf);
    List<String> features = spec.view().features();
    List<Column> cols = new ArrayList<>(List.of(col("store"), col("item"), col("date")));
    features.forEach(f -> cols.add(col(f).cast("double")));
    String out = data.warehouse.path("benchmark/night_predictions");
    String writeOnly = data.warehouse.path("benchmark/night_predictions_write");
    String smallWrite = data.warehouse.path("benchmark/night_predictions_small");
    for (String table : List.of(out, writeOnly, smallWrite)) { // each run starts from no table, as the first night does
      FileUtils.deleteDirectory(new File(table));
    }
    // written as the score job writes a night: the score_date partition replaced in one transaction
    Column scoreDate = lit(Date.valueOf(data.asOf)).as("score_date");
    String night = data.asOf.toString();

    Runnable nightshift =
        () -> {
          Dataset<Row> input = data.spark.read().format("delta").load(path).select(cols.toArray(new Column[0]));
          Dataset<Row> predicted = NativePredictor.predict(input, 3, features.size(), model.booster());
          DeltaTables.replacePartition(predicted.select(col("*"), scoreDate), out, "score_date", night);
        };
    // the same, with the predictor reading the scan's rows instead of its column vectors (what the columnar input saves)
    Runnable nightshiftRows =
        () -> {
          data.spark.conf().set(NativePredictor.COLUMNAR_INPUT, "false");
          try {
            nightshift.run();
          } finally {
            data.spark.conf().unset(NativePredictor.COLUMNAR_INPUT);
          }
        };
    int repeats = BenchmarkData.intArg(args, "--repeats", 5);

    // where Delta->Delta time goes: the engine on cached rows into a no-op sink, the scan alone, the write alone
    Dataset<Row> cached = data.spark.read().format("delta").load(path).select(cols.toArray(new Column[0])).cache();
    cached.count();
    Runnable engine =
        () -> NativePredictor.predict(cached, 3, features.size(), model.booster()).write().format("noop").mode("overwrite").save();
    Runnable scan =
        () -> data.spark.read().format("delta").load(path).select(cols.toArray(new Column[0])).write().format("noop").mode("overwrite").save();
    Dataset<Row> computed =
        NativePredictor.predict(cached, 3, features.size(), model.booster()).select(col("*"), scoreDate).cache();
    computed.count();
    Runnable write =
        () -> DeltaTables.replacePartition(computed, writeOnly, "score_date", night);
    // the same write of 1,000 rows: what every write costs whatever its size
    Dataset<Row> few = computed.limit(1000).cache();
    few.count();
    Runnable fixed = () -> DeltaTables.replacePartition(few, smallWrite, "score_date", night);

    // the peer's input: the same rows as one dense float array (the collected rows are dropped before any timing)
    float[] dense;
    int n;
    {
      List<Row> rows =
          data.spark.read().format("delta").load(path).select(cols.toArray(new Column[0])).collectAsList();
      dense = BenchmarkData.dense(rows, features, 3);
      n = rows.size();
    }
    Booster booster = XGBoost.loadModel(model.booster());
    booster.setParam("nthread", 2);
    Runnable inplace =
        () -> {
          try {
            booster.inplace_predict(dense, n, features.size(), Float.NaN);
          } catch (XGBoostError e) {
            throw new IllegalStateException(e);
          }
        };
    long[] matrixTimes = new long[2]; // DMatrix build, then predict
    Runnable withMatrix =
        () -> {
          try {
            long t0 = System.nanoTime();
            DMatrix m = new DMatrix(dense, n, features.size(), Float.NaN);
            long t1 = System.nanoTime();
            booster.predict(m);
            matrixTimes[0] = t1 - t0;
            matrixTimes[1] = System.nanoTime() - t1;
            m.dispose();
          } catch (XGBoostError e) {
            throw new IllegalStateException(e);
          }
        };
    // warm-ups (the JIT keeps compiling Spark's and Delta's paths over the first runs: one warm-up left the first
    // timed run the slowest), then all take turns so that a slow spell of the machine hits all of them alike
    int warmups = BenchmarkData.intArg(args, "--warmups", 3);
    for (int w = 0; w < warmups; w++) {
      for (Runnable r : List.of(nightshift, nightshiftRows, engine, scan, write, fixed, inplace, withMatrix)) {
        r.run();
      }
    }
    long[] ns = new long[repeats];
    long[] rowsNs = new long[repeats];
    long[] engineRuns = new long[repeats];
    long[] scanRuns = new long[repeats];
    long[] writeRuns = new long[repeats];
    long[] fixedRuns = new long[repeats];
    long[] inplaceNs = new long[repeats];
    long[] nativeNs = new long[repeats];
    long[] nativeWithMatrixNs = new long[repeats];
    for (int i = 0; i < repeats; i++) {
      if (i % 2 == 0) { // the two inputs take turns going first
        ns[i] = BenchmarkData.time(nightshift);
        rowsNs[i] = BenchmarkData.time(nightshiftRows);
      } else {
        rowsNs[i] = BenchmarkData.time(nightshiftRows);
        ns[i] = BenchmarkData.time(nightshift);
      }
      engineRuns[i] = BenchmarkData.time(engine);
      scanRuns[i] = BenchmarkData.time(scan);
      writeRuns[i] = BenchmarkData.time(write);
      fixedRuns[i] = BenchmarkData.time(fixed);
      inplaceNs[i] = BenchmarkData.time(inplace);
      withMatrix.run();
      nativeNs[i] = matrixTimes[1];
      nativeWithMatrixNs[i] = matrixTimes[0] + matrixTimes[1];
    }
    few.unpersist(true);
    computed.unpersist(true);
    cached.unpersist(true);
    long engineNs = median(engineRuns);
    long scanNs = median(scanRuns);
    long writeNs = median(writeRuns);
    long fixedNs = median(fixedRuns);
    double nsRate = n / BenchmarkData.seconds(median(ns));
    // the goal's peer is the faster of the two native APIs on the same in-memory rows
    long bestNativeNs = Math.min(median(nativeNs), median(inplaceNs));
    double nativeRate = n / BenchmarkData.seconds(bestNativeNs);
    double nativeMatrixRate = n / BenchmarkData.seconds(median(nativeWithMatrixNs));
    long written = data.spark.read().format("delta").load(out).count();
    int trees = spec.numRound();
    System.out.println();
    System.out.printf("Scoring benchmark: %,d rows x %d features, %d trees (local[2] vs native, 2 threads)%n", n, features.size(), trees);
    System.out.printf("  nightshift Delta->Delta                %5.2f s  %,12.0f rows/s  (%,d rows written)%n", BenchmarkData.seconds(median(ns)), nsRate, written);
    System.out.printf("  the same, reading the scan as rows      %5.2f s  (columnar input saves %.0f%%)%n",
        BenchmarkData.seconds(median(rowsNs)), 100.0 * (1 - (double) median(ns) / median(rowsNs)));
    double engineRate = n / BenchmarkData.seconds(engineNs);
    System.out.printf("  nightshift engine (cached, no-op sink) %5.2f s  %,12.0f rows/s%n", BenchmarkData.seconds(engineNs), engineRate);
    System.out.printf("    of which: Delta scan alone %.2f s, Delta write of computed predictions %.2f s%n",
        BenchmarkData.seconds(scanNs), BenchmarkData.seconds(writeNs));
    System.out.printf("    the same Delta write of 1,000 rows (its cost whatever the size)  %.2f s%n", BenchmarkData.seconds(fixedNs));
    System.out.printf("  native Booster.predict(DMatrix)        %5.2f s  %,12.0f rows/s%n", BenchmarkData.seconds(median(nativeNs)), n / BenchmarkData.seconds(median(nativeNs)));
    System.out.printf("  native Booster.inplace_predict         %5.2f s  %,12.0f rows/s%n", BenchmarkData.seconds(median(inplaceNs)), n / BenchmarkData.seconds(median(inplaceNs)));
    System.out.printf("  native DMatrix + predict               %5.2f s  %,12.0f rows/s%n", BenchmarkData.seconds(median(nativeWithMatrixNs)), nativeMatrixRate);
    System.out.printf("  ratio nightshift / fastest native predict:    %.2fx (goal >= 0.70x)%n", nsRate / nativeRate);
    System.out.printf("  ratio nightshift / native DMatrix + predict:  %.2fx%n", nsRate / nativeMatrixRate);
    System.out.printf("  ratio nightshift engine / native predict:     %.2fx (Spark partitions + batching, no I/O)%n", engineRate / nativeRate);
    System.out.printf("  cost per row per tree: nightshift Delta->Delta %.1f ns, native %.1f ns (wall time on 2 cores)%n",
        1e9 * BenchmarkData.seconds(median(ns)) / n / trees, 1e9 * BenchmarkData.seconds(bestNativeNs) / n / trees);
    System.out.printf("  runs (s), taking turns: nightshift %s, reading rows %s, native inplace_predict %s%n",
        BenchmarkData.secondsList(ns), BenchmarkData.secondsList(rowsNs), BenchmarkData.secondsList(inplaceNs));
    data.spark.stop();
  }
}
