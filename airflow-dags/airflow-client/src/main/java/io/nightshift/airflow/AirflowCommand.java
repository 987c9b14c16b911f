package io.nightshift.airflow;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code airflow trigger|status|wait|logs|unpause|asset-event}: drive Nightshift's DAGs on an Airflow 3 server. Usable alone
 * ({@link AirflowCli}) or as a subcommand of another picocli CLI; every subcommand returns its exit code itself: 0 ok,
 * 1 failure (run failed, Airflow unreachable, timeout), 2 bad input (unknown DAG, run or asset; invalid date or conf;
 * a run id or logical date taken by a run of another date or conf).
 */
@Command(
    name = "airflow",
    mixinStandardHelpOptions = true,
    description = "Trigger and follow Nightshift's DAGs on Airflow (REST API /api/v2).",
    subcommands = {
      AirflowCommand.Trigger.class,
      AirflowCommand.Status.class,
      AirflowCommand.Wait.class,
      AirflowCommand.Logs.class,
      AirflowCommand.Unpause.class,
      AirflowCommand.PostAssetEvent.class
    })
public class AirflowCommand implements Callable<Integer> {
  public static final int OK = 0;
  public static final int FAILURE = 1;
  public static final int BAD_INPUT = 2;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(
      names = "--url",
      defaultValue = "${env:AIRFLOW_URL:-http://127.0.0.1:8080}",
      description = "Airflow API server (default: $AIRFLOW_URL or ${DEFAULT-VALUE}).")
  String url;

  @Option(
      names = "--user",
      defaultValue = "${env:AIRFLOW_USERNAME}",
      description = "Airflow user (default: $AIRFLOW_USERNAME); none: no authentication.")
  String user;

  @Option(
      names = "--password-file",
      description = "File holding the password (default: $AIRFLOW_PASSWORD).")
  Path passwordFile;

  @Option(
      names = "--request-timeout",
      defaultValue = "60s",
      converter = DurationConverter.class,
      description = "Timeout of one HTTP call (default: ${DEFAULT-VALUE}).")
  Duration requestTimeout;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return BAD_INPUT;
  }

  AirflowClient client() {
    AirflowClient.Builder b = AirflowClient.builder(url).readTimeout(requestTimeout);
    if (user != null && !user.isBlank()) {
      b.credentials(user, password());
    }
    return b.build();
  }

  private String password() {
    if (passwordFile != null) {
      try {
        return Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new IllegalArgumentException("Cannot read the password file " + passwordFile + ": " + e.getMessage(), e);
      }
    }
    String env = System.getenv("AIRFLOW_PASSWORD");
    if (env == null) {
      throw new IllegalArgumentException(
          "No password for Airflow user '" + user + "'. Fix: set AIRFLOW_PASSWORD or pass --password-file.");
    }
    return env;
  }

  /** Runs a subcommand's body and turns exceptions into a message on stderr and an exit code. */
  int run(CommandSpec sub, Body body) {
    PrintWriter out = sub.commandLine().getOut();
    PrintWriter err = sub.commandLine().getErr();
    try (AirflowClient client = client()) {
      return body.run(client, out);
    } catch (UnknownDag e) {
      err.println("error: " + e.getMessage());
      return BAD_INPUT;
    } catch (AirflowException.Timeout | AirflowException.Unavailable | AirflowException.AuthFailed e) {
      err.println("failed: " + e.getMessage());
      return FAILURE;
    } catch (AirflowException e) {
      err.println((e.isClientError() ? "error: " : "failed: ") + e.getMessage());
      return e.isClientError() ? BAD_INPUT : FAILURE;
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      return BAD_INPUT;
    } finally {
      out.flush();
      err.flush();
    }
  }

  /** Reads the DAG or explains that Airflow does not know it (naming the DAGs it does know). */
  static DagInfo requireDag(AirflowClient client, String dagId) {
    try {
      return client.getDag(dagId);
    } catch (AirflowException.NotFound e) {
      List<String> known;
      try {
        known = client.listDagIds();
      } catch (AirflowException listing) {
        known = List.of();
      }
      throw new UnknownDag(
          "Unknown DAG '"
              + dagId
              + "' on Airflow at "
              + client.baseUrl()
              + (known.isEmpty() ? " (it knows no DAGs yet)" : " (known DAGs: " + String.join(", ", known) + ")")
              + ". Fix: check the DAG id, or deploy airflow-dags/dags to the DAGs folder and wait for the dag-processor"
              + " to parse it (import errors: GET /api/v2/importErrors).");
    }
  }

  static void printRun(PrintWriter out, DagRun run, List<TaskInstance> tasks) {
    out.printf(
        Locale.ROOT,
        "%s run %s: %s (logical date %s)%n",
        run.dagId(),
        run.runId(),
        run.state(),
        run.logicalDate() == null ? "none" : run.logicalDate());
    for (TaskInstance t : tasks) {
      out.printf(
          Locale.ROOT,
          "  %-22s %-16s try %d%s%n",
          t.taskId(),
          t.state().isEmpty() ? "-" : t.state(),
          t.tryNumber(),
          t.duration() == null ? "" : String.format(Locale.ROOT, "  %.1fs", t.duration()));
    }
  }

  static Map<String, Object> parseConf(String option, String json) {
    if (json == null || json.isBlank()) {
      return Map.of();
    }
    try {
      return MAPPER.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "Invalid " + option + ": " + json + " is not a JSON object (" + e.getOriginalMessage() + "). Fix: pass"
              + " e.g. " + option + " '{\"date\": \"2024-12-31\"}'.",
          e);
    }
  }

  static LocalDate parseDate(String option, String value) {
    try {
      return LocalDate.parse(value);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "Invalid date for " + option + ": '" + value + "' is not an ISO date. Fix: pass YYYY-MM-DD, e.g. 2024-12-31.",
          e);
    }
  }

  interface Body {
    int run(AirflowClient client, PrintWriter out);
  }

  static final class UnknownDag extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UnknownDag(String message) {
      super(message);
    }
  }

  /** Accepts 90s, 30m, 2h, 500ms or ISO-8601 (PT30M). */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+)(ms|s|m|h)");

    @Override
    public Duration convert(String value) {
      Matcher m = SIMPLE.matcher(value.trim());
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
      }
      try {
        return Duration.parse(value.trim());
      } catch (DateTimeParseException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a duration. Fix: use e.g. 90s, 30m, 2h or PT30M.");
      }
    }
  }

  @Command(
      name = "trigger",
      mixinStandardHelpOptions = true,
      description =
          "Trigger a DAG run. With --date the run gets logical date DATE (midnight UTC) and the run id"
              + " nightshift__DATE, so triggering again finds the same run instead of starting another.")
  static final class Trigger implements Callable<Integer> {
    @ParentCommand AirflowCommand parent;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DAG", description = "DAG id, e.g. nightly_demand_forecast.")
    String dagId;

    @Option(names = "--date", description = "The night to process (YYYY-MM-DD).")
    String date;

    @Option(
        names = "--run-id",
        description = "Run id to use (default: nightshift__DATE with --date, else a new nightshift__manual__UUID).")
    String runId;

    @Option(names = "--conf", description = "Run conf as a JSON object (validated against the DAG's params).")
    String conf;

    @Option(names = "--unpause", description = "Unpause the DAG first (runs of a paused DAG stay queued).")
    boolean unpause;

    @Option(
        names = "--wait",
        description = "Wait for the run to finish (as the wait command, with its --timeout and --poll); exit 1 when it"
            + " fails.")
    boolean waitForIt;

    @Mixin WaitOptions waiting;

    @Override
    public Integer call() {
      return parent.run(
          spec,
          (client, out) -> {
            Map<String, Object> runConf = parseConf("--conf", conf);
            LocalDate day = date == null ? null : parseDate("--date", date);
            DagInfo dag = requireDag(client, dagId);
            if (unpause && dag.paused()) {
              client.unpause(dagId);
              out.println("unpaused " + dagId);
            }
            String id = runId != null ? runId : day != null ? AirflowClient.runIdFor(day, runConf) : null;
            OffsetDateTime logical = day == null ? null : AirflowClient.logicalDateOf(day);
            DagRun run = client.trigger(dagId, id, logical, runConf);
            if (run.alreadyExisted()) {
              out.printf("%s run %s already exists (state %s); not triggered again%n", dagId, run.runId(), run.state());
            } else {
              out.printf("triggered %s run %s (state %s)%n", dagId, run.runId(), run.state());
            }
            if (!unpause && dag.paused()) {
              out.printf("note: %s is paused, so the run stays queued until it is unpaused (--unpause)%n", dagId);
            }
            return waitForIt ? Wait.await(client, out, spec, dagId, run.runId(), waiting) : OK;
          });
    }
  }

  /** How long the commands that wait for a run ({@code wait}, {@code trigger --wait}) wait, and how often they look. */
  static final class WaitOptions {
    @Option(
        names = "--timeout",
        defaultValue = "60m",
        converter = DurationConverter.class,
        description = "Give up waiting after this long (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(
        names = "--poll",
        defaultValue = "5s",
        converter = DurationConverter.class,
        description = "Time between state checks while waiting (default: ${DEFAULT-VALUE}).")
    Duration poll;
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Show a run's state and its tasks.")
  static final class Status implements Callable<Integer> {
    @ParentCommand AirflowCommand parent;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DAG")
    String dagId;

    @Parameters(index = "1", paramLabel = "RUN_ID")
    String runId;

    @Override
    public Integer call() {
      return parent.run(
          spec,
          (client, out) -> {
            requireDag(client, dagId);
            printRun(out, client.getRun(dagId, runId), client.taskInstances(dagId, runId));
            return OK;
          });
    }
  }

  @Command(
      name = "wait",
      mixinStandardHelpOptions = true,
      description = "Wait until a run finishes: exit 0 on success, 1 when it failed or the timeout passed.")
  static final class Wait implements Callable<Integer> {
    @ParentCommand AirflowCommand parent;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DAG")
    String dagId;

    @Parameters(index = "1", paramLabel = "RUN_ID")
    String runId;

    @Mixin WaitOptions waiting;

    @Override
    public Integer call() {
      return parent.run(
          spec,
          (client, out) -> {
            requireDag(client, dagId);
            return await(client, out, spec, dagId, runId, waiting);
          });
    }

    static int await(
        AirflowClient client, PrintWriter out, CommandSpec spec, String dagId, String runId, WaitOptions waiting) {
      DagRun run = client.waitForRun(dagId, runId, waiting.timeout, waiting.poll);
      List<TaskInstance> tasks = client.taskInstances(dagId, runId);
      printRun(out, run, tasks);
      if (run.isSuccess()) {
        return OK;
      }
      List<String> failed = new ArrayList<>();
      for (TaskInstance t : tasks) {
        if ("failed".equals(t.state()) || "upstream_failed".equals(t.state())) {
          failed.add(t.taskId() + " (" + t.state() + ")");
        }
      }
      spec.commandLine()
          .getErr()
          .printf(
              "failed: %s run %s ended %s%s. Fix: read the task log: airflow logs %s %s TASK%n",
              dagId, runId, run.state(), failed.isEmpty() ? "" : "; tasks: " + String.join(", ", failed), dagId,
              runId);
      return FAILURE;
    }
  }

  @Command(
      name = "logs",
      mixinStandardHelpOptions = true,
      description = "Print task logs of a run (all tasks that ran, or the ones named).")
  static final class Logs implements Callable<Integer> {
    @ParentCommand AirflowCommand parent;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DAG")
    String dagId;

    @Parameters(index = "1", paramLabel = "RUN_ID")
    String runId;

    @Parameters(index = "2..*", paramLabel = "TASK", description = "Task ids (default: every task that ran).")
    List<String> taskIds = new ArrayList<>();

    @Option(names = "--try", defaultValue = "0", description = "Try number (default: the latest).")
    int tryNumber;

    @Override
    public Integer call() {
      return parent.run(
          spec,
          (client, out) -> {
            requireDag(client, dagId);
            List<String> wanted = new ArrayList<>(taskIds);
            if (wanted.isEmpty()) {
              for (TaskInstance t : client.taskInstances(dagId, runId)) {
                if (t.tryNumber() > 0) {
                  wanted.add(t.taskId());
                }
              }
            }
            for (String task : wanted) {
              out.printf("=== %s %s %s%n", dagId, runId, task);
              out.print(client.taskLog(dagId, runId, task, tryNumber));
            }
            return OK;
          });
    }
  }

  @Command(
      name = "unpause",
      mixinStandardHelpOptions = true,
      description = "Unpause DAGs (runs of a paused DAG stay queued; DAGs are paused when first deployed).")
  static final class Unpause implements Callable<Integer> {
    @ParentCommand AirflowCommand parent;
    @Spec CommandSpec spec;

    @Parameters(index = "0..*", arity = "1..*", paramLabel = "DAG")
    List<String> dagIds = new ArrayList<>();

    @Override
    public Integer call() {
      return parent.run(
          spec,
          (client, out) -> {
            for (String dagId : dagIds) {
              requireDag(client, dagId);
              client.unpause(dagId);
              out.println("unpaused " + dagId);
            }
            return OK;
          });
    }
  }

  @Command(
      name = "asset-event",
      mixinStandardHelpOptions = true,
      description =
          "Post an event on an asset (by URI or name), e.g. nightshift://signals/retrain to queue weekly_retrain."
              + " Needs the OP role.")
  static final class PostAssetEvent implements Callable<Integer> {
    @ParentCommand AirflowCommand parent;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ASSET", description = "Asset URI or name.")
    String asset;

    @Option(names = "--extra", description = "Event extra as a JSON object.")
    String extra;

    @Override
    public Integer call() {
      return parent.run(
          spec,
          (client, out) -> {
            AssetEvent e = client.postAssetEvent(asset, parseConf("--extra", extra));
            out.printf("posted event %d on asset %s (asset id %d)%n", e.id(), asset, e.assetId());
            return OK;
          });
    }
  }
}
