package io.nightshift.training;

import io.nightshift.core.Errors;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Where XGBoost trains: {@code cpu}, or {@code cuda} on executors with GPU resources (build with {@code -Pgpu}).
 */
public enum Device {
  CPU("cpu"),
  CUDA("cuda");

  private final String xgboostName;

  Device(String xgboostName) {
    this.xgboostName = xgboostName;
  }

  /** The value of XGBoost's {@code device} parameter. */
  public String xgboostName() {
    return xgboostName;
  }

  public static Device parse(String option, String value) {
    for (Device d : values()) {
      if (d.xgboostName.equals(value == null ? "" : value.trim().toLowerCase(Locale.ROOT))) {
        return d;
      }
    }
    throw Errors.invalidOption(option, value, "use cpu or cuda");
  }

  /**
   * The Spark settings a GPU training needs: one GPU per executor shared by {@code tasksPerGpu} tasks, found by the
   * discovery script (Spark ships {@code examples/src/main/scripts/getGpusResources.sh}).
   */
  public static Map<String, String> gpuSparkConf(int tasksPerGpu, String discoveryScript) {
    if (tasksPerGpu < 1) {
      throw Errors.invalidOption("tasksPerGpu", Integer.toString(tasksPerGpu), "use 1 or more tasks per GPU");
    }
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("spark.executor.resource.gpu.amount", "1");
    conf.put("spark.task.resource.gpu.amount", String.format(Locale.ROOT, "%.4f", 1.0 / tasksPerGpu));
    conf.put("spark.executor.resource.gpu.discoveryScript", discoveryScript);
    conf.put("spark.task.cpus", "1");
    return conf;
  }

  /**
   * Fails with an input error unless this Spark application was given GPU resources: XGBoost would otherwise fall
   * back to, or crash on, hosts without a device far into the job.
   */
  public static void requireGpus(SparkSession spark) {
    SparkConf conf = spark.sparkContext().getConf();
    boolean executorGpus = conf.getDouble("spark.executor.resource.gpu.amount", 0) > 0;
    boolean taskGpus = conf.getDouble("spark.task.resource.gpu.amount", 0) > 0;
    boolean driverGpus = spark.sparkContext().resources().contains("gpu");
    boolean local = spark.sparkContext().isLocal();
    if (!(local ? driverGpus : executorGpus && taskGpus)) {
      throw Errors.invalidOption(
          "--device",
          "cuda",
          local
              ? "local mode sees no GPU: set spark.driver.resource.gpu.amount=1 and"
                  + " spark.driver.resource.gpu.discoveryScript, or train with --device cpu"
              : "this application has no GPU resources: submit with --properties-file conf/spark/gpu.conf"
                  + " (spark.executor.resource.gpu.amount, spark.task.resource.gpu.amount, discovery script) and"
                  + " the jar built with -Pgpu, or train with --device cpu");
    }
  }
}
