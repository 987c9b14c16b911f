package io.nightshift.jobs;

import io.nightshift.core.Errors;
import io.nightshift.core.Warehouse;
import io.nightshift.training.mlflow.MlflowRegistry;
import io.nightshift.training.mlflow.MlflowTracker;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * What the commands share: the warehouse, a lazily created SparkSession (so {@code --help} and input errors never
 * start Spark), and the MLflow connection.
 */
final class JobContext implements AutoCloseable {
  private final Warehouse warehouse;
  private final String trackingUri;
  private final String master;
  private SparkSession spark;
  private boolean createdSpark;
  private MlflowTracker tracker;

  JobContext(Warehouse warehouse, String trackingUri, String master) {
    this.warehouse = warehouse;
    this.trackingUri = trackingUri;
    this.master = master;
  }

  Warehouse warehouse() {
    return warehouse;
  }

  SparkSession spark() {
    if (spark == null) {
      boolean existed = SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
      spark = SparkSessions.create("nightshift", master);
      createdSpark = !existed;
    }
    return spark;
  }

  /** Names the Spark jobs that follow, so the Spark UI reads like the pipeline. */
  void stage(String name, String description) {
    spark().sparkContext().setJobGroup(name, description, false);
  }

  MlflowTracker tracker() {
    if (tracker == null) {
      if (trackingUri == null || trackingUri.isBlank()) {
        throw Errors.missingSetting(
            "MLFLOW_TRACKING_URI",
            "export MLFLOW_TRACKING_URI=http://host:port (or pass --tracking-uri); 'bin/demo' starts a local MLflow "
                + "server for you, and 'scripts/mlflow.sh start' starts one on http://127.0.0.1:5000");
      }
      tracker = new MlflowTracker(trackingUri);
    }
    return tracker;
  }

  MlflowRegistry registry() {
    return new MlflowRegistry(tracker().rest());
  }

  String trackingUri() {
    return trackingUri;
  }

  /** The code version recorded with runs and predictions: the git commit when the launcher knows it. */
  static String codeVersion() {
    String commit = System.getProperty("nightshift.git.commit", System.getenv("NIGHTSHIFT_GIT_COMMIT"));
    if (commit != null && !commit.isBlank()) {
      return commit;
    }
    String v = NightshiftCli.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** MLflow tags identifying the code and the orchestrator run. */
  static Map<String, String> runTags(String command) {
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("mlflow.source.name", "nightshift " + command);
    tags.put("mlflow.source.type", "JOB");
    tags.put("mlflow.user", System.getProperty("user.name", "unknown"));
    String commit = System.getProperty("nightshift.git.commit", System.getenv("NIGHTSHIFT_GIT_COMMIT"));
    if (commit != null && !commit.isBlank()) {
      tags.put("mlflow.source.git.commit", commit);
    }
    putEnv(tags, "airflow.dag_id", "AIRFLOW_CTX_DAG_ID");
    putEnv(tags, "airflow.run_id", "AIRFLOW_CTX_DAG_RUN_ID");
    putEnv(tags, "airflow.task_id", "AIRFLOW_CTX_TASK_ID");
    tags.put("nightshift.code_version", codeVersion());
    return tags;
  }

  private static void putEnv(Map<String, String> tags, String tag, String env) {
    String v = System.getenv(env);
    if (v != null && !v.isBlank()) {
      tags.put(tag, v);
    }
  }

  @Override
  public void close() {
    if (tracker != null) {
      tracker.close();
    }
    if (spark != null && createdSpark) {
      spark.stop();
    }
  }
}
