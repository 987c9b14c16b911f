package io.nightshift.core;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Every user-facing input error comes from here. Each message says what is wrong, with the offending value, and how
 * to fix it.
 */
public final class Errors {
  private Errors() {}

  public static InvalidInputException invalidDate(String option, String value) {
    return new InvalidInputException(
        String.format(
            "Invalid date for %s: '%s' is not an ISO date. Fix: pass the date as YYYY-MM-DD, e.g. %s 2024-06-30.",
            option, value, option));
  }

  public static InvalidInputException missingTable(String table, String path, String fix) {
    return new InvalidInputException(
        String.format("Missing table %s: no Delta table at %s. Fix: %s.", table, path, fix));
  }

  /** Raw or source files (CSV, Parquet, JSON) that are not there: nothing at all at {@code path}. */
  public static InvalidInputException missingFiles(String what, String path, String fix) {
    return new InvalidInputException(String.format("Missing %s: no files at %s. Fix: %s.", what, path, fix));
  }

  public static InvalidInputException missingColumns(
      String source, Collection<String> missing, Collection<String> present) {
    return new InvalidInputException(
        String.format(
            "Cannot read %s: missing required column(s) %s (found: %s). Fix: add the column(s) to the data or "
                + "point Nightshift at the right source.",
            source, sorted(missing), sorted(present)));
  }

  public static InvalidInputException emptyPartition(String table, String what, String fix) {
    return new InvalidInputException(
        String.format("No rows in %s for %s. Fix: %s.", table, what, fix));
  }

  public static InvalidInputException unknownModelAlias(
      String model, String alias, Collection<String> knownAliases) {
    String known = knownAliases.isEmpty() ? "none" : String.join(", ", knownAliases.stream().sorted().toList());
    return new InvalidInputException(
        String.format(
            "Unknown model alias: %s@%s does not exist (aliases of %s: %s). Fix: train and register the model "
                + "first (nightshift train), or use one of the existing aliases.",
            model, alias, model, known));
  }

  /**
   * A version number the registry does not have for a model it knows; {@code knownVersions} are the model's versions
   * (the newest ten are named).
   */
  public static InvalidInputException unknownModelVersion(
      String model, String version, Collection<String> knownVersions) {
    List<String> sorted = knownVersions.stream().sorted(Comparator.comparingLong(Errors::versionNumber)).toList();
    String known =
        sorted.isEmpty() ? "none"
            : sorted.size() <= 10 ? String.join(", ", sorted)
            : "..., " + String.join(", ", sorted.subList(sorted.size() - 10, sorted.size()));
    return new InvalidInputException(
        String.format(
            "Unknown model version: %s/%s does not exist (versions of %s: %s). Fix: use one of those versions, or an "
                + "alias such as %s@champion.",
            model, version, model, known, model));
  }

  private static long versionNumber(String version) {
    try {
      return Long.parseLong(version);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  public static InvalidInputException unknownModel(String model) {
    return new InvalidInputException(
        String.format(
            "Unknown model: no registered model named %s. Fix: run 'nightshift train' to register it, or check "
                + "the name in the MLflow registry.",
            model));
  }

  /** The MLflow experiment a run would go to is deleted (MLflow keeps its name and refuses runs in it). */
  public static InvalidInputException deletedExperiment(String experiment, String id, String trackingUri) {
    return new InvalidInputException(
        String.format(
            "MLflow experiment '%s' (id %s) is deleted at %s, and MLflow records no runs in a deleted experiment. "
                + "Fix: restore it in the MLflow UI or with 'MLFLOW_TRACKING_URI=%s mlflow experiments restore "
                + "--experiment-id %s'; or, to start it afresh, delete it permanently with 'mlflow gc "
                + "--experiment-ids %s' (with the server's --backend-store-uri) and Nightshift creates it again.",
            experiment, id, trackingUri, trackingUri, id, id));
  }

  public static InvalidInputException invalidModelUri(String uri) {
    return new InvalidInputException(
        String.format(
            "Invalid model URI '%s'. Fix: use NAME@ALIAS (e.g. nightshift-demand@champion), NAME/VERSION, or the "
                + "same with a models:/ prefix.",
            uri));
  }

  public static InvalidInputException invalidOption(String option, String value, String expected) {
    return new InvalidInputException(
        String.format("Invalid value for %s: '%s'. Fix: %s.", option, value, expected));
  }

  public static InvalidInputException modelSchemaMismatch(
      String model, String table, Collection<String> missing) {
    return new InvalidInputException(
        String.format(
            "Model %s does not match feature table %s: feature column(s) %s are missing from the table. Fix: "
                + "rebuild the features with the current definitions (nightshift features build) or retrain the "
                + "model on the current feature table.",
            model, table, sorted(missing)));
  }

  public static InvalidInputException missingSetting(String name, String fix) {
    return new InvalidInputException(String.format("Missing setting %s. Fix: %s.", name, fix));
  }

  /** A source row that does not parse as declared: names the source and its path, the row and the fix. */
  public static InvalidInputException malformedRow(
      String source, String path, String row, String fix, Throwable cause) {
    return new InvalidInputException(
        String.format("Malformed row in %s (%s): %s. Fix: %s.", source, path, row, fix), cause);
  }

  /** Rows of an input table that cannot be used as they are: names the table, its path, the problem and the fix. */
  public static InvalidInputException unusableRows(String table, String path, String problem, String fix) {
    return new InvalidInputException(String.format("Unusable rows in %s (%s): %s. Fix: %s.", table, path, problem, fix));
  }

  /**
   * A recorded version of a Delta table that cannot be read as it was (the table was recreated since, or its log or
   * data files were cleaned up): names the table, its path, the version, why and the fix.
   */
  public static InvalidInputException unreadableVersion(
      String table, String path, long version, String problem, String fix) {
    return new InvalidInputException(
        String.format("Cannot read version %d of %s (%s): %s. Fix: %s.", version, table, path, problem, fix));
  }

  /** A declarative definition (a YAML file) that cannot be used: names the file, the key and the fix. */
  public static InvalidInputException invalidDefinition(String file, String key, String problem, String fix) {
    return new InvalidInputException(String.format("Invalid definition %s, %s: %s. Fix: %s.", file, key, problem, fix));
  }

  private static String sorted(Collection<String> values) {
    return values.stream().sorted().collect(Collectors.joining(", ", "[", "]"));
  }
}
