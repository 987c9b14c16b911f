package io.nightshift.benchmarks;

import static io.nightshift.benchmarks.BenchmarkData.median;
import static org.apache.spark.sql.functions.col;

import io.nightshift.core.UseCase;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.training.ModelSpec;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.TrainedModel;
import io.nightshift.training.XGBoostTrainer;
import io.nightshift.training.predict.NativePredictor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Batch scoring throughput, Delta to Delta through Nightshift's batched native predictor on local[2], against the
 * native Booster.predict on the same rows already in memory (2 threads): the peer does no I/O and no Spark work, so
 * the ratio is what the pipeline costs on top of pure prediction. Goal: at least 0.7x.
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
    String out = data.warehouse.path("benchmark/predictions");

    Runnable nightshift =
        () -> {
          Dataset<Row> input = data.spark.read().format("delta").load(path).select(cols.toArray(new Column[0]));
          DeltaTables.overwrite(NativePredictor.predict(input, 3, features.size(), model.booster()), out);
        };
    List<Row> rows =
        data.spark.read().format("delta").load(path).select(cols.toArray(new Column[0])).collectAsList();
    float[] dense = BenchmarkData.dense(rows, features, 3);
    Booster booster = XGBoost.loadModel(model.booster());
    booster.setParam("nthread", 2);
    int n = rows.size();

    Dataset<Row> cached = data.spark.read().format("delta").load(path).select(cols.toArray(new Column[0])).cache();
    cached.count();
    Runnable engine =
        () -> NativePredictor.predict(cached, 3, features.size(), model.booster()).write().format("noop").mode("overwrite").save();
    long[] engineNs = BenchmarkData.runs(engine, 3);
    // where Delta->Delta time goes: the scan alone, and the write of already computed predictions
    Runnable scan =
        () -> data.spark.read().format("delta").load(path).select(cols.toArray(new Column[0])).write().format("noop").mode("overwrite").save();
    Dataset<Row> computed = NativePredictor.predict(cached, 3, features.size(), model.booster()).cache();
    computed.count();
    Runnable write = () -> DeltaTables.overwrite(computed, data.warehouse.path("benchmark/predictions_write"));
    long scanNs = median(BenchmarkData.runs(scan, 3));
    long writeNs = median(BenchmarkData.runs(write, 3));
    long[] ns = BenchmarkData.runs(nightshift, 3);
    long[] inplaceNs =
        BenchmarkData.runs(
            () -> {
              try {
                booster.inplace_predict(dense, n, features.size(), Float.NaN);
              } catch (XGBoostError e) {
                throw new IllegalStateException(e);
              }
            },
            3);
    long[] nativeNs = new long[3];
    long[] nativeWithMatrixNs = new long[3];
    booster.predict(new DMatrix(dense, n, features.size(), Float.NaN)); // warm-up
    for (int i = 0; i < nativeNs.length; i++) {
      long t0 = System.nanoTime();
      DMatrix m = new DMatrix(dense, n, features.size(), Float.NaN);
      long t1 = System.nanoTime();
      booster.predict(m);
      long t2 = System.nanoTime();
      m.dispose();
      nativeNs[i] = t2 - t1;
      nativeWithMatrixNs[i] = t2 - t0;
    }
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
    double engineRate = n / BenchmarkData.seconds(median(engineNs));
    System.out.printf("  nightshift engine (cached, no-op sink) %5.2f s  %,12.0f rows/s%n", BenchmarkData.seconds(median(engineNs)), engineRate);
    System.out.printf("    of which: Delta scan alone %.2f s, Delta write of computed predictions %.2f s%n",
        BenchmarkData.seconds(scanNs), BenchmarkData.seconds(writeNs));
    System.out.printf("  native Booster.predict(DMatrix)        %5.2f s  %,12.0f rows/s%n", BenchmarkData.seconds(median(nativeNs)), n / BenchmarkData.seconds(median(nativeNs)));
    System.out.printf("  native Booster.inplace_predict         %5.2f s  %,12.0f rows/s%n", BenchmarkData.seconds(median(inplaceNs)), n / BenchmarkData.seconds(median(inplaceNs)));
    System.out.printf("  native DMatrix + predict               %5.2f s  %,12.0f rows/s%n", BenchmarkData.seconds(median(nativeWithMatrixNs)), nativeMatrixRate);
    System.out.printf("  ratio nightshift / fastest native predict:    %.2fx (goal >= 0.70x)%n", nsRate / nativeRate);
    System.out.printf("  ratio nightshift / native DMatrix + predict:  %.2fx%n", nsRate / nativeMatrixRate);
    System.out.printf("  ratio nightshift engine / native predict:     %.2fx (Spark partitions + batching, no I/O)%n", engineRate / nativeRate);
    System.out.printf("  native cost per row per tree: %.1f ns%n", 1e9 * BenchmarkData.seconds(bestNativeNs) / n / trees);
    System.out.println("  " + Map.of("runs", ns.length, "times_s", Arrays.toString(Arrays.stream(ns).mapToDouble(BenchmarkData::seconds).toArray())));
    data.spark.stop();
  }
}
