package io.nightshift.jobs;

import io.nightshift.airflow.AirflowCommand;
import io.nightshift.core.InvalidInputException;
import io.nightshift.core.QualityGateException;
import io.nightshift.core.Warehouse;
import java.io.PrintWriter;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code nightshift}: the entry point of every job. Exit codes: 0 success, 1 failure, 2 bad input (the message names
 * the problem and the fix; nothing was written for the use case that failed), 3 a data-quality gate failed.
 */
@Command(
    name = "nightshift",
    mixinStandardHelpOptions = true,
    scope = CommandLine.ScopeType.INHERIT, // --help and --version on every subcommand too
    versionProvider = NightshiftCli.Version.class,
    description = "Batch machine learning on Spark: features, training, scoring, actions.",
    subcommands = {
      GenerateCommand.class,
      FeaturesCommand.class,
      TrainCommand.class,
      ScoreCommand.class,
      ActCommand.class,
      MonitorCommand.class,
      DemoCommand.class,
      HousekeepingCommand.class,
      AirflowCommand.class,
      CommandLine.HelpCommand.class
    })
public final class NightshiftCli implements Runnable {
  public static final int OK = 0;
  public static final int FAILURE = 1;
  public static final int BAD_INPUT = 2;
  public static final int QUALITY_GATE_FAILED = 3;

  @Option(
      names = "--warehouse",
      defaultValue = "${env:NIGHTSHIFT_WAREHOUSE:-.nightshift/warehouse}",
      description = "Root of all tables: a directory, s3a://bucket/prefix, hdfs://... (default: ${DEFAULT-VALUE}).")
  String warehouse;

  @Option(
      names = "--tracking-uri",
      defaultValue = "${env:MLFLOW_TRACKING_URI}",
      description = "MLflow tracking server (default: $MLFLOW_TRACKING_URI).")
  String trackingUri;

  @Option(
      names = "--master",
      description = "Spark master when not launched by spark-submit (default: local[*]).")
  String master;

  private JobContext context;

  JobContext context() {
    if (context == null) {
      context = new JobContext(new Warehouse(warehouse), trackingUri, master);
    }
    return context;
  }

  void closeContext() {
    if (context != null) {
      context.close();
      context = null;
    }
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(new CommandLine(this), "Missing subcommand: see nightshift --help");
  }

  /** Runs the CLI and returns the exit code; the SparkSession it created (if any) is stopped. */
  public static int run(String... args) {
    return run(new PrintWriter(System.err, true), args);
  }

  /** As {@link #run(String...)}, with error messages going to {@code err}. */
  public static int run(PrintWriter err, String... args) {
    NightshiftCli root = new NightshiftCli();
    CommandLine cli = new CommandLine(root);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          PrintWriter w = commandLine.getErr();
          if (e instanceof InvalidInputException) {
            w.println("error: " + e.getMessage());
            return BAD_INPUT;
          }
          if (e instanceof QualityGateException) {
            w.println("quality gate failed: " + e.getMessage());
            return QUALITY_GATE_FAILED;
          }
          // a raw CSV row that does not parse fails whichever Spark job reads it, with Spark's message
          Optional<InvalidInputException> malformed =
              root.context == null ? Optional.empty() : root.context.explainMalformedRawRow(e);
          if (malformed.isPresent()) {
            w.println("error: " + malformed.get().getMessage());
            return BAD_INPUT;
          }
          w.println("failed: " + e.getMessage());
          Throwable cause = e.getCause();
          while (cause != null) {
            w.println("  caused by: " + cause);
            cause = cause.getCause();
          }
          if (Boolean.getBoolean("nightshift.stacktrace")) {
            e.printStackTrace(w);
          }
          return FAILURE;
        });
    try {
      return cli.execute(args);
    } finally {
      root.closeContext();
    }
  }

  public static void main(String[] args) throws org.apache.spark.SparkUserAppException {
    int code = run(args);
    if (inYarnClusterMode(System.getProperties())) {
      // YARN's application master runs this method in a thread and reports the application's final status when it
      // returns: System.exit would end the master first, and YARN would record every night, exit code 0 included,
      // as FAILED. A failure reaches it as the exception Spark's own runners use, which carries the exit code.
      if (code != OK) {
        throw new org.apache.spark.SparkUserAppException(code);
      }
      return;
    }
    System.exit(code);
  }

  /** Whether this JVM is a YARN application master running the driver (spark-submit --deploy-mode cluster). */
  static boolean inYarnClusterMode(java.util.Properties system) {
    return "yarn".equals(system.getProperty("spark.master"))
        && "cluster".equals(system.getProperty("spark.submit.deployMode"));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"nightshift " + JobContext.codeVersion()};
    }
  }
}
