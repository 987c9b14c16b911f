package io.nightshift.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.testing.SparkTestSession;
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
