package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.testing.LocalMlflowServer;
import io.nightshift.training.Device;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code conf/spark} presets that users pass to spark-submit with {@code --properties-file}. A session fills in
 * what a preset leaves out ({@link SparkSessions#defaults}), but a preset's value wins: a preset must not set a
 * default to something else than the jobs are written for.
 */
class SparkPresetsTest {
  static final Path PRESETS = LocalMlflowServer.projectRoot().resolve("conf/spark");

  static Map<String, String> read(String name) throws IOException {
    Properties p = new Properties(); // "key   value" lines, as spark-submit reads them
    try (Reader r = Files.newBufferedReader(PRESETS.resolve(name))) {
      p.load(r);
    }
    Map<String, String> out = new TreeMap<>();
    p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k).trim()));
    return out;
  }

  @Test
  void everyPresetFileIsTested() throws IOException {
    try (Stream<Path> files = Files.list(PRESETS)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .containsExactlyInAnyOrder("local.conf", "standalone.conf", "yarn.conf", "kubernetes.conf", "gpu.conf");
    }
  }

  @Test
  void theLocalPresetCarriesWhatAPlainLocalLaunchSets() throws IOException {
    Map<String, String> local = read("local.conf");
    assertThat(local).containsAllEntriesOf(SparkSessions.defaults("local[*]")).containsEntry("spark.master", "local[*]");
  }

  @ParameterizedTest
  @ValueSource(strings = {"standalone.conf", "yarn.conf", "kubernetes.conf", "gpu.conf"})
  void clusterPresetsAgreeWithTheSessionDefaults(String name) throws IOException {
    Map<String, String> preset = read(name);
    Map<String, String> defaults = SparkSessions.defaults("spark://cluster:7077");
    Map<String, String> overlap = new TreeMap<>(defaults);
    overlap.keySet().retainAll(preset.keySet());
    assertThat(preset).as(name).containsAllEntriesOf(overlap)
        .containsKeys("spark.sql.extensions", "spark.sql.catalog.spark_catalog", "spark.task.cpus")
        .doesNotContainKey("spark.master"); // the cluster comes from --master
  }

  @Test
  void theGpuPresetIsWhatTheTrainerExpects() throws IOException {
    Map<String, String> gpu = read("gpu.conf");
    String script = gpu.get("spark.executor.resource.gpu.discoveryScript");
    assertThat(script).endsWith("getGpusResources.sh");
    // one task per GPU: the task amount is written as 1 in the file, 1.0000 by Device
    Map<String, String> expected = new TreeMap<>(Device.gpuSparkConf(1, script));
    expected.put("spark.task.resource.gpu.amount", "1");
    assertThat(gpu).containsAllEntriesOf(expected);
    assertThat(Double.parseDouble(Device.gpuSparkConf(1, script).get("spark.task.resource.gpu.amount"))).isEqualTo(1.0);
    assertThat(gpu.get("spark.executor.cores")).isEqualTo(gpu.get("spark.task.cpus")); // one task, one GPU
  }
}
