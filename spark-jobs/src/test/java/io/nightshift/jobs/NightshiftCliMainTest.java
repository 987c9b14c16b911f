package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How {@code main} ends: with the exit code as the process's status, except in a YARN application master
 * (spark-submit --deploy-mode cluster), which reports the application's final status only when {@code main} returns
 * and would record a System.exit, even with code 0, as a FAILED application.
 */
class NightshiftCliMainTest {
  record Ended(int code, String output) {}

  static Ended harness(boolean yarn, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-Dharness.yarn=" + yarn);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(YarnDriverHarness.class.getName());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Ended(p.exitValue(), out);
  }

  @Test
  void inAYarnApplicationMasterMainReturnsOnSuccessAndThrowsTheExitCodeOnFailure() throws Exception {
    Ended ok = harness(true, "--version");
    assertThat(ok.output()).contains("nightshift ").contains("harness: main returned");
    assertThat(ok.code()).isZero();

    Ended bad = harness(true, "act", "--date", "2024-01-01", "--risk-threshold", "1.5");
    assertThat(bad.output())
        .contains("Invalid value for --risk-threshold: '1.5'")
        .contains("harness: main threw SparkUserAppException(" + NightshiftCli.BAD_INPUT + ")");
  }

  @Test
  void elsewhereMainEndsTheProcessWithTheExitCode() throws Exception {
    Ended ok = harness(false, "--version");
    assertThat(ok.output()).contains("nightshift ").doesNotContain("harness:");
    assertThat(ok.code()).isZero();

    Ended bad = harness(false, "act", "--date", "2024-01-01", "--risk-threshold", "1.5");
    assertThat(bad.output()).contains("Invalid value for --risk-threshold: '1.5'").doesNotContain("harness:");
    assertThat(bad.code()).isEqualTo(NightshiftCli.BAD_INPUT);
  }

  @Test
  void onlyAYarnClusterDriverCountsAsOne() {
    java.util.Properties p = new java.util.Properties();
    assertThat(NightshiftCli.inYarnClusterMode(p)).isFalse();
    p.setProperty("spark.master", "yarn");
    assertThat(NightshiftCli.inYarnClusterMode(p)).isFalse(); // client mode: the driver is this process
    p.setProperty("spark.submit.deployMode", "cluster");
    assertThat(NightshiftCli.inYarnClusterMode(p)).isTrue();
    p.setProperty("spark.master", "k8s://https://cluster:6443"); // the driver pod's exit code is the status
    assertThat(NightshiftCli.inYarnClusterMode(p)).isFalse();
  }
}
