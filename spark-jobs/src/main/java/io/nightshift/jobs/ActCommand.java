package io.nightshift.jobs;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.scoring.Prepared;
import io.nightshift.scoring.actions.ReplenishmentPlanner;
import io.nightshift.scoring.actions.WorkOrderPlanner;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "act", description = "Turn a night's predictions into replenishment orders and maintenance work orders"
        + " (also from a remaining-useful-life model's predictions with --rul-model).")
final class ActCommand implements Callable<Integer> {
  /** Predicted remaining life (in the model's time unit) that opens a work order when --rul-horizon is left out. */
  static final int DEFAULT_RUL_HORIZON = 30;

  @ParentCommand NightshiftCli root;

  @Option(names = "--date", required = true, description = "The scored night (YYYY-MM-DD).")
  String date;

  // no default value here: with --rul-model and no --use-case, only the remaining-life work orders are planned
  @Option(names = "--use-case", description = "demand, maintenance or all (default; none with --rul-model alone).")
  String useCase;

  @Option(names = "--service-level", defaultValue = "0.95", description = "Target in-stock probability (default: ${DEFAULT-VALUE}).")
  double serviceLevel;

  @Option(names = "--risk-threshold", defaultValue = "0.5", description = "Failure risk that opens a work order (default: ${DEFAULT-VALUE}).")
  double riskThreshold;

  @Option(names = "--crews", defaultValue = "5", description = "Work orders the crews can take per day, in each plan: the machines' and, with --rul-model,"
          + " that model's (default: ${DEFAULT-VALUE}).")
  int crews;

  @Option(
      names = "--rul-model",
      description = "Also plan work orders from this remaining-useful-life model's predictions (predictions/NAME,"
          + " e.g. nightshift-cmapss-rul) into actions/rul_work_orders; alone, only those.")
  String rulModel;

  @Option(
      names = "--rul-horizon",
      description = "Predicted remaining life, in the model's time unit (e.g. cycles), that opens a work order"
          + " (default: " + DEFAULT_RUL_HORIZON + ").")
  Double rulHorizon;

  @Override
  public Integer call() {
    LocalDate d = Options.date("--date", date);
    double horizon = rulHorizon == null ? DEFAULT_RUL_HORIZON : rulHorizon;
    if (rulModel == null && rulHorizon != null) {
      throw Errors.invalidOption("--rul-horizon", Double.toString(rulHorizon),
          "pass --rul-model NAME with it (the remaining-useful-life model whose predictions to plan from)");
    }
    if (rulModel != null) { // checked before any other decision is planned
      WorkOrderPlanner.requireRulSettings(rulModel, horizon, crews);
    }
    List<UseCase> useCases =
        useCase == null && rulModel != null ? List.of() : Options.useCases(useCase == null ? "all" : useCase);
    for (UseCase u : useCases) { // every setting is checked before the first decision is written
      if (u == UseCase.DEMAND) {
        ReplenishmentPlanner.requireServiceLevel(serviceLevel);
      } else {
        WorkOrderPlanner.requireSettings(riskThreshold, crews);
      }
    }
    PipelineSteps steps = new PipelineSteps(root.context());
    // every use case's inputs are checked before the first decision is written
    List<Runnable> writes = new ArrayList<>();
    for (UseCase u : useCases) {
      if (u == UseCase.DEMAND) {
        Prepared<ReplenishmentPlanner.Result> orders = steps.prepareReplenishment(d, serviceLevel);
        writes.add(() -> {
          ReplenishmentPlanner.Result r = orders.write();
          System.out.printf(
              "replenishment: %d proposals, %d orders, %.0f units -> %s (CSV: %s)%n",
              r.proposals(), r.orders(), r.units(), r.table(), r.export());
        });
      } else {
        Prepared<WorkOrderPlanner.Result> work = steps.prepareWorkOrders(d, riskThreshold, crews);
        writes.add(() -> {
          WorkOrderPlanner.Result r = work.write();
          System.out.printf(
              "maintenance: %d work orders, %d scheduled -> %s (CSV: %s)%n", r.workOrders(), r.scheduled(), r.table(),
              r.export());
        });
      }
    }
    if (rulModel != null) {
      Prepared<WorkOrderPlanner.RulResult> work = steps.prepareRulWorkOrders(d, rulModel, horizon, crews);
      writes.add(() -> {
        WorkOrderPlanner.RulResult r = work.write();
        System.out.printf(
            "%s: %d work orders with predicted remaining life <= %s, %d scheduled -> %s (CSV: %s)%n",
            r.model(), r.workOrders(), number(r.horizon()), r.scheduled(), r.table(), r.export());
      });
    }
    writes.forEach(Runnable::run);
    return NightshiftCli.OK;
  }

  /** 30 rather than 30.0; a fractional horizon as given. */
  private static String number(double x) {
    return x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x);
  }
}
