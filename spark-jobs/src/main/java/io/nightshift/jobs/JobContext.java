package io.nightshift.jobs;

import io.nightshift.core.Errors;
import io.nightshift.core.InvalidInputException;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.RawData;
import io.nightshift.training.mlflow.MlflowRegistry;
import io.nightshift.training.mlflow.MlflowTracker;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.apache.spark.SparkContext;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the commands share: the warehouse, a lazily created SparkSession (so {@code --help} and input errors never
 * start Spark), and the MLflow connection. Logs the Spark UI address once, and each stage's elapsed time and the
 * records its Spark tasks read and wrote when the stage ends (at the next stage or at close).
 */
final class JobContext implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JobContext.class);
  private final Warehouse warehouse;
  private final String trackingUri;
  private final String master;
  private SparkSession spark;
  private boolean createdSpark;
  private MlflowTracker tracker;
  private StageProgress progress;
  private StageProgress.Stage currentStage;

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
      SparkContext sc = spark.sparkContext();
      progress = new StageProgress();
      sc.addSparkListener(progress);
      LOG.info(
          "Spark application {} on {}; Spark UI: {}",
          sc.applicationId(), sc.master(), sc.uiWebUrl().isDefined() ? sc.uiWebUrl().get() : "disabled");
    }
    return spark;
  }

  /**
   * The input error for {@code failure} when it is Spark's failure on a raw CSV row that does not parse (naming the
   * dataset, file, row and column); empty for other failures or when no Spark session was started.
   */
  Optional<InvalidInputException> explainMalformedRawRow(Throwable failure) {
    return spark == null ? Optional.empty() : RawData.explainMalformed(spark, warehouse, failure);
  }

  /**
   * Names the Spark jobs that follow, so the Spark UI reads like the pipeline; ends the previous stage (logging
   * its elapsed time and records read and written).
   */
  void stage(String name, String description) {
    SparkContext sc = spark().sparkContext();
    endStage();
    currentStage = progress.begin(name);
    sc.setJobGroup(name, description, false);
    sc.setLocalProperty(StageProgress.STAGE_PROPERTY, currentStage.key());
    LOG.info("Stage {}: {}", name, description);
  }

  private void endStage() {
    if (currentStage == null) {
      return;
    }
    StageProgress.Stage s = currentStage;
    currentStage = null;
    spark.sparkContext().setLocalProperty(StageProgress.STAGE_PROPERTY, null);
    s.awaitJobs(2_000);
    progress.end(s);
    LOG.info(
        "Stage {} ended after {}: {} Spark jobs, {} records read, {} records written",
        s.name(), String.format("%.1f s", s.elapsedSeconds()), s.jobs(), s.recordsRead(), s.recordsWritten());
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
    return v == null ? io.nightshift.scoring.BatchScorer.UNKNOWN_CODE : v;
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
    if (spark != null) {
      endStage();
      spark.sparkContext().removeSparkListener(progress);
    }
    if (tracker != null) {
      tracker.close();
    }
    if (spark != null && createdSpark) {
      spark.stop();
    }
  }

  /**
   * Counts, per stage, the Spark jobs started under it and the input and output records of their tasks (Spark's
   * task metrics; input records include Delta log entries read). Jobs are attributed through a local property that
   * {@link #stage} sets on the calling thread, so concurrent commands in one application are counted apart.
   */
  static final class StageProgress extends SparkListener {
    static final String STAGE_PROPERTY = "nightshift.stage";
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private final Map<String, Stage> stages = new ConcurrentHashMap<>();
    private final Map<Integer, Stage> bySparkStage = new ConcurrentHashMap<>();
    private final Map<Integer, Stage> byJob = new ConcurrentHashMap<>();

    Stage begin(String name) {
      Stage s = new Stage(name + "#" + SEQUENCE.incrementAndGet(), name, System.nanoTime());
      stages.put(s.key(), s);
      return s;
    }

    /** Stops counting for {@code s} (after its jobs' ends arrived). */
    void end(Stage s) {
      stages.remove(s.key());
      bySparkStage.values().removeIf(v -> v == s);
    }

    @Override
    public void onJobStart(SparkListenerJobStart e) {
      String key = e.properties() == null ? null : e.properties().getProperty(STAGE_PROPERTY);
      Stage s = key == null ? null : stages.get(key);
      if (s == null) {
        return;
      }
      s.started.increment();
      byJob.put(e.jobId(), s);
      scala.collection.Iterator<Object> ids = e.stageIds().iterator();
      while (ids.hasNext()) {
        bySparkStage.put((Integer) ids.next(), s);
      }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd e) {
      Stage s = bySparkStage.get(e.stageId());
      TaskMetrics m = e.taskMetrics();
      if (s != null && m != null) {
        s.read.add(m.inputMetrics().recordsRead());
        s.written.add(m.outputMetrics().recordsWritten());
      }
    }

    @Override
    public void onJobEnd(SparkListenerJobEnd e) {
      Stage s = byJob.remove(e.jobId());
      if (s != null) {
        s.ended.increment();
      }
    }

    static final class Stage {
      private final String key;
      private final String name;
      private final long startNanos;
      final LongAdder started = new LongAdder();
      final LongAdder ended = new LongAdder();
      final LongAdder read = new LongAdder();
      final LongAdder written = new LongAdder();

      Stage(String key, String name, long startNanos) {
        this.key = key;
        this.name = name;
        this.startNanos = startNanos;
      }

      String key() {
        return key;
      }

      String name() {
        return name;
      }

      double elapsedSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
      }

      long jobs() {
        return started.sum();
      }

      long recordsRead() {
        return read.sum();
      }

      long recordsWritten() {
        return written.sum();
      }

      /** Spark delivers listener events asynchronously: wait briefly until every started job's end has arrived. */
      void awaitJobs(long timeoutMillis) {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (ended.sum() < started.sum() && System.currentTimeMillis() < deadline) {
          try {
            Thread.sleep(10);
          } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    }
  }
}
