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
