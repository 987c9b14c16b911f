package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code nightshift score}'s horizon and reconciliation options: bad values are exit code 2 with the option and the
 * fix, before any Spark or MLflow work (so nothing is written; the warehouse stays empty).
 */
class ScoreCommandTest {
  static CliRun score(Path warehouse, String... args) {
    return CliRun.dated(warehouse, "score", "2024-12-31", args);
  }

  @Test
  void badHorizonOrReconciliationIsExitCodeTwoNamingTheOptionAndTheFix() throws Exception {
    Path warehouse = io.nightshift.testing.SparkTestSession.tempDir("score-options");

    CliRun zero = score(warehouse, "--horizon-days", "0");
    assertThat(zero.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(zero.err())
        .contains("Invalid value for --horizon-days: '0'")
        .contains("Fix: use a whole number of days from 1 to 56, e.g. --horizon-days 28");

    assertThat(score(warehouse, "--horizon-days", "57").err()).contains("--horizon-days: '57'");
    CliRun four = score(warehouse, "--horizon-days", "four");
    assertThat(four.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(four.err()).contains("Invalid value for option '--horizon-days': 'four' is not an int");

    CliRun reconcile = score(warehouse, "--reconcile", "region");
    assertThat(reconcile.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(reconcile.err()).contains("Invalid value for --reconcile: 'region'").contains("use none or store");

    CliRun maintenance = score(warehouse, "--use-case", "maintenance", "--horizon-days", "28");
    assertThat(maintenance.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(maintenance.err()).contains("apply to demand forecasts only");

    CliRun replay = score(warehouse, "--replay", "--reconcile", "store");
    assertThat(replay.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(replay.err()).contains("a replay uses the horizon and reconciliation of the night's manifest");
    // the built-in use cases' nights are replayed by use case (their manifests are recorded under it), not by model
    CliRun model = score(warehouse, "--replay", "--model", "nightshift-demand@champion");
    assertThat(model.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(model.err()).contains("Invalid value for --model: 'nightshift-demand@champion'")
        .contains("drop --model and run 'nightshift score --date 2024-12-31 --replay --use-case demand'");

    try (var files = Files.list(warehouse)) {
      assertThat(files).isEmpty();
    }
  }
}
