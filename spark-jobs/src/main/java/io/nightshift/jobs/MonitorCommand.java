package io.nightshift.jobs;

import io.nightshift.core.UseCase;
import io.nightshift.scoring.monitoring.MetricsPush;
import io.nightshift.scoring.monitoring.Monitor;
import io.nightshift.scoring.monitoring.PrometheusMetrics;
import io.nightshift.scoring.monitoring.Pushgateway;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "monitor", description = "Record prediction statistics and realized accuracy as labels arrive.")
final class MonitorCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;
  @Spec CommandSpec spec;

  @Option(names = "--date", required = true, description = "The scored night (YYYY-MM-DD).")
  String date;

  @Option(names = "--use-case", defaultValue = "all", description = "demand, maintenance or all (default).")
  String useCase;

  @Option(
      names = "--pushgateway",
      defaultValue = "${env:NIGHTSHIFT_PUSHGATEWAY_URL}",
      description = "Prometheus Pushgateway URL to push the run's metrics to (default: $NIGHTSHIFT_PUSHGATEWAY_URL; "
          + "none: no push).")
  String pushgateway;

  @Override
  public Integer call() {
    LocalDate d = Options.date("--date", date);
    MetricsPush push = pushgateway == null || pushgateway.isBlank() ? null : new Pushgateway(pushgateway);
    PipelineSteps steps = new PipelineSteps(root.context());
    for (UseCase u : Options.useCases(useCase)) {
      Monitor.Result r = steps.monitor(u, d);
      System.out.println(r.render());
      if (push != null) {
        push(push, r, steps.newestMonitored(u).orElse(d), spec.commandLine().getErr());
      }
    }
    return NightshiftCli.OK;
  }

  /**
   * Pushes the night's metrics, and says whether it did. The monitoring tables are written by now; a Pushgateway that
   * is down must not fail (and so re-run) the night, but it must be visible: a warning on stderr, and the missing
   * last-success timestamp alerts in Prometheus. The use case's group holds one night's metrics (PUT replaces them),
   * so a night older than the newest one monitored ({@code newestMonitored}, from the monitoring tables: a backfill
   * or a retry) is not pushed: it would replace the newest night's metrics and reset its last-success timestamp.
   */
  static boolean push(MetricsPush push, Monitor.Result r, LocalDate newestMonitored, java.io.PrintWriter err) {
    if (newestMonitored.isAfter(r.date())) {
      System.out.println("  not pushing " + r.useCase().id() + " monitoring metrics of " + r.date()
          + " to the Pushgateway: " + newestMonitored + " is monitored already, and its metrics stay the current ones");
      return false;
    }
    try {
      push.push(
          Pushgateway.grouping("nightshift_monitor", java.util.Map.of("use_case", r.useCase().id())),
          PrometheusMetrics.render(r, java.time.Instant.now()));
      System.out.println("  pushed " + r.useCase().id() + " monitoring metrics to the Pushgateway");
      return true;
    } catch (io.nightshift.core.NightshiftException e) {
      err.println("WARNING: " + e.getMessage());
      return false;
    }
  }
}
