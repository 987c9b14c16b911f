package io.nightshift.jobs;

import io.nightshift.core.UseCase;
import io.nightshift.scoring.actions.ReplenishmentPlanner;
import io.nightshift.scoring.actions.WorkOrderPlanner;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "act", description = "Turn a night's predictions into replenishment orders and maintenance work orders.")
final class ActCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;

  @Option(names = "--date", required = true, description = "The scored night (YYYY-MM-DD).")
  String date;

  @Option(names = "--use-case", defaultValue = "all", description = "demand, maintenance or all (default).")
  String useCase;

  @Option(names = "--service-level", defaultValue = "0.95", description = "Target in-stock probability (default: ${DEFAULT-VALUE}).")
  double serviceLevel;

  @Option(names = "--risk-threshold", defaultValue = "0.5", description = "Failure risk that opens a work order (default: ${DEFAULT-VALUE}).")
  double riskThreshold;

  @Option(names = "--crews", defaultValue = "5", description = "Work orders the crews can take per day (default: ${DEFAULT-VALUE}).")
  int crews;

  @Override
  public Integer call() {
    LocalDate d = Options.date("--date", date);
    PipelineSteps steps = new PipelineSteps(root.context());
    for (UseCase u : Options.useCases(useCase)) {
      if (u == UseCase.DEMAND) {
        ReplenishmentPlanner.Result r = steps.planReplenishment(d, serviceLevel);
        System.out.printf(
            "replenishment: %d proposals, %d orders, %.0f units -> %s (CSV: %s)%n",
            r.proposals(), r.orders(), r.units(), r.table(), r.export());
      } else {
        WorkOrderPlanner.Result r = steps.planWorkOrders(d, riskThreshold, crews);
        System.out.printf(
            "maintenance: %d work orders, %d scheduled -> %s (CSV: %s)%n", r.workOrders(), r.scheduled(), r.table(), r.export());
      }
    }
    return NightshiftCli.OK;
  }
}
