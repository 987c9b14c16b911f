package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code nightshift act}'s remaining-useful-life options: bad values are exit code 2 with the option and the fix,
 * before any Spark work or any other decision is planned (so nothing is written; the warehouse stays empty).
 */
class ActCommandTest {
  static CliRun act(Path warehouse, String... args) {
    return CliRun.dated(warehouse, "act", "2024-01-01", args);
  }

  @Test
  void badRulOptionsAreExitCodeTwoNamingTheOptionAndTheFix() throws Exception {
    Path warehouse = io.nightshift.testing.SparkTestSession.tempDir("act-options");

    CliRun zero = act(warehouse, "--rul-model", "nightshift-cmapss-rul", "--rul-horizon", "0");
    assertThat(zero.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(zero.err())
        .contains("Invalid value for --rul-horizon: '0.0'")
        .contains("Fix: use a positive remaining life in the model's time unit");
    // with every use case too: the horizon is checked before replenishment or maintenance orders are planned
    CliRun all = act(warehouse, "--use-case", "all", "--rul-model", "nightshift-cmapss-rul", "--rul-horizon", "-3");
    assertThat(all.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(all.err()).contains("Invalid value for --rul-horizon: '-3.0'");
    CliRun thirty = act(warehouse, "--rul-model", "m", "--rul-horizon", "thirty");
    assertThat(thirty.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(thirty.err()).contains("Invalid value for option '--rul-horizon': 'thirty' is not a double");

    CliRun alone = act(warehouse, "--rul-horizon", "20");
    assertThat(alone.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(alone.err()).contains("Invalid value for --rul-horizon: '20.0'").contains("pass --rul-model NAME with it");

    CliRun alias = act(warehouse, "--rul-model", "nightshift-cmapss-rul@champion");
    assertThat(alias.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(alias.err()).contains("Invalid value for --rul-model: 'nightshift-cmapss-rul@champion'")
        .contains("without an alias or version");

    CliRun crews = act(warehouse, "--rul-model", "nightshift-cmapss-rul", "--crews", "-1");
    assertThat(crews.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(crews.err()).contains("Invalid value for --crews: '-1'");

    try (var files = Files.list(warehouse)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void badMaintenanceSettingsStopTheNightBeforeTheReplenishmentOrdersAreWritten() throws Exception {
    // every use case plans demand first: its settings and the maintenance ones are all checked before it, so the
    // error names the bad option (not the predictions the empty warehouse lacks) and nothing is written
    Path warehouse = io.nightshift.testing.SparkTestSession.tempDir("act-options");

    CliRun risk = act(warehouse, "--risk-threshold", "1.5");
    assertThat(risk.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(risk.err()).contains("Invalid value for --risk-threshold: '1.5'").contains("use a probability in (0, 1)");
    CliRun crews = act(warehouse, "--use-case", "all", "--crews", "-1");
    assertThat(crews.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(crews.err()).contains("Invalid value for --crews: '-1'");
    CliRun service = act(warehouse, "--use-case", "maintenance", "--risk-threshold", "0", "--service-level", "0.99");
    assertThat(service.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(service.err()).contains("Invalid value for --risk-threshold: '0.0'");
    CliRun level = act(warehouse, "--service-level", "0.4");
    assertThat(level.code()).isEqualTo(NightshiftCli.BAD_INPUT);
    assertThat(level.err()).contains("Invalid value for --service-level: '0.4'");

    try (var files = Files.list(warehouse)) {
      assertThat(files).isEmpty();
    }
  }
}
