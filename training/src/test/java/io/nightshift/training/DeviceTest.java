package io.nightshift.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.testing.SparkTestSession;
import org.apache.spark.resource.ResourceUtils;
import org.junit.jupiter.api.Test;

/** The GPU configuration, checked on a CPU-only machine. */
class DeviceTest {
  @Test
  void gpuSparkConfSharesOneGpuPerExecutorAmongTasks() {
    assertThat(Device.gpuSparkConf(4, "/opt/spark/scripts/getGpusResources.sh"))
        .containsEntry("spark.executor.resource.gpu.amount", "1")
        .containsEntry("spark.task.resource.gpu.amount", "0.2500")
        .containsEntry("spark.executor.resource.gpu.discoveryScript", "/opt/spark/scripts/getGpusResources.sh")
        .containsEntry("spark.task.cpus", "1");
  }

  @Test
  void taskGpuAmountGivesExactlyTasksPerGpuSlotsUnderSparksRule() {
    assertThat(Device.gpuSparkConf(6, "gpus.sh")).containsEntry("spark.task.resource.gpu.amount", "0.1666");
    assertThat(Device.gpuSparkConf(1, "gpus.sh")).containsEntry("spark.task.resource.gpu.amount", "1.0000");
    for (int n = 1; n <= 32; n++) {
      double amount = Double.parseDouble(Device.gpuSparkConf(n, "gpus.sh").get("spark.task.resource.gpu.amount"));
      assertThat((int) Math.floor(1 / amount)).as("floor(1 / amount) for %d tasks per GPU", n).isEqualTo(n);
      // Spark 3.5's own slot rule: amounts <= 0.5 give floor(1 / amount) slots, larger ones must be whole (1 slot)
      assertThat((int) ResourceUtils.calculateAmountAndPartsForFraction(amount)._2())
          .as("Spark's slots per GPU for %d tasks per GPU", n)
          .isEqualTo(n);
    }
    assertThatThrownBy(() -> Device.gpuSparkConf(110, "gpus.sh")) // 0.0090 would give 111 slots
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("tasksPerGpu")
        .hasMessageContaining("use at most 99 tasks per GPU");
  }

  @Test
  void cudaSpecSetsXgboostDeviceAndKeepsTheRest() {
    ModelSpec cuda = ModelSpecs.demand().onDevice(Device.CUDA);
    assertThat(cuda.boosterParams()).containsEntry("device", "cuda").containsEntry("tree_method", "hist");
    assertThat(cuda.asParams()).containsEntry("device", "cuda");
    assertThat(ModelSpecs.demand().boosterParams()).doesNotContainKey("device");
  }

  @Test
  void gpuSlotsPerExecutorFollowXgboostsSchedulingAndSparksSlotRule() {
    org.apache.spark.SparkConf shipped = new org.apache.spark.SparkConf(false).set("spark.master", "spark://m:7077");
    Device.gpuSparkConf(1, "gpus.sh").forEach(shipped::set);
    shipped.set("spark.executor.cores", "1"); // as conf/spark/gpu.conf
    assertThat(Device.stageLevelScheduling(shipped)).isFalse();
    assertThat(Device.gpuSlotsPerExecutor(shipped)).isEqualTo(1);
    // standalone, 4 cores sharing one GPU: XGBoost's training tasks take 3 cores and the GPU, one per executor
    org.apache.spark.SparkConf shared = new org.apache.spark.SparkConf(false).set("spark.master", "spark://m:7077");
    Device.gpuSparkConf(4, "gpus.sh").forEach(shared::set);
    shared.set("spark.executor.cores", "4");
    assertThat(Device.stageLevelScheduling(shared)).isTrue();
    assertThat(Device.gpuSlotsPerExecutor(shared)).isEqualTo(1);
    assertThat(Device.gpuSlotsPerExecutor(shared.clone().remove("spark.task.resource.gpu.amount"))).isEqualTo(1);
    // on YARN XGBoost keeps Spark's slots: the GPU's four shares, bounded by the executor's cores
    org.apache.spark.SparkConf yarn = shared.clone().set("spark.master", "yarn");
    assertThat(Device.stageLevelScheduling(yarn)).isFalse();
    assertThat(Device.gpuSlotsPerExecutor(yarn)).isEqualTo(4);
    assertThat(Device.gpuSlotsPerExecutor(yarn.clone().set("spark.executor.cores", "2"))).isEqualTo(2);
    assertThat(Device.gpuSlotsPerExecutor(yarn.clone().remove("spark.task.resource.gpu.amount"))).isZero();
    // two whole GPUs per executor, one per task
    org.apache.spark.SparkConf two = new org.apache.spark.SparkConf(false).set("spark.master", "spark://m:7077")
        .set("spark.executor.resource.gpu.amount", "2").set("spark.task.resource.gpu.amount", "1")
        .set("spark.executor.cores", "8");
    assertThat(Device.gpuSlotsPerExecutor(two)).isEqualTo(2);
    assertThat(Device.gpuSlotsPerExecutor(new org.apache.spark.SparkConf(false))).isZero();
  }

  @Test
  void cudaTrainingAsksForNoMoreWorkersThanGpuSlots() {
    org.apache.spark.sql.SparkSession spark = SparkTestSession.get();
    int cores = spark.sparkContext().defaultParallelism();
    assertThat(cores).as("the test session's cores").isGreaterThan(1);
    assertThat(Device.gpuSlots(spark)).isZero(); // local mode, no GPU given to the driver
    ModelSpec cpu = ModelSpecs.demand();
    assertThat(XGBoostTrainer.workers(spark, cpu, 1)).isEqualTo(Math.min(cores, 8));
    // XGBoost would put worker i on GPU i: with no more GPUs than this, one worker (requireGpus stops a real run)
    assertThat(XGBoostTrainer.workers(spark, cpu.onDevice(Device.CUDA), 1)).isEqualTo(1);
  }

  @Test
  void cudaWithoutGpuResourcesIsAClearInputError() {
    assertThatThrownBy(() -> Device.requireGpus(SparkTestSession.get()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--device")
        .hasMessageContaining("local mode sees no GPU")
        .hasMessageContaining("--device cpu");
    assertThatThrownBy(() -> Device.parse("--device", "tpu"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("use cpu or cuda");
  }
}
