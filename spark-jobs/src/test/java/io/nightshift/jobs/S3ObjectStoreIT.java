package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.featurestore.DeltaTables;
import io.nightshift.testing.ConcurrentWriters;
import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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
 * Delta tables on S3 through hadoop-aws {@code s3a://}, against a real S3-compatible server on 127.0.0.1
 * ({@code scripts/s3-server.sh}: moto's standalone server). The pipeline runs through {@code bin/spark-submit} with
 * an {@code s3a://} warehouse and credentials only in the environment (fresh random ones each run: nothing is
 * committed), then this JVM reads the feature and prediction tables back over S3A and runs concurrent writers
 * against one Delta table on S3.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3ObjectStoreIT {
  static final String NIGHT = "2023-12-31";
  static final String BUCKET = "nightshift-it";
  static final Path ROOT = LocalMlflowServer.projectRoot();
  static Map<String, String> serverEnv;
  static Path logs;
  static String endpoint;
  static String accessKey;
  static String secretKey;
  static String warehouse;
  static String mlflow;

  @BeforeAll
  static void startS3() {
    mlflow = LocalMlflowServer.trackingUri();
    logs = SparkTestSession.tempDir("s3-it");
    serverEnv =
        Map.of(
            "NIGHTSHIFT_S3_HOME", logs.resolve("server").toString(),
            "NIGHTSHIFT_S3_PORT", Integer.toString(ExternalProcess.freePort()),
            "NIGHTSHIFT_S3_BUCKETS", BUCKET);
    endpoint =
        ExternalProcess.startServer(
            "scripts/s3-server.sh", logs, serverEnv, 600, "http://127.0.0.1:" + serverEnv.get("NIGHTSHIFT_S3_PORT"));
    accessKey = "it-" + UUID.randomUUID();
    secretKey = UUID.randomUUID().toString();
    warehouse = "s3a://" + BUCKET + "/nightly/" + UUID.randomUUID();
  }

  @AfterAll
  static void stopS3() {
    if (serverEnv != null) {
      ExternalProcess.stopServer("scripts/s3-server.sh", logs, serverEnv);
    }
  }

  /** The S3A settings for the local server; credentials are not among them (they come from the environment). */
  static Map<String, String> s3aSettings() {
    return Map.of(
        "fs.s3a.endpoint", endpoint,
        "fs.s3a.endpoint.region", "us-east-1",
        "fs.s3a.path.style.access", "true",
        "fs.s3a.connection.ssl.enabled", "false",
        "fs.s3a.aws.credentials.provider", "com.amazonaws.auth.EnvironmentVariableCredentialsProvider");
  }

  static ExternalProcess.Result submit(String... nightshiftArgs) throws IOException {
    String s3aJars =
        Files.readString(ROOT.resolve("spark-jobs/target/s3a-classpath.txt"), StandardCharsets.UTF_8).strip().replace(':', ',');
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "bin/spark-submit",
                "--master", "local[2]",
                "--properties-file", "conf/spark/local.conf",
                "--driver-memory", "2g",
                "--jars", s3aJars,
                "--conf", "spark.driver.host=127.0.0.1",
                "--conf", "spark.sql.shuffle.partitions=4"));
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
  void pipelineWritesItsTablesToS3() throws IOException {
    ExternalProcess.Result gen =
        submit("generate", "--seed", "7", "--start", "2023-01-01", "--end", NIGHT, "--stores", "2", "--items", "3",
            "--machines", "4");
    assertThat(gen.code()).as(gen.output()).isZero();
    assertThat(gen.output()).contains("generated 2190 sales rows");

    ExternalProcess.Result build = submit("features", "build", "--as-of", NIGHT, "--use-case", "demand");
    assertThat(build.code()).as(build.output()).isZero();
    assertThat(build.output()).contains("features/demand_daily: 2022 rows as of 2023-12-31");

    ExternalProcess.Result train = submit("train", "--as-of", NIGHT, "--use-case", "demand", "--backtest-folds", "1");
    assertThat(train.code()).as(train.output()).isZero();
    assertThat(train.output()).contains("now @champion");

    ExternalProcess.Result score = submit("score", "--date", NIGHT, "--use-case", "demand");
    assertThat(score.code()).as(score.output()).isZero();
    assertThat(score.output()).contains("demand: 42 predictions for 2023-12-31");
  }

  @Test
  @Order(2)
  void featureAndPredictionTablesReadBackOverS3a() {
    SparkSession spark = s3Session();
    Dataset<Row> features = spark.read().format("delta").load(warehouse + "/features/demand_daily");
    assertThat(features.count()).isEqualTo(2022L);
    assertThat(features.select("store", "item").distinct().count()).isEqualTo(6L);

    Dataset<Row> predictions = spark.read().format("delta").load(warehouse + "/predictions/demand");
    assertThat(predictions.count()).isEqualTo(42L);
    assertThat(predictions.select("store", "item", "target_date").distinct().count()).isEqualTo(42L);
    assertThat(predictions.where("score_date <> DATE'2023-12-31' OR prediction < 0").count()).isZero();
    // the Delta log really is in the bucket, one commit per write
    assertThat(DeltaTables.version(spark, warehouse + "/predictions/demand")).isZero();
  }

  @Test
  @Order(3)
  void concurrentWritersOfOneTableOnS3StayConsistent() throws Exception {
    SparkSession spark = s3Session();
    String path = warehouse + "/concurrent/predictions";
    ConcurrentWriters.runAndCheck(spark, path, (rows, day) -> DeltaTables.replacePartition(rows, path, "day", day));
    // five commits, each a whole version: the first write and the four concurrent ones (retries commit once)
    assertThat(DeltaTables.version(spark, path)).isEqualTo(4L);
  }
}
