package io.nightshift.training;

import io.nightshift.core.Errors;
import java.math.BigDecimal;
import java.math.RoundingMode;
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
    conf.put("spark.task.resource.gpu.amount", taskGpuAmount(tasksPerGpu));
    conf.put("spark.executor.resource.gpu.discoveryScript", discoveryScript);
    conf.put("spark.task.cpus", "1");
    return conf;
  }

  /**
   * The per-task GPU amount that gives exactly {@code tasksPerGpu} slots per GPU. Spark 3.5 gives a task amount
   * {@code a <= 0.5} {@code floor(1 / a)} slots and accepts {@code a > 0.5} only as a whole number
   * ({@code ResourceUtils.calculateAmountAndPartsForFraction}), so {@code 1 / n} is rounded DOWN to 4 decimals: rounded
   * up (1/6 as 0.1667) it would give floor(5.998) = 5 slots. Truncating moves the amount by less than 1e-4, less than
   * the gap 1/n - 1/(n+1) for every n up to 99, so floor(1 / amount) stays n.
   */
  static String taskGpuAmount(int tasksPerGpu) {
    String amount = BigDecimal.ONE.divide(BigDecimal.valueOf(tasksPerGpu), 4, RoundingMode.DOWN).toPlainString();
    if ((int) Math.floor(1.0 / Double.parseDouble(amount)) != tasksPerGpu) {
      throw Errors.invalidOption(
          "tasksPerGpu", Integer.toString(tasksPerGpu),
          "a task amount of " + amount + " GPU would not give exactly " + tasksPerGpu + " tasks per GPU; use at most"
              + " 99 tasks per GPU");
    }
    return amount;
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
