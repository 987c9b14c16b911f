package io.nightshift.jobs;

import io.nightshift.featurestore.Housekeeping;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(
    name = "housekeeping",
    description = "OPTIMIZE (Z-order by entity keys), VACUUM and retention properties for every Nightshift table.")
final class HousekeepingCommand implements Callable<Integer> {
  @ParentCommand NightshiftCli root;

  @Option(
      names = "--retention-hours",
      defaultValue = "168",
      description = "Files older than this are vacuumed; at least 168 (default: ${DEFAULT-VALUE}).")
  int retentionHours;

  @Override
  public Integer call() {
    root.context().stage("housekeeping", "OPTIMIZE and VACUUM Nightshift tables");
    for (Housekeeping.TableReport r : Housekeeping.run(root.context().spark(), root.context().warehouse(), retentionHours)) {
      System.out.printf("%s: %d -> %d files%s%n", r.table(), r.filesBefore(), r.filesAfter(),
          r.zOrderBy().isEmpty() ? "" : " (Z-ordered by " + r.zOrderBy() + ")");
    }
    return NightshiftCli.OK;
  }
}
