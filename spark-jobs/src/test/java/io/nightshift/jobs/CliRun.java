package io.nightshift.jobs;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** One in-process run of the {@code nightshift} CLI: its exit code and what it printed to standard output and error. */
record CliRun(int code, String out, String err) {
  /** Runs {@code args} as {@code nightshift args...} in this JVM (reusing its active Spark session). */
  static CliRun of(List<String> args) {
    StringWriter err = new StringWriter();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream old = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int code = NightshiftCli.run(new PrintWriter(err, true), args.toArray(new String[0]));
      return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString());
    } finally {
      System.setOut(old);
    }
  }

  static CliRun of(String... args) {
    return of(List.of(args));
  }

  /** {@code nightshift --warehouse W COMMAND --date DATE args...}. */
  static CliRun dated(java.nio.file.Path warehouse, String command, String date, String... args) {
    List<String> all = new java.util.ArrayList<>(List.of("--warehouse", warehouse.toString(), command, "--date", date));
    all.addAll(List.of(args));
    return of(all);
  }
}
