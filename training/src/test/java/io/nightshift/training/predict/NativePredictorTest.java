package io.nightshift.training.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.UseCase;
import io.nightshift.training.ModelSpec;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.TrainedModel;
import io.nightshift.training.TrainingFixturesAccess;
import io.nightshift.training.XGBoostTrainer;
import io.nightshift.testing.SparkTestSession;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativePredictorTest {
  @Test
  void shapContributionsPlusBiasSumToTheMarginAndExplainTheProbability() {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> table = spark.read().format("delta").load(TrainingFixturesAccess.warehouse().features(UseCase.MAINTENANCE));
    ModelSpec spec = TrainingFixturesAccess.quick(ModelSpecs.maintenance(), 20);
    TrainedModel model = XGBoostTrainer.train(spark, table, spec, TrainingFixturesAccess.AS_OF);
    List<String> features = spec.view().features();
    List<Column> cols = new ArrayList<>(List.of(table.col("machine_id")));
    features.forEach(f -> cols.add(table.col(f).cast("double")));
    Dataset<Row> input = table.where("date >= '2023-12-01'").select(cols.toArray(new Column[0]));

    List<Row> all =
        NativePredictor.predictWithContributions(input, 1, features, model.booster(), features.size()).collectAsList();
    List<Row> plain = NativePredictor.predict(input, 1, features.size(), model.booster()).collectAsList();
    assertThat(all).hasSize(plain.size()).isNotEmpty();
    for (int i = 0; i < all.size(); i++) {
      Row r = all.get(i);
      double margin = r.getAs("margin");
      double sum = r.<Double>getAs("bias");
      List<Row> contributions = r.getList(r.fieldIndex("contributions"));
      assertThat(contributions).hasSize(features.size());
      for (Row c : contributions) {
        sum += c.getDouble(1);
      }
      assertThat(sum).isCloseTo(margin, within(1e-3));
      assertThat(r.<Double>getAs("prediction")).isCloseTo(1 / (1 + Math.exp(-margin)), within(1e-5));
      assertThat(r.<Double>getAs("prediction")).isEqualTo(plain.get(i).<Double>getAs("prediction"));
      // largest absolute contribution first
      assertThat(Math.abs(contributions.get(0).getDouble(1))).isGreaterThanOrEqualTo(Math.abs(contributions.get(1).getDouble(1)));
    }
    // topK 3: the three largest positive contributions and the three largest of the others, largest absolute first
    List<Row> top3 = NativePredictor.predictWithContributions(input, 1, features, model.booster(), 3).collectAsList();
    for (int i = 0; i < top3.size(); i++) {
      List<Row> every = all.get(i).getList(all.get(i).fieldIndex("contributions"));
      List<Row> expected = new ArrayList<>();
      expected.addAll(every.stream().filter(c -> c.getDouble(1) > 0).limit(3).toList());
      expected.addAll(every.stream().filter(c -> c.getDouble(1) <= 0).limit(3).toList());
      expected.sort(java.util.Comparator.comparingInt(every::indexOf));
      assertThat(top3.get(i).<Row>getList(top3.get(i).fieldIndex("contributions"))).containsExactlyElementsOf(expected);
    }
    // some night shows both sides, so each side fills up to three whatever the other's size
    assertThat(top3).anySatisfy(r -> assertThat(r.getList(r.fieldIndex("contributions")).size()).isGreaterThan(3));
  }

  @Test
  void batchedPredictionsMatchNativePredictAndKeepPassThroughValuesAcrossBatches() throws Exception {
    SparkSession spark = SparkTestSession.get();
    int n = NativePredictor.BATCH_ROWS * 2 + 123; // two full batches and a partial one, in one partition
    ml.dmlc.xgboost4j.java.Booster booster = smallModel();
    byte[] model = booster.toByteArray("ubj");

    Dataset<Row> input =
        spark.range(n).repartition(1).selectExpr(
            "concat('asset-', CAST(id AS STRING)) AS asset", // a string: must survive the producer's row reuse
            "CAST(id AS INT) AS seq",
            "DATE_ADD(DATE'2024-01-01', CAST(id % 400 AS INT)) AS day", // dates, longs and nulls pass through too
            "CASE WHEN id % 11 = 0 THEN NULL ELSE id * 1000000007 END AS big",
            "CAST(id % 10 AS DOUBLE) AS a",
            "CAST(id % 7 AS FLOAT) AS b", // any numeric type is read as float
            "CASE WHEN id % 5 = 0 THEN NULL ELSE CAST(id % 3 AS DOUBLE) / 3 END AS c");
    List<Row> out = NativePredictor.predict(input, 4, 3, model).orderBy("seq").collectAsList();

    assertThat(out).hasSize(n);
    float[][] expected = expectedPredictions(booster, IntStream.range(0, n).toArray());
    for (int i = 0; i < n; i++) {
      Row r = out.get(i);
      assertThat(r.getString(0)).isEqualTo("asset-" + i);
      assertThat(r.getInt(1)).isEqualTo(i);
      assertThat(r.getDate(2).toLocalDate()).isEqualTo(java.time.LocalDate.of(2024, 1, 1).plusDays(i % 400));
      if (i % 11 == 0) {
        assertThat(r.isNullAt(3)).isTrue();
      } else {
        assertThat(r.getLong(3)).isEqualTo(i * 1000000007L);
      }
      assertThat(r.getDouble(4)).isEqualTo((double) expected[i][0]);
    }
  }

  /**
   * {@code booster}'s predictions, by native predict on a DMatrix, for the test rows with these ids: features
   * a = id % 10, b = id % 7 and c = (id % 3) / 3, missing where id % 5 == 0.
   */
  private static float[][] expectedPredictions(ml.dmlc.xgboost4j.java.Booster booster, int[] ids) throws Exception {
    float[] dense = new float[ids.length * 3];
    for (int k = 0; k < ids.length; k++) {
      int i = ids[k];
      dense[k * 3] = i % 10;
      dense[k * 3 + 1] = i % 7;
      dense[k * 3 + 2] = i % 5 == 0 ? Float.NaN : (float) ((i % 3) / 3.0);
    }
    return booster.predict(new ml.dmlc.xgboost4j.java.DMatrix(dense, ids.length, 3, Float.NaN));
  }

  /** A small native model on y = 2a - b (+ 5 where c is missing), three features. */
  private static ml.dmlc.xgboost4j.java.Booster smallModel() throws Exception {
    int rows = 2000;
    float[] x = new float[rows * 3];
    float[] y = new float[rows];
    java.util.Random random = new java.util.Random(7);
    for (int i = 0; i < rows; i++) {
      float a = random.nextFloat() * 10;
      float b = random.nextFloat() * 10;
      boolean missing = i % 5 == 0;
      x[i * 3] = a;
      x[i * 3 + 1] = b;
      x[i * 3 + 2] = missing ? Float.NaN : random.nextFloat();
      y[i] = 2 * a - b + (missing ? 5 : 0);
    }
    ml.dmlc.xgboost4j.java.DMatrix train = new ml.dmlc.xgboost4j.java.DMatrix(x, rows, 3, Float.NaN);
    train.setLabel(y);
    return ml.dmlc.xgboost4j.java.XGBoost.train(
        train, java.util.Map.of("max_depth", 4, "eta", 0.3, "nthread", 1, "seed", 1), 30, java.util.Map.of(), null, null);
  }

  /**
   * Spark reads Parquet as column vectors only with whole-stage code generation on, as the jobs have it (the test
   * session turns it off for speed).
   */
  private static SparkSession sessionReadingColumnVectors() {
    SparkSession spark = SparkTestSession.get();
    spark.conf().set("spark.sql.codegen.wholeStage", "true");
    return spark;
  }

  @AfterEach
  void restoreTheTestSession() {
    SparkTestSession.get().conf().set("spark.sql.codegen.wholeStage", "false");
  }

  @Test
  void aFilteredProjectedTableScanIsReadFromItsColumnVectorsWithTheSamePredictionsAsRows(@TempDir Path dir)
      throws Exception {
    SparkSession spark = sessionReadingColumnVectors();
    ml.dmlc.xgboost4j.java.Booster booster = smallModel();
    byte[] model = booster.toByteArray("ubj");
    int n = NativePredictor.BATCH_ROWS * 2 + 123;
    String table = dir.resolve("features").toString();
    spark.range(n).repartition(2).selectExpr(
            "CAST(id AS INT) AS seq",
            "CASE WHEN id % 5 = 0 THEN NULL ELSE CAST(id % 3 AS DOUBLE) / 3 END AS c", // nulls: missing values
            "concat('asset-', CAST(id AS STRING)) AS asset",
            "CAST(id % 7 AS INT) AS b", // an int feature, cast to double by the caller
            "DATE_ADD(DATE'2024-01-01', CAST(id % 400 AS INT)) AS day",
            "CAST(id % 10 AS DOUBLE) AS a")
        .write().format("delta").save(table);
    // the caller's usual shape: a filter, then keys (one renamed) and features in the model's order, cast to double
    Dataset<Row> input =
        spark.read().format("delta").load(table)
            .where("seq % 4 <> 1")
            .selectExpr("asset", "day AS target_date", "seq", "a", "CAST(b AS DOUBLE) AS b", "c");

    assertThat(ColumnarInput.of(input.queryExecution().executedPlan(), new boolean[] {false, false, false, true, true, true}))
        .as("a Delta scan under a filter and a projection is read as column vectors")
        .isNotNull();
    List<Row> columnar = NativePredictor.predict(input, 3, 3, model).orderBy("seq").collectAsList();
    List<Row> rows;
    spark.conf().set(NativePredictor.COLUMNAR_INPUT, "false");
    try {
      rows = NativePredictor.predict(input, 3, 3, model).orderBy("seq").collectAsList();
    } finally {
      spark.conf().unset(NativePredictor.COLUMNAR_INPUT);
    }

    List<Integer> kept = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (i % 4 != 1) {
        kept.add(i);
      }
    }
    float[][] expected = expectedPredictions(booster, kept.stream().mapToInt(Integer::intValue).toArray());
    assertThat(columnar).hasSize(kept.size());
    assertThat(columnar).isEqualTo(rows);
    for (int k = 0; k < kept.size(); k++) {
      int i = kept.get(k);
      Row r = columnar.get(k);
      assertThat(r.getString(0)).isEqualTo("asset-" + i);
      assertThat(r.getDate(1).toLocalDate()).isEqualTo(java.time.LocalDate.of(2024, 1, 1).plusDays(i % 400));
      assertThat(r.getInt(2)).isEqualTo(i);
      assertThat(r.getDouble(3)).isEqualTo((double) expected[k][0]);
    }
  }

  @Test
  void numericDateAndTimestampKeysWithNullsPassThroughColumnarAndRowReadingAndADeltaWriteUnchanged(@TempDir Path dir)
      throws Exception {
    SparkSession spark = sessionReadingColumnVectors();
    ml.dmlc.xgboost4j.java.Booster booster = smallModel();
    byte[] model = booster.toByteArray("ubj");
    int n = NativePredictor.BATCH_ROWS * 2 + 123; // per partition: more than one batch
    String features = dir.resolve("features").toString();
    spark.range(n).repartition(2).selectExpr(
            "CAST(id AS INT) AS seq",
            "DATE_ADD(DATE'2024-01-01', CAST(id % 400 AS INT)) AS day",
            "TIMESTAMP_SECONDS(1700000000 + id * 61) AS at",
            "CASE WHEN id % 11 = 0 THEN NULL ELSE id * 1000000007 END AS big", // nulls pass through as nulls
            "CASE WHEN id % 13 = 0 THEN NULL ELSE id / 8.0D END AS weight",
            "CAST(id % 10 AS DOUBLE) AS a",
            "CAST(id % 7 AS DOUBLE) AS b",
            "CASE WHEN id % 5 = 0 THEN NULL ELSE CAST(id % 3 AS DOUBLE) / 3 END AS c")
        .write().format("delta").save(features);
    Dataset<Row> scan =
        spark.read().format("delta").load(features).select("seq", "day", "at", "big", "weight", "a", "b", "c");
    Dataset<Row> withText = scan.selectExpr("CAST(seq AS STRING) AS text", "*"); // a copied object among the keys

    // read as column vectors and as rows, each written to Delta as the score job writes; and with a string key
    String columnarTable = dir.resolve("columnar").toString();
    NativePredictor.predict(scan, 5, 3, model).write().format("delta").save(columnarTable);
    String rowsTable = dir.resolve("rows").toString();
    spark.conf().set(NativePredictor.COLUMNAR_INPUT, "false");
    try {
      NativePredictor.predict(scan, 5, 3, model).write().format("delta").save(rowsTable);
    } finally {
      spark.conf().unset(NativePredictor.COLUMNAR_INPUT);
    }
    List<Row> withStringKey = NativePredictor.predict(withText, 6, 3, model).drop("text").orderBy("seq").collectAsList();
    List<Row> sorted = NativePredictor.predict(scan, 5, 3, model).orderBy("seq").collectAsList();
    List<Row> columnar = spark.read().format("delta").load(columnarTable).orderBy("seq").collectAsList();
    List<Row> rows = spark.read().format("delta").load(rowsTable).orderBy("seq").collectAsList();

    float[][] expected = expectedPredictions(booster, IntStream.range(0, n).toArray());
    assertThat(sorted).hasSize(n);
    for (int i = 0; i < n; i++) {
      Row r = sorted.get(i);
      assertThat(r.getInt(0)).isEqualTo(i);
      assertThat(r.getDate(1).toLocalDate()).isEqualTo(java.time.LocalDate.of(2024, 1, 1).plusDays(i % 400));
      assertThat(r.getTimestamp(2).toInstant()).isEqualTo(java.time.Instant.ofEpochSecond(1700000000L + i * 61L));
      if (i % 11 == 0) {
        assertThat(r.isNullAt(3)).isTrue();
      } else {
        assertThat(r.getLong(3)).isEqualTo(i * 1000000007L);
      }
      if (i % 13 == 0) {
        assertThat(r.isNullAt(4)).isTrue();
      } else {
        assertThat(r.getDouble(4)).isEqualTo(i / 8.0);
      }
      assertThat(r.getDouble(5)).isEqualTo((double) expected[i][0]);
    }
    assertThat(columnar).isEqualTo(sorted);
    assertThat(rows).isEqualTo(sorted);
    assertThat(withStringKey).isEqualTo(sorted);
  }

  @Test
  void aComputedFeatureOrACachedTableIsReadAsRows(@TempDir Path dir) {
    SparkSession spark = sessionReadingColumnVectors();
    String table = dir.resolve("t").toString();
    spark.range(10).selectExpr("id", "CAST(id AS DOUBLE) AS a").write().format("delta").save(table);
    Dataset<Row> scan = spark.read().format("delta").load(table);
    boolean[] oneFeature = {false, true};

    assertThat(ColumnarInput.of(scan.selectExpr("id", "a + 1 AS a").queryExecution().executedPlan(), oneFeature))
        .isNull();
    assertThat(ColumnarInput.of(scan.selectExpr("id", "CAST(CAST(id AS STRING) AS DOUBLE) AS a")
            .queryExecution().executedPlan(), oneFeature))
        .as("a cast from a string is Spark's to do")
        .isNull();
    Dataset<Row> cached = spark.read().format("delta").load(table).cache();
    try {
      assertThat(ColumnarInput.of(cached.queryExecution().executedPlan(), oneFeature)).isNull();
    } finally {
      cached.unpersist();
    }
    assertThat(ColumnarInput.of(spark.read().format("delta").load(table).queryExecution().executedPlan(), oneFeature))
        .isNotNull();
  }

  @Test
  void aNonNumericFeatureColumnIsRejectedByName() {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> input = spark.range(3).selectExpr("id", "CAST(id AS STRING) AS colour");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> NativePredictor.predict(input, 1, 1, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("colour")
        .hasMessageContaining("cast it to double");
  }
}
