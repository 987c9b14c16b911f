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
   * How many tasks with a GPU can run at once: in local mode the driver's GPU addresses; on a cluster each executor's
   * GPU slots ({@link #gpuSlotsPerExecutor}) times the executors registered (the executors asked for,
   * {@code spark.executor.instances}, while none has registered yet). XGBoost's barrier stage needs one slot per
   * worker, and in local mode it puts worker {@code i} on GPU {@code i}: more workers than this would wait for slots
   * that never free, or ask for devices the host does not have.
   */
  public static int gpuSlots(SparkSession spark) {
    org.apache.spark.SparkContext sc = spark.sparkContext();
    if (sc.isLocal()) {
      scala.Option<org.apache.spark.resource.ResourceInformation> gpus = sc.resources().get("gpu");
      return gpus.isDefined() ? gpus.get().addresses().length : 0;
    }
    int executors = sc.statusTracker().getExecutorInfos().length - 1; // the driver is listed too
    if (executors < 1) {
      executors = sc.getConf().getInt("spark.executor.instances", 1);
    }
    return executors * gpuSlotsPerExecutor(sc.getConf());
  }

  /**
   * The XGBoost training tasks one executor runs at once. Where XGBoost 3.4 uses stage-level scheduling (a standalone
   * or local-cluster master, {@code spark.executor.cores} above 1, one GPU per executor, a task amount unset or below
   * it) its training tasks take more than half the executor's cores and its GPU: one per executor. Otherwise Spark's
   * slots for {@code spark.executor.resource.gpu.amount} and {@code spark.task.resource.gpu.amount} (a fraction n:
   * floor(1 / n) tasks per GPU), at most the executor's cores per task.
   */
  static int gpuSlotsPerExecutor(SparkConf conf) {
    int executorGpus = (int) Math.floor(conf.getDouble("spark.executor.resource.gpu.amount", 0));
    double task = conf.getDouble("spark.task.resource.gpu.amount", 0);
    if (executorGpus < 1) {
      return 0;
    }
    if (stageLevelScheduling(conf)) {
      return 1;
    }
    if (task <= 0) { // no GPU for any task
      return 0;
    }
    int perGpuTasks = task > 0.5 ? executorGpus / (int) Math.ceil(task) : executorGpus * (int) Math.floor(1 / task);
    if (!conf.contains("spark.executor.cores")) { // unset: standalone gives an executor all of its worker's cores
      return perGpuTasks;
    }
    int byCores = conf.getInt("spark.executor.cores", 1) / Math.max(1, conf.getInt("spark.task.cpus", 1));
    return Math.min(perGpuTasks, Math.max(1, byCores));
  }

  /** Whether XGBoost 3.4 gives its GPU training tasks a resource profile of their own (its skipStageLevelScheduling). */
  static boolean stageLevelScheduling(SparkConf conf) {
    String master = conf.get("spark.master", "");
    boolean standalone = master.startsWith("spark://") || master.startsWith("local-cluster");
    double task = conf.getDouble("spark.task.resource.gpu.amount", -1);
    return standalone
        && conf.getInt("spark.executor.cores", -1) > 1
        && conf.getInt("spark.executor.resource.gpu.amount", -1) == 1
        && task != 1.0;
  }

  /**
   * Fails with an input error unless this Spark application was given GPU resources: XGBoost would otherwise fall
   * back to, or crash on, hosts without a device far into the job.
   */
  public static void requireGpus(SparkSession spark) {
    SparkConf conf = spark.sparkContext().getConf();
    boolean executorGpus = conf.getDouble("spark.executor.resource.gpu.amount", 0) > 0;
    // without a task amount XGBoost's stage-level scheduling gives its training tasks the GPU (see gpuSlotsPerExecutor)
    boolean taskGpus = conf.getDouble("spark.task.resource.gpu.amount", 0) > 0 || stageLevelScheduling(conf);
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
