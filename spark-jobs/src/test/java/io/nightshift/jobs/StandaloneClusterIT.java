package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The shaded job jar on a real Spark standalone cluster: {@code scripts/spark-cluster.sh} starts a master and two
 * workers (separate JVMs, 1 core and 1g each) on 127.0.0.1, and {@code bin/spark-submit} submits generate, features
 * build, train and score to it in client mode with the standalone preset. The tables must hold the expected rows,
 * and the master and the workers' executor logs must show that every application ran on the cluster's executors.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
  static final String NIGHT = "2023-12-31";
  static Path clusterHome;
  static Path warehouse;
  static Path logs;
  static Map<String, String> clusterEnv;
  static String masterUrl;
  static String masterUi;
  static String mlflow;
  static final List<String> driverOutputs = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    mlflow = LocalMlflowServer.dedicated(); // asserts version 1 of nightshift-demand, whatever ran before
    clusterHome = SparkTestSession.tempDir("spark-cluster");
    warehouse = SparkTestSession.tempDir("cluster-warehouse");
    logs = SparkTestSession.tempDir("cluster-logs");
    int uiPort = ExternalProcess.freePort();
    clusterEnv =
        Map.of(
            "NIGHTSHIFT_SPARK_CLUSTER_HOME", clusterHome.toString(),
            "NIGHTSHIFT_SPARK_MASTER_PORT", Integer.toString(ExternalProcess.freePort()),
            "NIGHTSHIFT_SPARK_MASTER_UI_PORT", Integer.toString(uiPort),
            "NIGHTSHIFT_SPARK_WORKERS", "2",
            "NIGHTSHIFT_SPARK_WORKER_CORES", "1",
            "NIGHTSHIFT_SPARK_WORKER_MEMORY", "1g");
    masterUrl =
        ExternalProcess.startServer(
            "scripts/spark-cluster.sh", logs, clusterEnv, 180,
            "spark://127.0.0.1:" + clusterEnv.get("NIGHTSHIFT_SPARK_MASTER_PORT"));
    masterUi = "http://127.0.0.1:" + uiPort;
  }

  @AfterAll
  static void stopCluster() {
    if (clusterEnv != null) {
      ExternalProcess.stopServer("scripts/spark-cluster.sh", logs, clusterEnv);
    }
  }

  /** bin/spark-submit of the shaded jar to the cluster, as the README (Running on a cluster) shows it. */
  static ExternalProcess.Result submit(String... nightshiftArgs) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "bin/spark-submit",
                "--master", masterUrl,
                "--properties-file", "conf/spark/standalone.conf",
                "--driver-memory", "1g",
                // the preset's executors are bigger than these workers
                "--conf", "spark.executor.cores=1",
                "--conf", "spark.executor.memory=1g",
                "--conf", "spark.task.cpus=1",
                "--conf", "spark.driver.host=127.0.0.1",
                "--conf", "spark.sql.shuffle.partitions=4",
                "--conf", "spark.databricks.delta.snapshotPartitions=2",
                "--conf", "spark.executor.extraJavaOptions=" + ExternalProcess.SHORT_LIVED_JVM,
                "--class", "io.nightshift.jobs.NightshiftCli",
                "spark-jobs/target/nightshift-jobs.jar",
                "--warehouse", warehouse.toString(),
                "--tracking-uri", mlflow));
    cmd.addAll(List.of(nightshiftArgs));
    Path log = logs.resolve(String.join("-", nightshiftArgs).replaceAll("[^A-Za-z0-9-]", "") + ".log");
    ExternalProcess.Result r =
        ExternalProcess.run(log, Map.of("SPARK_LOCAL_IP", "127.0.0.1", "SPARK_SUBMIT_OPTS", ExternalProcess.SHORT_LIVED_JVM), 300, cmd);
    driverOutputs.add(r.output());
    System.err.printf("spark-submit %s: exit %d in %.1f s%n", String.join(" ", nightshiftArgs), r.code(), r.seconds());
    return r;
  }

  @Test
  @Order(1)
  void pipelineRunsOnTheCluster() {
    ExternalProcess.Result gen =
        submit("generate", "--seed", "42", "--start", "2023-01-01", "--end", NIGHT, "--stores", "2", "--items", "3",
            "--machines", "6");
    assertThat(gen.code()).as(gen.output()).isZero();
    assertThat(gen.output()).contains("generated 2190 sales rows and 2156 telemetry rows");

    ExternalProcess.Result build = submit("features", "build", "--as-of", NIGHT, "--use-case", "demand");
    assertThat(build.code()).as(build.output()).isZero();
    assertThat(build.output()).contains("features/demand_daily: 2022 rows as of 2023-12-31");

    ExternalProcess.Result train = submit("train", "--as-of", NIGHT, "--use-case", "demand", "--backtest-folds", "1");
    assertThat(train.code()).as(train.output()).isZero();
    assertThat(train.output())
        .contains("nightshift-demand version 1 is @challenger and now @champion")
        .contains("Training nightshift-demand (reg:tweedie)")
        .contains(", 2 workers");

    ExternalProcess.Result score = submit("score", "--date", NIGHT, "--use-case", "demand");
    assertThat(score.code()).as(score.output()).isZero();
    assertThat(score.output()).contains("demand: 42 predictions for 2023-12-31 with models:/nightshift-demand@champion (version 1");

    // progress lines (JobContext): the Spark UI once, each stage's time and records written
    assertThat(build.output())
        .containsPattern("Spark application app-\\d+-\\d+ on " + Pattern.quote(masterUrl) + "; Spark UI: http://")
        .containsPattern("Stage features-build-demand ended after \\d+\\.\\d s: \\d+ Spark jobs, \\d+ records read, 2022 records written");
  }

  @Test
  @Order(2)
  void tablesHoldTheExpectedRows() {
    SparkSession spark = SparkTestSession.get();
    List<Row> features =
        spark.read().format("delta").load(warehouse.resolve("features/demand_daily").toString())
            .groupBy().agg(org.apache.spark.sql.functions.count("*"), org.apache.spark.sql.functions.max("date"))
            .collectAsList();
    assertThat(features.get(0).getLong(0)).isEqualTo(2022L);
    assertThat(features.get(0).get(1).toString()).isEqualTo("2024-01-07");

    List<Row> predictions =
        spark.read().format("delta").load(warehouse.resolve("predictions/demand").toString()).collectAsList();
    assertThat(predictions).hasSize(42);
    Set<String> keys = new TreeSet<>();
    for (Row r : predictions) {
      assertThat(r.getAs("score_date").toString()).isEqualTo(NIGHT);
      assertThat((Integer) r.getAs("horizon_days")).isBetween(1, 7);
      assertThat((Double) r.getAs("prediction")).isNotNegative();
      keys.add(r.getAs("store") + "/" + r.getAs("item") + "/" + r.getAs("target_date"));
    }
    assertThat(keys).hasSize(42); // 2 stores x 3 items x 7 days, no duplicates
  }

  @Test
  @Order(3)
  void everyApplicationRanOnTheClustersExecutors() throws Exception {
    JsonNode master = new ObjectMapper().readTree(get(masterUi + "/json/"));
    assertThat(master.get("status").asText()).isEqualTo("ALIVE");
    assertThat(master.get("aliveworkers").asInt()).isEqualTo(2);
    JsonNode completed = master.get("completedapps");
    assertThat(completed).hasSize(4);
    Set<String> appIds = new TreeSet<>();
    for (JsonNode app : completed) {
      assertThat(app.get("name").asText()).isEqualTo("nightshift");
      assertThat(app.get("state").asText()).isEqualTo("FINISHED");
      assertThat(app.get("cores").asInt()).isEqualTo(2);
      assertThat(app.get("memoryperexecutor").asInt()).isEqualTo(1024);
      appIds.add(app.get("id").asText());
    }
    // the applications the drivers reported are the ones the master completed
    Set<String> reported = new TreeSet<>();
    Matcher m = Pattern.compile("Spark application (app-\\d+-\\d+) on ").matcher(String.join("\n", driverOutputs));
    while (m.find()) {
      reported.add(m.group(1));
    }
    assertThat(reported).isEqualTo(appIds);

    // each application had one executor on each worker; Spark's launcher gave them the Java 17 opens
    for (String app : appIds) {
      Path appDir = clusterHome.resolve("work").resolve(app);
      List<Path> executors;
      try (Stream<Path> s = Files.list(appDir)) {
        executors = s.sorted().toList();
      }
      assertThat(executors).extracting(p -> p.getFileName().toString()).containsExactly("0", "1");
      for (Path executor : executors) {
        String stderr = Files.readString(executor.resolve("stderr"), StandardCharsets.UTF_8);
        assertThat(stderr)
            .contains("org.apache.spark.executor.CoarseGrainedExecutorBackend")
            .contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED")
            .contains("\"--app-id\" \"" + app + "\"");
        assertThat(executor.resolve("nightshift-jobs.jar")).exists();
      }
    }
  }

  private static String get(String url) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r =
        http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url).isEqualTo(200);
    return r.body();
  }
}
