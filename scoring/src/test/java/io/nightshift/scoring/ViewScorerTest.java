package io.nightshift.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.Warehouse;
import io.nightshift.testing.SparkTestSession;
import io.nightshift.training.model.LoadedModel;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.tracking.ModelVersion;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** Scoring models trained on declared views: each entity's current row, remaining useful life included. */
class ViewScorerTest {
  static final LocalDate NIGHT = LocalDate.of(2024, 3, 1);

  /** A booster that learned rul = 100 - wear * 100 on wear in [0, 1.2] (so worn-out engines go below zero). */
  static byte[] rulBooster() throws Exception {
    int n = 240;
    float[] x = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = i / 200f;
      y[i] = 100 - 100 * x[i];
    }
    return squaredErrorBooster(x, y, 1, 6, 1.0, 30);
  }

  /** A single-threaded squared-error booster on {@code x} (row-major, {@code columns} wide) and labels {@code y}. */
  static byte[] squaredErrorBooster(float[] x, float[] y, int columns, int depth, double eta, int rounds) throws Exception {
    DMatrix m = new DMatrix(x, y.length, columns, Float.NaN);
    m.setLabel(y);
    Map<String, Object> params = new HashMap<>(Map.of("objective", "reg:squarederror", "max_depth", depth, "eta", eta));
    params.put("nthread", 1);
    Booster b = XGBoost.train(m, params, rounds, Map.of(), null, null);
    byte[] bytes = b.toByteArray("ubj");
    b.dispose();
    m.dispose();
    return bytes;
  }

  static LoadedModel model(String task, List<String> features, byte[] booster, String dateColumn) {
    ModelMetadata meta = new ModelMetadata("engines-rul", "maintenance", task, "engines", List.of("unit"), dateColumn,
        "rul", features, "2024-01-01", "", 0, null, null, null, null, 5.0, Map.of(), Map.of(), "split");
    return new LoadedModel(new ModelVersion("engines-rul", "2", "run-1", "runs:/run-1/model", Map.of(), List.of()),
        meta, booster);
  }

  @Test
  void scoresEachEnginesLatestCycleIdempotently() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("view-scorer").toString());
    spark.sql("SELECT * FROM VALUES (1, 1, 0.1D), (1, 2, 0.5D), (2, 1, 0.2D), (2, 7, 1.15D), (3, 4, 0.0D)"
            + " AS t(unit, cycle, wear)")
        .write().format("delta").save(w.featureView("engines"));
    LoadedModel m = model("RUL_REGRESSION", List.of("wear"), rulBooster(), "cycle");
    assertThat(ViewScorer.handles(m.metadata())).isTrue();
    // the night before is scored first: the runs of NIGHT must leave its partition and manifest row as they are
    ViewScorer.score(spark, w, m, NIGHT.minusDays(1), "abc122", null);
    String nightBefore = "score_date = '" + NIGHT.minusDays(1) + "'";
    List<Row> rowsBefore =
        spark.read().format("delta").load(w.path("predictions/engines-rul")).where(nightBefore).orderBy("unit")
            .collectAsList();
    assertThat(rowsBefore).hasSize(3);

    ViewScorer.Result r = ViewScorer.score(spark, w, m, NIGHT, "abc123", null);
    assertThat(r.rows()).isEqualTo(3);
    assertThat(r.table()).isEqualTo(w.path("predictions/engines-rul"));
    String night = "score_date = '" + NIGHT + "'";
    List<Row> rows = spark.read().format("delta").load(r.table()).where(night).orderBy("unit").collectAsList();
    assertThat(rows).extracting(x -> x.<Integer>getAs("cycle")).containsExactly(2, 7, 4); // the latest cycle each
    assertThat(rows.get(0).<Double>getAs("prediction")).isCloseTo(50.0, within(3.0));
    assertThat(rows.get(0).<Double>getAs("predicted_end_of_life")).isCloseTo(52.0, within(3.0));
    assertThat(rows.get(1).<Double>getAs("prediction")).isEqualTo(0.0); // -15 predicted: no life left, never negative
    assertThat(rows.get(2).<Double>getAs("prediction")).isCloseTo(100.0, within(3.0));
    assertThat(rows.get(0).<String>getAs("model_version")).isEqualTo("2");

    ViewScorer.score(spark, w, m, NIGHT, "abc123", null); // a re-run replaces the night
    assertThat(spark.read().format("delta").load(r.table()).where(night).orderBy("unit").collectAsList())
        .isEqualTo(rows);
    assertThat(spark.read().format("delta").load(r.table()).where(nightBefore).orderBy("unit").collectAsList())
        .isEqualTo(rowsBefore);
    assertThat(spark.read().format("delta").load(r.table()).count()).isEqualTo(6L);
    // one manifest row per night
    List<Row> manifest = spark.read().format("delta").load(w.monitoring("scoring_manifest"))
        .where("use_case = 'engines-rul'").orderBy("score_date").collectAsList();
    assertThat(manifest).extracting(x -> x.<java.sql.Date>getAs("score_date").toLocalDate())
        .containsExactly(NIGHT.minusDays(1), NIGHT);
    assertThat(manifest).extracting(x -> x.<String>getAs("code_version")).containsExactly("abc122", "abc123");
    assertThat(manifest.get(1).<Long>getAs("rows")).isEqualTo(3L);
    assertThat(manifest.get(1).<String>getAs("strategy")).isEqualTo("current_rows");
  }

  @Test
  void aNightReplaysFromItsManifestAfterTheViewMovedOn() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("view-scorer-replay").toString());
    spark.sql("SELECT * FROM VALUES (1, 1, 0.1D), (1, 2, 0.5D), (2, 7, 1.15D) AS t(unit, cycle, wear)")
        .write().format("delta").save(w.featureView("engines"));
    LoadedModel m = model("RUL_REGRESSION", List.of("wear"), rulBooster(), "cycle");
    ViewScorer.score(spark, w, m, NIGHT, "abc123", null);
    String night = "score_date = '" + NIGHT + "'";
    List<Row> scored =
        spark.read().format("delta").load(w.path("predictions/engines-rul")).where(night).orderBy("unit").collectAsList();

    BatchScorer.Manifest manifest = BatchScorer.manifest(spark, w, "engines-rul", NIGHT);
    assertThat(manifest.modelVersion()).isEqualTo("2");
    assertThat(manifest.featureTableVersion()).isZero();
    assertThat(manifest.featureTableId()).isNotNull();

    // the view moves on: engine 1 runs a third cycle, worn further (version 1 of the table); the next night is scored
    spark.sql("SELECT * FROM VALUES (1, 3, 0.9D) AS t(unit, cycle, wear)")
        .write().format("delta").mode("append").save(w.featureView("engines"));
    ViewScorer.score(spark, w, m, NIGHT.plusDays(1), "abc124", null);

    // the replay reads version 0 again: engine 1's latest cycle is still 2, and the night's rows are as they were
    ViewScorer.Result replayed = ViewScorer.replay(spark, w, m, NIGHT, "abc125", manifest);
    assertThat(replayed.featureTableVersion()).isZero();
    assertThat(spark.read().format("delta").load(w.path("predictions/engines-rul")).where(night).orderBy("unit")
            .collectAsList())
        .isEqualTo(scored);
    // scoring the night again instead reads the view as it is now
    ViewScorer.score(spark, w, m, NIGHT, "abc125", null);
    List<Row> rescored =
        spark.read().format("delta").load(w.path("predictions/engines-rul")).where(night).orderBy("unit").collectAsList();
    assertThat(rescored.get(0).<Integer>getAs("cycle")).isEqualTo(3);
    assertThat(rescored).isNotEqualTo(scored);
    ViewScorer.replay(spark, w, m, NIGHT, "abc125", manifest); // and a replay restores the night

    // a manifest of another model version is refused; a table recreated since the night is an input error
    LoadedModel other = new LoadedModel(
        new ModelVersion("engines-rul", "3", "run-3", "runs:/run-3/model", Map.of(), List.of()), m.metadata(),
        m.booster());
    assertThatThrownBy(() -> ViewScorer.replay(spark, w, other, NIGHT, "abc125", manifest))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("names engines-rul version 2");
    org.apache.commons.io.FileUtils.deleteDirectory(new java.io.File(w.featureView("engines")));
    spark.sql("SELECT * FROM VALUES (1, 1, 0.1D), (1, 2, 0.5D), (2, 7, 1.15D) AS t(unit, cycle, wear)")
        .write().format("delta").save(w.featureView("engines"));
    assertThatThrownBy(() -> ViewScorer.replay(spark, w, m, NIGHT, "abc125", manifest))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("features/engines")
        .hasMessageContaining("recreated");
    assertThat(spark.read().format("delta").load(w.path("predictions/engines-rul")).where(night).orderBy("unit")
            .collectAsList())
        .isEqualTo(scored);
  }

  @Test
  void aPastNightOfACycleCountedViewReadsTheVersionBuiltForIt() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("view-scorer-backfill").toString());
    java.util.Map<String, String> cols = new java.util.LinkedHashMap<>();
    cols.put("unit", "int");
    cols.put("cycle", "int");
    cols.put("wear", "double");
    io.nightshift.featurestore.views.ViewDefinition d =
        io.nightshift.featurestore.views.ViewDefinition.builder("engines")
            .entities("unit")
            .eventTime("cycle", io.nightshift.featurestore.views.ViewDefinition.TimeType.INTEGER)
            .source(io.nightshift.featurestore.views.ViewDefinition.Format.DELTA, "raw/engines", Map.of(), cols)
            .columns("wear")
            .build();
    String source = w.path("raw/engines");
    spark.sql("SELECT * FROM VALUES (1, 1, 0.1D), (1, 2, 0.5D), (2, 7, 1.15D) AS t(unit, cycle, wear)")
        .write().format("delta").save(source);
    String file = "conf/features/engines.yaml";
    io.nightshift.featurestore.views.ViewRegistry.build(spark, w, d, file, java.util.Optional.of(NIGHT), false);
    // the next night engine 1 runs a third cycle, worn further, and the view is built as of that night
    spark.sql("SELECT * FROM VALUES (1, 3, 0.9D) AS t(unit, cycle, wear)").write().format("delta").mode("append")
        .save(source);
    io.nightshift.featurestore.views.ViewRegistry.build(spark, w, d, file, java.util.Optional.of(NIGHT.plusDays(1)),
        false);
    LoadedModel m = model("RUL_REGRESSION", List.of("wear"), rulBooster(), "cycle");
    String predictions = w.path("predictions/engines-rul");

    // a backfill of the first night reads the table as built for it: engine 1's latest cycle is still 2
    ViewScorer.Result first = ViewScorer.score(spark, w, m, NIGHT, "abc123", null);
    assertThat(first.featureTableVersion()).isZero();
    List<Row> rows = spark.read().format("delta").load(predictions).where("score_date = '" + NIGHT + "'")
        .orderBy("unit").collectAsList();
    assertThat(rows).extracting(x -> x.<Integer>getAs("cycle")).containsExactly(2, 7);
    // the second night, and any later one, read the latest build
    ViewScorer.Result second = ViewScorer.score(spark, w, m, NIGHT.plusDays(1), "abc123", null);
    assertThat(second.featureTableVersion()).isEqualTo(1L);
    assertThat(ViewScorer.score(spark, w, m, NIGHT.plusDays(9), "abc123", null).featureTableVersion()).isEqualTo(1L);
    assertThat(spark.read().format("delta").load(predictions).where("score_date = '" + NIGHT.plusDays(1) + "'")
            .orderBy("unit").collectAsList())
        .extracting(x -> x.<Integer>getAs("cycle")).containsExactly(3, 7);

    // a night before the first build knew nothing of these engines: refused, nothing written
    long before = spark.read().format("delta").load(predictions).count();
    assertThatThrownBy(() -> ViewScorer.score(spark, w, m, NIGHT.minusDays(1), "abc123", null))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("features/engines")
        .hasMessageContaining("every recorded build of it is as of a later night (the first as of " + NIGHT)
        .hasMessageContaining("--as-of " + NIGHT.minusDays(1));
    assertThat(spark.read().format("delta").load(predictions).count()).isEqualTo(before);

    // the first night built again (version 2, from today's source): that night now reads it, the next keeps version 1
    io.nightshift.featurestore.views.ViewRegistry.build(spark, w, d, file, java.util.Optional.of(NIGHT), false);
    assertThat(ViewScorer.score(spark, w, m, NIGHT, "abc123", null).featureTableVersion()).isEqualTo(2L);
    assertThat(ViewScorer.score(spark, w, m, NIGHT.plusDays(1), "abc123", null).featureTableVersion()).isEqualTo(1L);
  }

  /** A booster that learned rul = 100 - 60 * wear - 40 * heat on a grid of wear and heat in [0, 1.2]. */
  static byte[] twoFeatureRulBooster() throws Exception {
    int side = 25;
    int n = side * side;
    float[] x = new float[n * 2];
    float[] y = new float[n];
    for (int i = 0; i < side; i++) {
      for (int j = 0; j < side; j++) {
        int r = i * side + j;
        x[2 * r] = i * 1.2f / (side - 1);
        x[2 * r + 1] = j * 1.2f / (side - 1);
        y[r] = 100 - 60 * x[2 * r] - 40 * x[2 * r + 1];
      }
    }
    return squaredErrorBooster(x, y, 2, 4, 0.5, 40);
  }

  @Test
  void remainingLifeComesWithContributionsThatAddUpToTheMarginBeforeTheClamp() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("view-scorer-contributions").toString());
    spark.sql("SELECT * FROM VALUES (1, 3, 0.1D, 0.2D), (2, 9, 1.1D, 1.0D), (3, 5, 0.2D, 1.1D) AS t(unit, cycle, wear, heat)")
        .write().format("delta").save(w.featureView("engines"));
    LoadedModel m = model("RUL_REGRESSION", List.of("wear", "heat"), twoFeatureRulBooster(), "cycle");
    ViewScorer.score(spark, w, m, NIGHT.minusDays(1), "c", null);
    String nightBefore = "score_date = '" + NIGHT.minusDays(1) + "'";
    List<Row> rowsBefore = spark.read().format("delta").load(w.path("predictions/engines-rul")).where(nightBefore)
        .orderBy("unit").collectAsList();

    ViewScorer.Result r = ViewScorer.score(spark, w, m, NIGHT, "c", null);
    String night = "score_date = '" + NIGHT + "'";
    List<Row> rows = spark.read().format("delta").load(r.table()).where(night).orderBy("unit").collectAsList();
    assertThat(rows).hasSize(3);
    for (Row row : rows) {
      List<Row> contributions = row.getList(row.fieldIndex("contributions"));
      // both features are among the top five, so with the bias they are the whole margin
      assertThat(contributions).extracting(c -> c.getString(0)).containsExactlyInAnyOrder("wear", "heat");
      double sum = contributions.stream().mapToDouble(c -> c.getDouble(1)).sum() + row.<Double>getAs("bias");
      assertThat(sum).as("unit %s", row.<Integer>getAs("unit")).isCloseTo(row.<Double>getAs("margin"), within(1e-3));
      // largest absolute contribution first
      assertThat(Math.abs(contributions.get(0).getDouble(1))).isGreaterThanOrEqualTo(Math.abs(contributions.get(1).getDouble(1)));
    }
    // unit 1: 100 - 6 - 8 = 86 cycles; the margin is the prediction, and its low wear lengthens its life
    assertThat(rows.get(0).<Double>getAs("prediction")).isCloseTo(86.0, within(4.0));
    assertThat(rows.get(0).<Double>getAs("margin")).isCloseTo(rows.get(0).<Double>getAs("prediction"), within(1e-4));
    // unit 2: 100 - 66 - 40 = -6: clamped to no life left, the margin keeps the negative value the contributions add to
    assertThat(rows.get(1).<Double>getAs("prediction")).isEqualTo(0.0);
    assertThat(rows.get(1).<Double>getAs("margin")).isLessThan(0.0);
    assertThat(rows.get(1).<Row>getList(rows.get(1).fieldIndex("contributions"))).allSatisfy(c -> assertThat(c.getDouble(1)).isNegative());
    // unit 3: low wear (+) and high heat (-)
    List<Row> third = rows.get(2).getList(rows.get(2).fieldIndex("contributions"));
    assertThat(third).filteredOn(c -> c.getString(0).equals("heat")).singleElement()
        .satisfies(c -> assertThat(c.getDouble(1)).isNegative());
    assertThat(third).filteredOn(c -> c.getString(0).equals("wear")).singleElement()
        .satisfies(c -> assertThat(c.getDouble(1)).isPositive());

    ViewScorer.score(spark, w, m, NIGHT, "c", null); // the same rows, contributions included
    assertThat(spark.read().format("delta").load(r.table()).where(night).orderBy("unit").collectAsList())
        .isEqualTo(rows);
    assertThat(rowsBefore).hasSize(3); // and the night before as it was
    assertThat(spark.read().format("delta").load(r.table()).where(nightBefore).orderBy("unit").collectAsList())
        .isEqualTo(rowsBefore);
  }

  @Test
  void datedViewsScoreTheNightAndNameWhatIsMissing() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("view-scorer-dated").toString());
    spark.sql("SELECT unit, CAST(d AS DATE) AS day, wear FROM VALUES (1, '2024-02-29', 0.3D), (1, '2024-03-01', 0.4D),"
            + " (2, '2024-03-01', 0.6D) AS t(unit, d, wear)")
        .write().format("delta").save(w.featureView("engines"));
    LoadedModel m = model("REGRESSION", List.of("wear"), rulBooster(), "day");

    ViewScorer.Result r = ViewScorer.score(spark, w, m, NIGHT, "c", null);
    assertThat(r.rows()).isEqualTo(2);
    assertThat(spark.read().format("delta").load(r.table()).columns())
        .doesNotContain("predicted_end_of_life", "margin", "bias", "contributions");

    assertThatThrownBy(() -> ViewScorer.score(spark, w, m, NIGHT.plusDays(1), "c", null))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("No rows in features/engines for date 2024-03-02")
        .hasMessageContaining("--view conf/features/engines.yaml --as-of 2024-03-02");
    assertThatThrownBy(() -> ViewScorer.score(spark, w, model("REGRESSION", List.of("wear", "heat"), rulBooster(), "day"),
            NIGHT, "c", null))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("does not match feature table features/engines")
        .hasMessageContaining("[heat]");
  }

  @Test
  void remainingLifeOnADatedViewEndsOnADate() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("view-scorer-dated-rul").toString());
    // rul = 100 - 100 * wear days: about 50 days left for unit 1, about 10 for unit 2, none for unit 3
    spark.sql("SELECT unit, CAST(d AS DATE) AS day, wear FROM VALUES (1, '2024-02-29', 0.3D), (1, '2024-03-01', 0.5D),"
            + " (2, '2024-03-01', 0.9D), (3, '2024-03-01', 1.15D) AS t(unit, d, wear)")
        .write().format("delta").save(w.featureView("engines"));
    LoadedModel m = model("RUL_REGRESSION", List.of("wear"), rulBooster(), "day");

    ViewScorer.Result r = ViewScorer.score(spark, w, m, NIGHT, "c", null);
    List<Row> rows = spark.read().format("delta").load(r.table()).orderBy("unit").collectAsList();
    assertThat(rows).hasSize(3);
    for (Row row : rows) {
      double rul = row.<Double>getAs("prediction");
      java.sql.Date end = row.getAs("predicted_end_of_life");
      assertThat(end).as("unit %s", row.<Integer>getAs("unit")).isNotNull();
      // the scored day plus the whole days of life left
      assertThat(end.toLocalDate()).isEqualTo(NIGHT.plusDays((long) Math.floor(rul)));
    }
    assertThat(rows.get(0).<Double>getAs("prediction")).isCloseTo(50.0, within(3.0));
    assertThat(rows.get(2).<java.sql.Date>getAs("predicted_end_of_life").toLocalDate()).isEqualTo(NIGHT);
  }
}
