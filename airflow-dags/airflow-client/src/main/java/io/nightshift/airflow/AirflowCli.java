package io.nightshift.airflow;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/**
 * {@code java -jar nightshift-airflow-cli.jar trigger|status|wait|logs|asset-event ...}: the {@link AirflowCommand}
 * on its own. Exit codes: 0 ok, 1 failure, 2 bad input.
 */
public final class AirflowCli {
  private AirflowCli() {}

  /** Runs the CLI and returns its exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new AirflowCommand());
    cli.setOut(out);
    cli.setErr(err);
    return cli.execute(args);
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
    PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
    System.exit(run(out, err, args));
  }
}
