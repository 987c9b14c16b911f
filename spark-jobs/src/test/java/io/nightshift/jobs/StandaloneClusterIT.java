package io.nightshift.jobs;

import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.max;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.testing.ConcurrentWriters;
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
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The shaded job jar on a real Spark standalone cluster, with its warehouse on a real S3-compatible server, as the
 * README's "Try it on this machine" runs them: {@code scripts/spark-cluster.sh} starts a master and two workers
 * (separate JVMs, 1 core and 1g each) and {@code scripts/s3-server.sh} an S3 server (moto), both on 127.0.0.1;
 * {@code bin/spark-submit} submits generate, features build, train and score to the cluster in client mode with the
 * standalone preset and an {@code s3a://} warehouse, credentials only in the environment (fresh random ones each run:
 * nothing is committed). This JVM then reads the tables back over S3A; the master and the workers' executor logs must
 * show that every application ran on the cluster's executors; and concurrent writers of one Delta table on S3 must
 * leave it consistent.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
  static final String NIGHT = "2023-12-31";
  static final String BUCKET = "nightshift-it";
  static final Path ROOT = LocalMlflowServer.projectRoot();
  static Path clusterHome;
  static Path logs;
  static Path clusterLogs;
  static Path s3Logs;
  static Map<String, String> clusterEnv;
  static Map<String, String> s3Env;
  static String masterUrl;
  static String masterUi;
  static String mlflow;
  static String endpoint;
  static String accessKey;
  static String secretKey;
  static String warehouse;
  static final List<String> driverOutputs = new ArrayList<>();

  @BeforeAll
  static void startClusterAndS3() {
    mlflow = LocalMlflowServer.dedicated(); // asserts version 1 of nightshift-demand, whatever ran before
    clusterHome = SparkTestSession.tempDir("spark-cluster");
    logs = SparkTestSession.tempDir("cluster-logs");
    clusterLogs = SparkTestSession.tempDir("cluster-server");
    s3Logs = SparkTestSession.tempDir("s3-server");
    s3Env =
        Map.of(
            "NIGHTSHIFT_S3_HOME", s3Logs.resolve("home").toString(),
            "NIGHTSHIFT_S3_PORT", Integer.toString(ExternalProcess.freePort()),
            "NIGHTSHIFT_S3_BUCKETS", BUCKET);
    endpoint =
        ExternalProcess.startServer(
            "scripts/s3-server.sh", s3Logs, s3Env, 600,
            "http://127.0.0.1:" + s3Env.get("NIGHTSHIFT_S3_PORT"));
    accessKey = "it-" + UUID.randomUUID();
    secretKey = UUID.randomUUID().toString();
    warehouse = "s3a://" + BUCKET + "/nightly/" + UUID.randomUUID();

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
            "scripts/spark-cluster.sh", clusterLogs, clusterEnv, 180,
            "spark://127.0.0.1:" + clusterEnv.get("NIGHTSHIFT_SPARK_MASTER_PORT"));
    masterUi = "http://127.0.0.1:" + uiPort;
  }

  @AfterAll
  static void stopClusterAndS3() {
    if (clusterEnv != null) {
      ExternalProcess.stopServer("scripts/spark-cluster.sh", clusterLogs, clusterEnv);
    }
    if (s3Env != null) {
      ExternalProcess.stopServer("scripts/s3-server.sh", s3Logs, s3Env);
    }
  }

  /**
   * The S3A settings for the local server. Credentials are not among them: spark-submit's environment has them, and
   * Spark copies them from there into the Hadoop configuration it sends the executors, which the workers start
   * without that environment.
   */
  static Map<String, String> s3aSettings() {
    return Map.of(
        "fs.s3a.endpoint", endpoint,
        "fs.s3a.endpoint.region", "us-east-1",
        "fs.s3a.path.style.access", "true",
        "fs.s3a.connection.ssl.enabled", "false");
  }

  /** hadoop-aws and its AWS SDK (spark-jobs/target/s3a-classpath.txt), as a class path. */
  static String s3aClassPath() throws IOException {
    return Files.readString(ROOT.resolve("spark-jobs/target/s3a-classpath.txt"), StandardCharsets.UTF_8).strip();
  }

  /**
   * bin/spark-submit of the shaded jar to the cluster, as the README (Running on a cluster) shows it. hadoop-aws
   * reaches the driver and the executors from the local disk, as on a cluster where it is installed on every node
   * ({@code --jars} would copy the 280 MB AWS SDK to every executor of every application).
   */
  static ExternalProcess.Result submit(String... nightshiftArgs) throws IOException {
    String s3a = s3aClassPath();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "bin/spark-submit",
                "--master", masterUrl,
                "--properties-file", "conf/spark/standalone.conf",
                "--driver-memory", "1g",
                "--driver-class-path", s3a,
                "--conf", "spark.executor.extraClassPath=" + s3a,
                // the preset's executors are bigger than these workers
                "--conf", "spark.executor.cores=1",
                "--conf", "spark.executor.memory=1g",
                "--conf", "spark.task.cpus=1",
                "--conf", "spark.driver.host=127.0.0.1",
                "--conf", "spark.sql.shuffle.partitions=4",
                "--conf", "spark.databricks.delta.snapshotPartitions=2",
                "--conf", "spark.executor.extraJavaOptions=" + ExternalProcess.SHORT_LIVED_JVM));
    for (Map.Entry<String, String> e : s3aSettings().entrySet()) {
      cmd.addAll(List.of("--conf", "spark.hadoop." + e.getKey() + "=" + e.getValue()));
    }
    cmd.addAll(
        List.of(
            "--class", "io.nightshift.jobs.NightshiftCli",
            "spark-jobs/target/nightshift-jobs.jar",
            "--warehouse", warehouse,
            "--tracking-uri", mlflow));
    cmd.addAll(List.of(nightshiftArgs));
    Path log = logs.resolve(String.join("-", nightshiftArgs).replaceAll("[^A-Za-z0-9-]", "") + ".log");
    ExternalProcess.Result r =
        ExternalProcess.run(
            log,
            Map.of(
                "AWS_ACCESS_KEY_ID", accessKey,
                "AWS_SECRET_ACCESS_KEY", secretKey,
                "AWS_REGION", "us-east-1",
                "SPARK_LOCAL_IP", "127.0.0.1",
                "SPARK_SUBMIT_OPTS", ExternalProcess.SHORT_LIVED_JVM),
            300,
            cmd);
    driverOutputs.add(r.output());
    System.err.printf("spark-submit %s: exit %d in %.1f s%n", String.join(" ", nightshiftArgs), r.code(), r.seconds());
    return r;
  }

  /** This JVM's session, reaching the bucket with the same settings (per-bucket keys, so nothing else changes). */
  static SparkSession s3Session() {
    SparkSession spark = SparkTestSession.get();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    for (Map.Entry<String, String> e : s3aSettings().entrySet()) {
      String key = e.getKey().replace("fs.s3a.", "fs.s3a.bucket." + BUCKET + ".");
      conf.set(key, e.getValue());
    }
    // the test JVM's own environment has no AWS credentials; give this bucket the run's random ones
    conf.set("fs.s3a.bucket." + BUCKET + ".aws.credentials.provider",
        "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    conf.set("fs.s3a.bucket." + BUCKET + ".access.key", accessKey);
    conf.set("fs.s3a.bucket." + BUCKET + ".secret.key", secretKey);
    return spark;
  }

  @Test
  @Order(1)
  void pipelineRunsOnTheClusterWithItsTablesOnS3() throws IOException {
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
    assertThat(score.output())
        .contains("demand: 42 predictions for 2023-12-31 with models:/nightshift-demand@champion (version 1");

    // progress lines (JobContext): the Spark UI once, each stage's time and records written
    assertThat(build.output())
        .containsPattern("Spark application app-\\d+-\\d+ on " + Pattern.quote(masterUrl) + "; Spark UI: http://")
        .containsPattern("Stage features-build-demand ended after \\d+\\.\\d s: \\d+ Spark jobs, \\d+ records read, "
            + "2022 records written");
  }

  @Test
  @Order(2)
  void tablesReadBackOverS3aHoldTheExpectedRows() {
    SparkSession spark = s3Session();
    Dataset<Row> featureTable = spark.read().format("delta").load(warehouse + "/features/demand_daily");
    List<Row> features =
        featureTable.groupBy().agg(count("*"), max("date"), countDistinct("store", "item")).collectAsList();
    assertThat(features.get(0).getLong(0)).isEqualTo(2022L);
    assertThat(features.get(0).get(1).toString()).isEqualTo("2024-01-07");
    assertThat(features.get(0).getLong(2)).isEqualTo(6L);

    List<Row> predictions = spark.read().format("delta").load(warehouse + "/predictions/demand").collectAsList();
    assertThat(predictions).hasSize(42);
    Set<String> keys = new TreeSet<>();
    for (Row r : predictions) {
      assertThat(r.getAs("score_date").toString()).isEqualTo(NIGHT);
      assertThat((Integer) r.getAs("horizon_days")).isBetween(1, 7);
      assertThat((Double) r.getAs("prediction")).isNotNegative();
      keys.add(r.getAs("store") + "/" + r.getAs("item") + "/" + r.getAs("target_date"));
    }
    assertThat(keys).hasSize(42); // 2 stores x 3 items x 7 days, no duplicates
    // the Delta log really is in the bucket, one commit per write
    assertThat(DeltaTables.version(spark, warehouse + "/predictions/demand")).isZero();
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

    // each application had one executor on each worker; Spark's launcher gave them the Java 17 opens and hadoop-aws
    // from the local disk; no log holds the run's secret key
    assertThat(String.join("\n", driverOutputs)).doesNotContain(secretKey);
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
            .contains("\"--app-id\" \"" + app + "\"")
            .containsPattern("-cp\" \"[^\"]*hadoop-aws-[0-9.]+\\.jar")
            .doesNotContain(secretKey);
        assertThat(executor.resolve("nightshift-jobs.jar")).exists();
      }
    }
  }

  @Test
  @Order(4)
  void concurrentWritersOfOneTableOnS3StayConsistent() throws Exception {
    SparkSession spark = s3Session();
    String path = warehouse + "/concurrent/predictions";
    ConcurrentWriters.runAndCheck(spark, path, (rows, day) -> DeltaTables.replacePartition(rows, path, "day", day));
    // five commits, each a whole version: the first write and the four concurrent ones (retries commit once)
    assertThat(DeltaTables.version(spark, path)).isEqualTo(4L);
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
