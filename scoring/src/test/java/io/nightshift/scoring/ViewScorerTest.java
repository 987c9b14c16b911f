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
    DMatrix m = new DMatrix(x, n, 1, Float.NaN);
    m.setLabel(y);
    Map<String, Object> params = new HashMap<>(Map.of("objective", "reg:squarederror", "max_depth", 6, "eta", 1.0));
    params.put("nthread", 1);
    Booster b = XGBoost.train(m, params, 30, Map.of(), null, null);
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

    ViewScorer.Result r = ViewScorer.score(spark, w, m, NIGHT, "abc123", null);
    assertThat(r.rows()).isEqualTo(3);
    assertThat(r.table()).isEqualTo(w.path("predictions/engines-rul"));
    List<Row> rows = spark.read().format("delta").load(r.table()).orderBy("unit").collectAsList();
    assertThat(rows).extracting(x -> x.<Integer>getAs("cycle")).containsExactly(2, 7, 4); // the latest cycle each
    assertThat(rows.get(0).<Double>getAs("prediction")).isCloseTo(50.0, within(3.0));
    assertThat(rows.get(0).<Double>getAs("predicted_end_of_life")).isCloseTo(52.0, within(3.0));
    assertThat(rows.get(1).<Double>getAs("prediction")).isEqualTo(0.0); // -15 predicted: no life left, never negative
    assertThat(rows.get(2).<Double>getAs("prediction")).isCloseTo(100.0, within(3.0));
    assertThat(rows.get(0).<String>getAs("model_version")).isEqualTo("2");

    ViewScorer.score(spark, w, m, NIGHT, "abc123", null); // a re-run replaces the night
    assertThat(spark.read().format("delta").load(r.table()).orderBy("unit").collectAsList()).isEqualTo(rows);
    List<Row> manifest = spark.read().format("delta").load(w.monitoring("scoring_manifest"))
        .where("use_case = 'engines-rul'").collectAsList();
    assertThat(manifest).hasSize(1);
    assertThat(manifest.get(0).<Long>getAs("rows")).isEqualTo(3L);
    assertThat(manifest.get(0).<String>getAs("code_version")).isEqualTo("abc123");
    assertThat(manifest.get(0).<String>getAs("strategy")).isEqualTo("current_rows");
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
    assertThat(spark.read().format("delta").load(r.table()).columns()).doesNotContain("predicted_end_of_life");

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
}
