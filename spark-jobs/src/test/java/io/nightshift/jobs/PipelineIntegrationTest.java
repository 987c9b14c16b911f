package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.featurestore.DeltaTables;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole nightly pipeline through the CLI, against a real MLflow server: generate, features build and check,
 * train (registered as @champion), score (the night before, then the night twice: idempotent), act, monitor; and
 * the CLI's answers to bad input.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineIntegrationTest {
  static final String NIGHT = "2023-12-31";
  static final String DAY_BEFORE = "2023-12-30";
  static SparkSession spark;
  static Path warehouse;
  static String mlflow;

  @BeforeAll
  static void setUp() {
    spark = SparkTestSession.get(); // the CLI reuses the active session instead of creating one
    warehouse = SparkTestSession.tempDir("pipeline-it");
    // its own server: the assertions follow one registry from scratch (version 1, 2, 3 of nightshift-demand), and the
    // public-dataset acceptance test registers the same model names in the shared one
    mlflow = LocalMlflowServer.dedicated();
  }

  static CliRun cli(String... args) {
    List<String> all = new ArrayList<>(List.of("--warehouse", warehouse.toString(), "--tracking-uri", mlflow));
    all.addAll(List.of(args));
    return CliRun.of(all);
  }

  private static Dataset<Row> delta(String relative) {
    return spark.read().format("delta").load(warehouse.resolve(relative).toString());
  }

  @Test
  @Order(1)
  void generateBuildCheckTrain() {
    CliRun gen = cli("generate", "--seed", "3", "--start", "2023-01-01", "--end", NIGHT, "--stores", "2", "--items", "4", "--machines", "8");
    assertThat(gen.code()).as(gen.err()).isZero();
    assertThat(gen.out()).contains("generated 2920 sales rows");

    CliRun build = cli("features", "build", "--as-of", NIGHT);
    assertThat(build.code()).as(build.err()).isZero();
    assertThat(build.out()).contains("features/demand_daily: ").contains("features/machine_daily: ");

    CliRun check = cli("features", "check", "--as-of", NIGHT);
    assertThat(check.code()).as(check.err()).isZero();
    assertThat(check.out()).contains("Quality gate features/demand_daily as of 2023-12-31: PASSED");

    CliRun train = cli("train", "--as-of", NIGHT);
    assertThat(train.code()).as(train.err()).isZero();
    assertThat(train.out())
        .contains("nightshift-demand version ")
        .contains("nightshift-maintenance version ")
        .contains("is @challenger and now @champion")
        .contains("gate: no champion yet")
        .contains("backtest: 3 folds, backtest_valid_wape_mean ")
        .contains("backtest: 2 folds, backtest_valid_pr_auc_mean ")
        .contains(mlflow + "/#/experiments/");
  }

  @Test
  @Order(2)
  void scoreIsIdempotentPerDate() {
    // the night before is scored first: re-scoring the night must leave its rows as they are
    CliRun dayBefore = cli("score", "--date", DAY_BEFORE, "--use-case", "demand");
    assertThat(dayBefore.code()).as(dayBefore.err()).isZero();
    List<Row> nightBefore = delta("predictions/demand").where("score_date = '" + DAY_BEFORE + "'").collectAsList();
    assertThat(nightBefore).hasSize(2 * 4 * 7);

    CliRun first = cli("score", "--date", NIGHT);
    assertThat(first.code()).as(first.err()).isZero();
    List<Row> before = delta("predictions/demand").where("score_date = '" + NIGHT + "'").collectAsList();
    assertThat(before).hasSize(2 * 4 * 7);
    // one risk per machine with a feature row on the night: all 8 generated machines
    long machines = delta("predictions/maintenance").where("score_date = '" + NIGHT + "'").count();
    assertThat(delta("features/machine_daily").where("date = '" + NIGHT + "'").count()).isEqualTo(8L);
    assertThat(machines).isEqualTo(8L);

    CliRun second = cli("score", "--date", NIGHT, "--use-case", "demand");
    assertThat(second.code()).as(second.err()).isZero();
    List<Row> after = delta("predictions/demand").where("score_date = '" + NIGHT + "'").collectAsList();
    assertThat(after).hasSameSizeAs(before).containsExactlyInAnyOrderElementsOf(before);
    assertThat(delta("predictions/demand").count()).isEqualTo(before.size() + nightBefore.size());

    // replayed by another build of the code, which the output says
    CliRun replay;
    System.setProperty("nightshift.git.commit", "replay-test-commit");
    try {
      replay = cli("score", "--date", NIGHT, "--use-case", "demand", "--replay");
    } finally {
      System.clearProperty("nightshift.git.commit");
    }
    assertThat(replay.code()).as(replay.err()).isZero();
    assertThat(replay.out()).contains("demand: replayed 2023-12-31 with model version 1 on feature table version 0")
        .containsPattern("demand: note: the night was scored with code version \\S+ and replayed with"
            + " replay-test-commit: rows may differ where the scoring code changed between them");
    assertThat(delta("predictions/demand").where("score_date = '" + NIGHT + "'").collectAsList())
        .containsExactlyInAnyOrderElementsOf(before);
    assertThat(delta("predictions/demand").where("score_date = '" + DAY_BEFORE + "'").collectAsList())
        .containsExactlyInAnyOrderElementsOf(nightBefore);
    assertThat(delta("predictions/demand").count()).isEqualTo(before.size() + nightBefore.size());
  }

  @Test
  @Order(3)
  void actAndMonitor() throws Exception {
    CliRun act = cli("act", "--date", NIGHT);
    assertThat(act.code()).as(act.err()).isZero();
    assertThat(act.out()).contains("replenishment: 8 proposals");
    // a work order per machine at the default risk threshold 0.5, the first 5 (the default crews) scheduled
    long risky = delta("predictions/maintenance").where("score_date = '" + NIGHT + "' AND prediction >= 0.5").count();
    Dataset<Row> orders = delta("actions/work_orders").where("decision_date = '" + NIGHT + "'");
    assertThat(orders.count()).isEqualTo(risky);
    long scheduled = Math.min(risky, 5);
    assertThat(orders.where("status = 'scheduled' AND scheduled_date = '2024-01-01'").count()).isEqualTo(scheduled);
    assertThat(act.out()).contains("maintenance: " + risky + " work orders, " + scheduled + " scheduled -> ");
    // a threshold below every risk opens a work order for each of the 8 machines: 5 scheduled, 3 backlog
    CliRun everyMachine = cli("act", "--date", NIGHT, "--use-case", "maintenance", "--risk-threshold", "0.000001");
    assertThat(everyMachine.code()).as(everyMachine.err()).isZero();
    assertThat(everyMachine.out()).contains("maintenance: 8 work orders, 5 scheduled -> ");
    Dataset<Row> all = delta("actions/work_orders").where("decision_date = '" + NIGHT + "'");
    assertThat(all.count()).isEqualTo(8);
    assertThat(all.where("status = 'scheduled' AND scheduled_date = '2024-01-01'").count()).isEqualTo(5);
    assertThat(all.where("status = 'backlog' AND scheduled_date IS NULL").count()).isEqualTo(3);
    assertThat(all.select("machine_id").distinct().count()).isEqualTo(8);
    assertThat(delta("actions/replenishment_orders").count()).isEqualTo(8);
    try (okhttp3.mockwebserver.MockWebServer pushgateway = new okhttp3.mockwebserver.MockWebServer()) {
      pushgateway.enqueue(new okhttp3.mockwebserver.MockResponse().setResponseCode(200));
      pushgateway.enqueue(new okhttp3.mockwebserver.MockResponse().setResponseCode(503).setBody("down"));
      CliRun monitor = cli("monitor", "--date", NIGHT, "--pushgateway", pushgateway.url("/").toString());
      assertThat(monitor.code()).as(monitor.err()).isZero();
      assertThat(monitor.out())
          .contains("demand monitoring for 2023-12-31: 56 predictions")
          .contains("plots: ")
          .contains("pushed demand monitoring metrics to the Pushgateway");
      // a failed push warns but does not fail the night: the monitoring tables are written
      assertThat(monitor.err()).contains("WARNING: Pushgateway").contains("answered 503");
      okhttp3.mockwebserver.RecordedRequest demand = pushgateway.takeRequest();
      assertThat(demand.getPath()).isEqualTo("/metrics/job/nightshift_monitor/use_case/demand");
      assertThat(demand.getBody().readUtf8()).contains("nightshift_predictions 56\n");
    }
    assertThat(delta("monitoring/prediction_stats").count()).isEqualTo(2);
    // both scored nights, 56 predictions each
    assertThat(delta("predictions/demand").where("forecast_p10 <= forecast_p50 AND forecast_p50 <= forecast_p90").count())
        .isEqualTo(2 * 56);
  }

  @Test
  @Order(4)
  void retrainingOnTheSameDataKeepsTheChampionUnlessForced() {
    CliRun again = cli("train", "--as-of", NIGHT, "--use-case", "demand");
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out())
        .contains("nightshift-demand version 2 is @challenger (champion unchanged)")
        .containsPattern("gate: on 1 of 3 backtest windows out of sample for both \\(\\S+\\), wape: challenger")
        // 2 stores x 4 items: too few entities for the gate's bootstrap interval (PromotionGate.MIN_BLOCKS)
        .contains("entities (bootstrap blocks), fewer than the 10")
        .contains("--force-promote");
    CliRun forced = cli("train", "--as-of", NIGHT, "--use-case", "demand", "--force-promote", "--backtest-folds", "1");
    assertThat(forced.code()).as(forced.err()).isZero();
    assertThat(forced.out()).contains("nightshift-demand version 3 is @challenger and now @champion").contains("forced");
  }

  @Test
  @Order(5)
  void badDateIsExitCodeTwoNamingOptionAndFormat() {
    CliRun r = cli("score", "--date", "31/12/2023");
    assertThat(r.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(r.err()).contains("Invalid date for --date: '31/12/2023'").contains("YYYY-MM-DD");
  }

  @Test
  @Order(6)
  void missingTableIsExitCodeTwoNamingTableAndFix() {
    Path empty = SparkTestSession.tempDir("empty-warehouse");
    CliRun r = runWith(empty, "score", "--date", NIGHT, "--use-case", "demand");
    assertThat(r.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(r.err())
        .contains("Missing table features/demand_daily")
        .contains("run 'nightshift features build --as-of 2023-12-31' first");
    CliRun raw = runWith(empty, "features", "build", "--as-of", NIGHT);
    assertThat(raw.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(raw.err()).contains("Missing raw/sales: no files at ").contains("nightshift generate");
  }

  @Test
  @Order(6)
  void malformedRawRowIsExitCodeTwoNamingFileRowAndColumn() throws IOException {
    // the generated raw sales and price plan, plus a late file whose second row has a price where units belong
    Path copy = SparkTestSession.tempDir("malformed-warehouse");
    for (String dataset : List.of("raw/sales", "raw/price_plan")) {
      Path from = warehouse.resolve(dataset);
      try (Stream<Path> files = Files.walk(from)) {
        for (Path f : files.toList()) {
          Path to = copy.resolve(dataset).resolve(from.relativize(f).toString());
          if (Files.isDirectory(f)) {
            Files.createDirectories(to);
          } else if (!f.getFileName().toString().endsWith(".crc")) {
            Files.copy(f, to);
          }
        }
      }
    }
    Path late = copy.resolve("raw/sales/part-late.csv");
    Files.writeString(late, "date,store,item,sales\n2023-12-30,1,1,4\n2023-12-31,1,1,4.99\n");

    CliRun r = runWith(copy, "features", "build", "--as-of", NIGHT, "--use-case", "demand");
    assertThat(r.code()).as(r.err()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(r.err())
        .contains("error: Malformed row in raw/sales (" + copy.resolve("raw/sales") + "): file " + late.toUri())
        .contains("row '2023-12-31,1,1,4.99': column sales (int) cannot be '4.99'")
        .contains("Fix: correct or remove the row");
    // nothing written: no version of the feature table (Delta may leave an empty _delta_log/_commits directory)
    assertThat(DeltaTables.exists(spark, copy.resolve("features/demand_daily").toString())).isFalse();
  }

  @Test
  @Order(6)
  void withEveryUseCaseTheInputsOfAllAreCheckedBeforeTheFirstWrite() {
    // a warehouse with the demand features only: the maintenance night cannot be scored, replayed or acted on, and
    // that stops each command before it writes the demand night (which comes first)
    Path partial = SparkTestSession.tempDir("demand-only-warehouse");
    CliRun gen = runWith(partial, "generate", "--seed", "3", "--start", "2023-01-01", "--end", NIGHT, "--stores", "2",
        "--items", "4", "--machines", "8");
    assertThat(gen.code()).as(gen.err()).isZero();
    CliRun build = runWith(partial, "features", "build", "--as-of", NIGHT, "--use-case", "demand");
    assertThat(build.code()).as(build.err()).isZero();
    String predictions = partial.resolve("predictions/demand").toString();
    String manifests = partial.resolve("monitoring/scoring_manifest").toString();

    CliRun score = runWith(partial, "score", "--date", NIGHT);
    assertThat(score.code()).as(score.err()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(score.err()).contains("Missing table features/machine_daily")
        .contains("run 'nightshift features build --as-of " + NIGHT + "' first");
    assertThat(score.out()).doesNotContain("demand: ");
    assertThat(DeltaTables.exists(spark, predictions)).isFalse();
    assertThat(DeltaTables.exists(spark, manifests)).isFalse();

    CliRun demand = runWith(partial, "score", "--date", NIGHT, "--use-case", "demand");
    assertThat(demand.code()).as(demand.err()).isZero();
    long predictionsVersion = DeltaTables.version(spark, predictions);
    long manifestsVersion = DeltaTables.version(spark, manifests);

    CliRun replay = runWith(partial, "score", "--date", NIGHT, "--replay");
    assertThat(replay.code()).as(replay.err()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(replay.err()).contains("monitoring/scoring_manifest").contains("maintenance night " + NIGHT);
    assertThat(replay.out()).doesNotContain("replayed");
    assertThat(DeltaTables.version(spark, predictions)).isEqualTo(predictionsVersion);
    assertThat(DeltaTables.version(spark, manifests)).isEqualTo(manifestsVersion);

    CliRun act = runWith(partial, "act", "--date", NIGHT);
    assertThat(act.code()).as(act.err()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(act.err()).contains("Missing table predictions/maintenance")
        .contains("run 'nightshift score --date " + NIGHT + " --use-case maintenance' first");
    assertThat(act.out()).doesNotContain("replenishment: ");
    assertThat(DeltaTables.exists(spark, partial.resolve("actions/replenishment_orders").toString())).isFalse();
    assertThat(partial.resolve("exports")).doesNotExist();
  }

  @Test
  @Order(7)
  void unknownAliasIsExitCodeTwoListingAliases() {
    CliRun r = cli("score", "--date", NIGHT, "--model", "nightshift-demand@gold");
    assertThat(r.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(r.err())
        .contains("Unknown model alias: nightshift-demand@gold")
        .contains("aliases of nightshift-demand: challenger, champion");
    // a version number the registry does not have, and a version of a model it does not know
    CliRun version = cli("score", "--date", NIGHT, "--model", "nightshift-demand/99");
    assertThat(version.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(version.err())
        .contains("Unknown model version: nightshift-demand/99 does not exist (versions of nightshift-demand: 1, ")
        .contains("alias such as nightshift-demand@champion");
    CliRun model = cli("score", "--date", NIGHT, "--model", "nightshift-nope/1");
    assertThat(model.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(model.err()).contains("Unknown model: no registered model named nightshift-nope");
  }

  @Test
  @Order(8)
  void usageErrorsAreExitCodeTwo() {
    assertThat(cli("score").code()).isEqualTo(NightshiftCli.BAD_INPUT); // missing --date
    CliRun unknownUseCase = cli("train", "--as-of", NIGHT, "--use-case", "churn");
    assertThat(unknownUseCase.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(unknownUseCase.err()).contains("'churn'").contains("demand, maintenance or all");
    CliRun folds = cli("train", "--as-of", NIGHT, "--backtest-folds", "0");
    assertThat(folds.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(folds.err()).contains("--backtest-folds").contains("give 1 or more");
  }

  @Test
  @Order(9)
  void declaredFeatureViewsBuildFromTheGeneratedRawData() throws Exception {
    Path conf = io.nightshift.testing.LocalMlflowServer.projectRoot().resolve("conf/features");
    CliRun validate = cli("features", "validate", conf.toString());
    assertThat(validate.code()).as(validate.err()).isZero();
    assertThat(validate.out()).contains("sales_daily: valid (").contains("cmapss_fd001: valid (");

    CliRun build =
        cli("features", "build", "--as-of", NIGHT, "--view", conf.resolve("sales_daily.yaml").toString(),
            "--view", conf.resolve("machine_telemetry_daily.yaml").toString());
    assertThat(build.code()).as(build.err()).isZero();
    assertThat(build.out())
        .contains("features/sales_daily: 2920 rows written (whole table; Delta version 0, definition ")
        .containsPattern("features/machine_telemetry_daily: \\d+ rows written \\(whole table; Delta version 0");
    CliRun again = cli("features", "build", "--as-of", NIGHT, "--view", conf.resolve("sales_daily.yaml").toString());
    assertThat(again.out()).contains("features/sales_daily: 0 rows written (up to date through 2023-12-31; Delta version 0");
    CliRun lateData =
        cli("features", "build", "--from", "2023-12-30", "--to", NIGHT, "--view", conf.resolve("sales_daily.yaml").toString());
    assertThat(lateData.code()).as(lateData.err()).isZero();
    assertThat(lateData.out()).contains("features/sales_daily: 16 rows written (2023-12-30..2023-12-31; Delta version 1");
    Dataset<Row> sales = delta("features/sales_daily");
    assertThat(sales.where("sales_lag_1 IS NULL").count()).isEqualTo(8L); // the first day of each of 8 series
    assertThat(delta("registry/feature_views").count()).isEqualTo(3L); // two whole builds, one range

    // a changed definition is refused (exit code 2) until asked to backfill
    Path changed = SparkTestSession.tempDir("changed-view").resolve("sales_daily.yaml");
    java.nio.file.Files.writeString(
        changed,
        java.nio.file.Files.readString(conf.resolve("sales_daily.yaml")).replace("windows: [7, 28]", "windows: [7, 21]"));
    CliRun refused = cli("features", "build", "--as-of", NIGHT, "--view", changed.toString());
    assertThat(refused.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(refused.err()).contains("feature view sales_daily changed").contains("--backfill");
    CliRun backfill = cli("features", "build", "--as-of", NIGHT, "--view", changed.toString(), "--backfill");
    assertThat(backfill.code()).as(backfill.err()).isZero();
    assertThat(delta("features/sales_daily").columns()).contains("sales_mean_21").doesNotContain("sales_mean_28");

    // a bad definition stops before any Spark job, naming the file and key
    Path bad = SparkTestSession.tempDir("bad-view").resolve("bad.yaml");
    java.nio.file.Files.writeString(
        bad, java.nio.file.Files.readString(conf.resolve("sales_daily.yaml")).replace("{column: sales, functions: [mean], windows: [91, 364]}", "{column: units, functions: [mean], windows: [91]}"));
    CliRun invalid = cli("features", "validate", bad.toString());
    assertThat(invalid.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(invalid.err()).contains(bad.toString()).contains("features.aggregations[1].column").contains("unknown column 'units'");
  }

  private static CliRun runWith(Path otherWarehouse, String... args) {
    Path saved = warehouse;
    warehouse = otherWarehouse;
    try {
      return cli(args);
    } finally {
      warehouse = saved;
    }
  }

  @Test
  @Order(10)
  void modelSpecsTrainOnDeclaredViewsBehindTheirQualityGate() throws Exception {
    Path root = io.nightshift.testing.LocalMlflowServer.projectRoot();
    Path view = root.resolve("conf/features/sales_daily.yaml");
    CliRun rebuild = cli("features", "build", "--as-of", NIGHT, "--view", view.toString(), "--backfill");
    assertThat(rebuild.code()).as(rebuild.err()).isZero();
    Path dir = SparkTestSession.tempDir("declared-spec");
    String spec = String.join("\n",
        "name: nightshift-sales-daily",
        "use_case: demand",
        "task: regression",
        "feature_view: " + view,
        "booster: {objective: 'reg:tweedie', eval_metric: rmse, max_depth: 4, eta: 0.2}",
        "num_round: 30",
        "validation: {days: 28}",
        "backtest: {folds: 2, step_days: 28}",
        "seed: 7",
        "");
    java.nio.file.Files.writeString(dir.resolve("sales.yaml"), spec);

    CliRun train = cli("train", "--as-of", NIGHT, "--spec", dir.resolve("sales.yaml").toString());
    assertThat(train.code()).as(train.err()).isZero();
    assertThat(train.out())
        .contains("nightshift-sales-daily version 1 is @challenger and now @champion")
        .contains("backtest: 2 folds, backtest_valid_wape_mean ");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("/runs/([0-9a-f]+)").matcher(train.out());
    assertThat(m.find()).isTrue();
    com.fasterxml.jackson.databind.JsonNode run =
        new io.nightshift.training.mlflow.MlflowRest(mlflow).get("runs/get", java.util.Map.of("run_id", m.group(1))).get("run");
    java.util.Map<String, String> tags = new java.util.HashMap<>();
    run.path("data").path("tags").forEach(t -> tags.put(t.get("key").asText(), t.get("value").asText()));
    assertThat(tags).containsEntry("nightshift.feature_view", "sales_daily").containsEntry("mlflow.runName",
        "nightshift-sales-daily-train-" + NIGHT);
    java.util.Map<String, Double> metrics = new java.util.HashMap<>();
    run.path("data").path("metrics").forEach(x -> metrics.put(x.get("key").asText(), x.get("value").asDouble()));
    assertThat(metrics).containsKeys("valid_wape", "valid_rmse", "backtest_valid_wape_mean");
    assertThat(metrics.get("quality_checks")).isEqualTo(9.0); // labeled rows, 3 + 1 key checks, 4 declared
    assertThat(metrics.get("valid_wape")).isBetween(0.05, 0.6);

    CliRun score = cli("score", "--date", NIGHT, "--model", "nightshift-sales-daily@champion");
    assertThat(score.code()).as(score.err()).isZero();
    assertThat(score.out()).contains("nightshift-sales-daily: 8 predictions for " + NIGHT);
    assertThat(delta("predictions/nightshift-sales-daily").where("date = '" + NIGHT + "' AND prediction > 0").count())
        .isEqualTo(8L);
    // the night replays from its manifest (recorded under the model's name) with the same rows
    java.util.List<org.apache.spark.sql.Row> night =
        delta("predictions/nightshift-sales-daily").where("score_date = '" + NIGHT + "'").orderBy("store", "item")
            .collectAsList();
    CliRun replay = cli("score", "--date", NIGHT, "--model", "nightshift-sales-daily", "--replay");
    assertThat(replay.code()).as(replay.err()).isZero();
    assertThat(replay.out()).contains("nightshift-sales-daily: replayed " + NIGHT + " with model version 1")
        .contains(": 8 predictions");
    assertThat(delta("predictions/nightshift-sales-daily").where("score_date = '" + NIGHT + "'").orderBy("store", "item")
            .collectAsList())
        .isEqualTo(night);

    // an expectation the table breaks stops training with exit code 3, before any run is created
    Path strict = dir.resolve("sales_daily.yaml");
    java.nio.file.Files.writeString(strict,
        java.nio.file.Files.readString(view).replace("ranges: {sales: {min: 0}}", "ranges: {sales: {min: 0, max: 1}}"));
    java.nio.file.Files.writeString(dir.resolve("strict.yaml"), spec.replace("feature_view: " + view, "feature_view: sales_daily.yaml"));
    CliRun refused = cli("train", "--as-of", NIGHT, "--spec", dir.resolve("strict.yaml").toString());
    assertThat(refused.code()).isEqualTo(NightshiftCli.QUALITY_GATE_FAILED);
    assertThat(refused.err()).contains("Quality gate sales_daily").containsPattern("FAIL sales\\s+out_of_range_rows");

    // scoring checks the view's gate too: a night the table does not reach fails its freshness expectation
    CliRun stale = cli("score", "--date", "2024-01-05", "--model", "nightshift-sales-daily@champion");
    assertThat(stale.code()).isEqualTo(NightshiftCli.QUALITY_GATE_FAILED);
    assertThat(stale.err()).contains("Quality gate sales_daily as of 2024-01-05: FAILED").containsPattern("FAIL date\\s+age_days");
  }
}
