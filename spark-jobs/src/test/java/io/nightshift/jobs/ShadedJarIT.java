package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.testing.LocalMlflowServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shaded job jar's contents: exactly the committed list of bundled dependencies (so it cannot grow silently),
 * nothing the cluster provides (Spark, Delta, Hadoop, Scala, Jackson core, SLF4J), merged service files and the CLI
 * as its main class.
 */
class ShadedJarIT {
  static final Path ROOT = LocalMlflowServer.projectRoot();
  static final Path JAR = ROOT.resolve("spark-jobs/target/nightshift-jobs.jar");
  static final Path COMMITTED = ROOT.resolve("spark-jobs/bundled-dependencies.txt");
  static final Path RESOLVED = ROOT.resolve("spark-jobs/target/bundled-dependencies.txt");

  /** "group:artifact:jar:version:scope -- module ..." lines of dependency:list, as group:artifact:version. */
  static Set<String> resolvedBundle() throws IOException {
    Pattern line = Pattern.compile("^\\s+([^:\\s]+):([^:\\s]+):jar:([^:\\s]+):(compile|runtime)\\b.*$");
    Set<String> out = new TreeSet<>();
    for (String l : Files.readAllLines(RESOLVED, StandardCharsets.UTF_8)) {
      Matcher m = line.matcher(l);
      if (m.matches()) {
        out.add(m.group(1).equals("io.nightshift") ? m.group(1) + ":" + m.group(2) : m.group(1) + ":" + m.group(2) + ":" + m.group(3));
      }
    }
    return out;
  }

  static Set<String> committedBundle() throws IOException {
    Set<String> out = new TreeSet<>();
    for (String l : Files.readAllLines(COMMITTED, StandardCharsets.UTF_8)) {
      String t = l.strip();
      if (!t.isEmpty() && !t.startsWith("#")) {
        out.add(t);
      }
    }
    return out;
  }

  static final String CPU_XGBOOST = "ml.dmlc:xgboost4j-spark_";
  static final String GPU_XGBOOST = "ml.dmlc:xgboost4j-spark-gpu_";

  /**
   * The committed list as the build that {@code resolved} comes from must bundle it: the GPU build ({@code -Pgpu})
   * bundles xgboost4j-spark-gpu, which carries XGBoost's CUDA library, in the place of xgboost4j-spark. Both in one
   * jar would be two copies of XGBoost's classes and native library, so a GPU build still expects the CPU artifact
   * to be gone.
   */
  static Set<String> expectedBundle(Set<String> committed, Set<String> resolved) {
    if (resolved.stream().noneMatch(d -> d.startsWith(GPU_XGBOOST))) {
      return committed;
    }
    Set<String> out = new TreeSet<>();
    for (String d : committed) {
      out.add(d.startsWith(CPU_XGBOOST) ? GPU_XGBOOST + d.substring(CPU_XGBOOST.length()) : d);
    }
    return out;
  }

  @Test
  void aGpuBuildExpectsTheGpuArtifactInThePlaceOfTheCpuOne() {
    Set<String> committed = Set.of("info.picocli:picocli:4.7.6", "ml.dmlc:xgboost4j-spark_2.12:3.4.0");
    Set<String> gpu = Set.of("info.picocli:picocli:4.7.6", "ml.dmlc:xgboost4j-spark-gpu_2.12:3.4.0");
    assertThat(expectedBundle(committed, committed)).isEqualTo(committed);
    assertThat(expectedBundle(committed, gpu)).isEqualTo(gpu);
    // a GPU jar that also bundles the CPU flavour differs from what the GPU build expects
    Set<String> both = new TreeSet<>(gpu);
    both.add("ml.dmlc:xgboost4j-spark_2.12:3.4.0");
    assertThat(expectedBundle(committed, both)).isNotEqualTo(both).isEqualTo(gpu);
  }

  @Test
  void bundledDependenciesAreExactlyTheCommittedList() throws IOException {
    Set<String> resolved = resolvedBundle();
    Set<String> committed = expectedBundle(committedBundle(), resolved);
    assertThat(resolved).as("dependencies read from %s", RESOLVED).isNotEmpty().contains("info.picocli:picocli:4.7.6");
    Set<String> added = new TreeSet<>(resolved);
    added.removeAll(committed);
    Set<String> removed = new TreeSet<>(committed);
    removed.removeAll(resolved);
    assertThat(added.isEmpty() && removed.isEmpty())
        .as(
            "The shaded jar's bundled dependencies changed: added %s, no longer bundled %s. If intended, replace the"
                + " entries of %s with (the CPU build's names):%n%s",
            added, removed, COMMITTED,
            String.join(System.lineSeparator(), resolved.stream().map(d -> d.replace(GPU_XGBOOST, CPU_XGBOOST)).toList()))
        .isTrue();
  }

  @Test
  void bundlesNothingTheClusterProvides() throws IOException {
    List<String> provided =
        List.of("org/apache/spark/", "io/delta/", "org/apache/hadoop/", "scala/", "com/fasterxml/jackson/databind/",
            "com/fasterxml/jackson/core/", "org/slf4j/", "com/esotericsoftware/kryo/");
    List<String> offending = new ArrayList<>();
    try (JarFile jar = new JarFile(JAR.toFile())) {
      jar.stream()
          .map(e -> e.getName())
          .filter(n -> n.endsWith(".class"))
          .filter(n -> provided.stream().anyMatch(n::startsWith))
          // XGBoost4J-Spark's own helpers live in Spark's package to reach package-private ML APIs
          .filter(n -> !n.startsWith("org/apache/spark/ml/xgboost/"))
          .limit(20)
          .forEach(offending::add);
      assertThat(offending).as("classes the cluster provides, bundled in %s", JAR).isEmpty();
      // Nightshift's own classes, the libraries it bundles, and XGBoost's native library are there
      assertThat(jar.getEntry("io/nightshift/jobs/NightshiftCli.class")).isNotNull();
      assertThat(jar.getEntry("picocli/CommandLine.class")).isNotNull();
      assertThat(jar.getEntry("okhttp3/OkHttpClient.class")).isNotNull();
      assertThat(jar.getEntry("ml/dmlc/xgboost4j/java/Booster.class")).isNotNull();
      assertThat(jar.getEntry("lib/linux/x86_64/libxgboost4j.so")).isNotNull();
      Manifest manifest = jar.getManifest();
      assertThat(manifest.getMainAttributes().getValue("Main-Class")).isEqualTo("io.nightshift.jobs.NightshiftCli");
    }
  }

  @Test
  void serviceRegistrationsSurviveShading() throws IOException {
    // jackson-dataformat-yaml registers YAMLFactory as a JsonFactory service (the services transformer merges such files)
    try (JarFile jar = new JarFile(JAR.toFile())) {
      String services =
          new String(
              jar.getInputStream(jar.getEntry("META-INF/services/com.fasterxml.jackson.core.JsonFactory")).readAllBytes(),
              StandardCharsets.UTF_8);
      assertThat(services).contains("com.fasterxml.jackson.dataformat.yaml.YAMLFactory");
    }
  }
}
