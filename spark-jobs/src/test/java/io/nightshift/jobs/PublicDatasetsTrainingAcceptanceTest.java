package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.testing.SparkTestSession;
import io.nightshift.training.mlflow.MlflowRest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Models trained on the real public datasets in {@code ../shared/data} through configuration only, with the CLI a
 * data team uses: land the file, build the shipped YAML view, train the shipped model spec; the validation metrics are
 * read back from the real MLflow server. Skipped, with the reason, when {@code ../shared/data} is absent.
 */
class PublicDatasetsTrainingAcceptanceTest {
  static final Path ROOT = LocalMlflowServer.projectRoot();
  static final Path SHARED = ROOT.resolve("../shared/data").normalize();

  static Path dataset(String relative) {
    Path p = SHARED.resolve(relative);
    Assumptions.assumeTrue(
        Files.isRegularFile(p),
        "skipped: " + p + " is absent (the public datasets live in ../shared/data next to the repository)");
    return p;
  }

  static Path land(Path file, String rawDir) throws IOException {
    Path warehouse = SparkTestSession.tempDir("public-training");
    Path dir = warehouse.resolve(rawDir);
    Files.createDirectories(dir);
    Files.copy(file, dir.resolve(file.getFileName()));
    return warehouse;
  }

  static CliRun cli(Path warehouse, String... args) {
    SparkTestSession.get(); // the CLI reuses the active session
    List<String> all =
        new ArrayList<>(List.of("--warehouse", warehouse.toString(), "--tracking-uri", LocalMlflowServer.trackingUri()));
    all.addAll(List.of(args));
    return CliRun.of(all);
  }

  /** The metrics and tags of the MLflow run whose URL the train command printed. */
  static Map<String, String> mlflowRun(CliRun train, Map<String, Double> metrics) {
    Matcher m = Pattern.compile("/runs/([0-9a-f]+)").matcher(train.out());
    assertThat(m.find()).as(train.out()).isTrue();
    JsonNode run = new MlflowRest(LocalMlflowServer.trackingUri()).get("runs/get", Map.of("run_id", m.group(1))).get("run");
    run.path("data").path("metrics").forEach(x -> metrics.put(x.get("key").asText(), x.get("value").asDouble()));
    Map<String, String> params = new HashMap<>();
    run.path("data").path("params").forEach(x -> params.put(x.get("key").asText(), x.get("value").asText()));
    return params;
  }

  @Test
  void remainingUsefulLifeOnCmapssFd001() throws IOException {
    Path warehouse = land(dataset("cmapss/train_FD001.txt"), "raw/cmapss");
    CliRun build = cli(warehouse, "features", "build", "--as-of", "2024-01-01", "--view",
        ROOT.resolve("conf/features/cmapss_fd001.yaml").toString());
    assertThat(build.code()).as(build.err()).isZero();
    assertThat(build.out()).contains("features/cmapss_fd001: 20631 rows written");

    CliRun train = cli(warehouse, "train", "--as-of", "2024-01-01", "--spec", ROOT.resolve("conf/models/cmapss_rul.yaml").toString());
    assertThat(train.code()).as(train.err()).isZero();
    assertThat(train.out()).contains("nightshift-cmapss-rul version ").contains("RMSE ").contains("PHM08 score");

    Map<String, Double> metrics = new HashMap<>();
    Map<String, String> params = mlflowRun(train, metrics);
    assertThat(params).containsEntry("validation_split_by", "unit").containsEntry("feature_view", "cmapss_fd001");
    // about 20 of the 100 engines are held out whole; their cycles are 15-25% of the 20,631
    assertThat(metrics.get("valid_rows")).isBetween(2500.0, 6000.0);
    assertThat(metrics.get("train_rows") + metrics.get("valid_rows")).isEqualTo(20631.0);
    // capped RUL (125) has a standard deviation near 40 cycles; published FD001 models reach RMSE 12-20
    assertThat(metrics.get("valid_rmse")).isLessThan(22.0);
    assertThat(metrics.get("valid_mae")).isLessThan(metrics.get("valid_rmse"));
    assertThat(metrics).containsKeys("valid_phm08_score", "valid_bias", "valid_late_share", "quality_checks");

    // remaining-life predictions for every engine at its latest cycle; in the training file that cycle is the failure
    CliRun score = cli(warehouse, "score", "--date", "2024-01-01", "--model", "nightshift-cmapss-rul@champion");
    assertThat(score.code()).as(score.err()).isZero();
    assertThat(score.out()).contains("nightshift-cmapss-rul: 100 predictions for 2024-01-01");
    org.apache.spark.sql.Row life = SparkTestSession.get().read().format("delta")
        .load(warehouse.resolve("predictions/nightshift-cmapss-rul").toString())
        .selectExpr("avg(prediction)", "min(prediction)", "count(DISTINCT unit)").head();
    assertThat(life.getLong(2)).isEqualTo(100L);
    assertThat(life.getDouble(0)).isLessThan(15.0); // vs a mean label near 60 cycles
    assertThat(life.getDouble(1)).isGreaterThanOrEqualTo(0.0);

    // work orders for the engines predicted to fail within 30 cycles (only those: no --use-case), shortest life first
    CliRun act = cli(warehouse, "act", "--date", "2024-01-01", "--rul-model", "nightshift-cmapss-rul", "--crews", "10");
    assertThat(act.code()).as(act.err()).isZero();
    assertThat(act.out())
        .containsPattern("nightshift-cmapss-rul: \\d+ work orders with predicted remaining life <= 30, 10 scheduled"
            + " -> \\S+/actions/rul_work_orders \\(CSV: \\S+/exports/rul_work_orders/nightshift-cmapss-rul/2024-01-01\\)")
        .doesNotContain("replenishment:").doesNotContain("maintenance:");
    long due = SparkTestSession.get().read().format("delta")
        .load(warehouse.resolve("predictions/nightshift-cmapss-rul").toString()).where("prediction <= 30").count();
    assertThat(due).isGreaterThanOrEqualTo(50L); // a mean predicted life under 15 cycles leaves at most half beyond 30
    List<org.apache.spark.sql.Row> orders = SparkTestSession.get().read().format("delta")
        .load(warehouse.resolve("actions/rul_work_orders").toString())
        .where("model_name = 'nightshift-cmapss-rul' AND decision_date = DATE'2024-01-01'").orderBy("rank").collectAsList();
    assertThat(orders).hasSize((int) due);
    assertThat(orders).extracting(o -> o.<Integer>getAs("rank"))
        .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, (int) due).boxed().toList());
    assertThat(orders).extracting(o -> o.<Double>getAs("predicted_rul")).isSorted().allSatisfy(r -> assertThat(r).isBetween(0.0, 30.0));
    assertThat(orders).extracting(o -> o.<Integer>getAs("unit")).doesNotHaveDuplicates();
    assertThat(orders).extracting(o -> o.<String>getAs("status")).startsWith(java.util.Collections.nCopies(10, "scheduled").toArray(new String[0]))
        .filteredOn(st -> st.equals("scheduled")).hasSize(10);
    // each engine's reasons: the sensor features shortening its life, as "feature -contribution; ..."
    assertThat(orders).allSatisfy(o -> {
      assertThat(o.<String>getAs("asset")).isEqualTo(String.valueOf(o.<Integer>getAs("unit")));
      assertThat(o.<String>getAs("reasons")).as("unit %s", o.<Integer>getAs("unit"))
          .matches("\\w+ -[0-9,]+\\.\\d\\d(; \\w+ -[0-9,]+\\.\\d\\d)*");
    });
    assertThat(SparkTestSession.get().read().option("header", "true")
        .csv(warehouse.resolve("exports/rul_work_orders/nightshift-cmapss-rul/2024-01-01").toString()).count()).isEqualTo(due);
  }

  @Test
  void demandOnStoreItemDemand() throws IOException {
    Path warehouse = land(dataset("store-item-demand/train_2013_2016.csv"), "raw/store-item-demand");
    // half a year (500 series x 181 days) keeps the test short; the spec and view are the shipped ones
    CliRun build = cli(warehouse, "features", "build", "--as-of", "2013-06-30", "--view",
        ROOT.resolve("conf/features/store_item_demand.yaml").toString());
    assertThat(build.code()).as(build.err()).isZero();
    assertThat(build.out()).contains("features/store_item_demand: 90500 rows written");

    CliRun train = cli(warehouse, "train", "--as-of", "2013-06-30", "--backtest-folds", "1", "--spec",
        ROOT.resolve("conf/models/store_item_demand.yaml").toString());
    assertThat(train.code()).as(train.err()).isZero();
    assertThat(train.out()).contains("nightshift-store-item-demand version ").contains("WAPE ");

    Map<String, Double> metrics = new HashMap<>();
    Map<String, String> params = mlflowRun(train, metrics);
    assertThat(params).containsEntry("validation_days", "28").containsEntry("feature_view", "store_item_demand");
    assertThat(metrics.get("valid_rows")).isEqualTo(500.0 * 28);
    // daily item sales of 20-100 units with weekly seasonality: a useful model stays well under 20% WAPE
    assertThat(metrics.get("valid_wape")).isLessThan(0.2);
    assertThat(metrics).containsKeys("valid_smape", "valid_pinball", "quality_checks");
  }
}
