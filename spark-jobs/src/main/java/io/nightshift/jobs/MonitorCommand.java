package io.nightshift.jobs;

import io.nightshift.core.UseCase;
import io.nightshift.scoring.monitoring.Monitor;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "monitor", description = "Record prediction statistics and realized accuracy as labels arrive.")
final class MonitorCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;

  @Option(names = "--date", required = true, description = "The scored night (YYYY-MM-DD).")
  String date;

  @Option(names = "--use-case", defaultValue = "all", description = "demand, maintenance or all (default).")
  String useCase;

  @Override
  public Integer call() {
    LocalDate d = Options.date("--date", date);
    PipelineSteps steps = new PipelineSteps(root.context());
    for (UseCase u : Options.useCases(useCase)) {
      Monitor.Result r = steps.monitor(u, d);
      System.out.println(r.render());
    }
    return NightshiftCli.OK;
  }
}
