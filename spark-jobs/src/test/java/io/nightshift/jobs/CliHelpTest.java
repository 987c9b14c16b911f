package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --help} on every command of the CLI, as a user types it: usage on standard output, exit code 0. */
class CliHelpTest {
  /** Every command below {@code nightshift}, as the words that name it (e.g. {@code [features, build]}). */
  private static List<List<String>> commands(CommandLine cli, List<String> path) {
    List<List<String>> out = new ArrayList<>();
    for (var e : cli.getSubcommands().entrySet()) {
      if (e.getValue().getCommandSpec().helpCommand()) {
        continue;
      }
      List<String> p = new ArrayList<>(path);
      p.add(e.getKey());
      out.add(p);
      out.addAll(commands(e.getValue(), p));
    }
    return out;
  }

  @Test
  void everyCommandPrintsItsUsageForHelpWithoutPicocliWarnings() {
    List<List<String>> all = commands(new CommandLine(new NightshiftCli()), List.of());
    assertThat(all).contains(List.of("train"), List.of("features", "build"), List.of("airflow", "trigger"));
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    PrintStream old = System.err;
    System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
    try {
      for (List<String> command : all) {
        List<String> args = new ArrayList<>(command);
        args.add("--help");
        CliRun r = CliRun.of(args);
        assertThat(r.code()).as("%s", args).isZero();
        assertThat(r.out()).as("%s", args).startsWith("Usage: nightshift " + String.join(" ", command) + " ");
        assertThat(r.err()).as("%s", args).isEmpty();
      }
    } finally {
      System.setErr(old);
    }
    // a description that picocli cannot format (a lone '%') is printed raw, with a warning on standard error
    assertThat(stderr.toString(StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
    assertThat(CliRun.of("train", "--help").out()).contains("challenger's 90% CI lower");
  }
}
