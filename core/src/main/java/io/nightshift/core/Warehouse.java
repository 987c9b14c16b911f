package io.nightshift.core;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import java.util.List;

/**
 * Where Nightshift's tables live: one root (a local directory, {@code s3a://bucket/prefix}, {@code hdfs://...}) with
 * a fixed layout below it. Raw inputs under {@code raw/}, Delta feature tables under {@code features/}, predictions
 * under {@code predictions/}, decisions under {@code actions/}, monitoring under {@code monitoring/}.
 */
public record Warehouse(String root) {
  public Warehouse {
    requireNonNull(root, "root is null");
    if (root.isBlank()) {
      throw Errors.invalidOption("--warehouse", root, "pass a directory or object-store URI");
    }
    root = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
  }

  public String path(String relative) {
    return root + "/" + relative;
  }

  public String rawSales() {
    return path("raw/sales");
  }

  public String rawPricePlan() {
    return path("raw/price_plan");
  }

  public String rawInventory() {
    return path("raw/inventory");
  }

  public String rawItems() {
    return path("raw/items");
  }

  public String rawTelemetry() {
    return path("raw/telemetry");
  }

  public String rawMaintenanceLog() {
    return path("raw/maintenance_log");
  }

  public String features(UseCase useCase) {
    return path("features/" + builtInFeatureTable(useCase));
  }

  /** The name under {@code features/} of a use case's built-in feature table, e.g. {@code demand_daily}. */
  public static String builtInFeatureTable(UseCase useCase) {
    return useCase == UseCase.DEMAND ? "demand_daily" : "machine_daily";
  }

  /**
   * The names under {@code features/} of every built-in feature table: a declared feature view may not take one,
   * since its table ({@link #featureView}) would be the built-in one.
   */
  public static List<String> builtInFeatureTables() {
    return Arrays.stream(UseCase.values()).map(Warehouse::builtInFeatureTable).toList();
  }

  /**
   * The Delta table of a feature view declared in configuration (conf/features/NAME.yaml); never one of the
   * {@link #builtInFeatureTables}, which the view definitions refuse as names.
   */
  public String featureView(String name) {
    return path("features/" + name);
  }

  /** The feature store's registry: one row per feature view build (definition hash, schema, lineage). */
  public String featureRegistry() {
    return path("registry/feature_views");
  }

  public String predictions(UseCase useCase) {
    return path("predictions/" + useCase.id());
  }

  public String replenishmentOrders() {
    return path("actions/replenishment_orders");
  }

  public String workOrders() {
    return path("actions/work_orders");
  }

  /** Work orders planned from a remaining-useful-life model's predictions, partitioned by decision date and model. */
  public String rulWorkOrders() {
    return path("actions/rul_work_orders");
  }

  public String exports(String name) {
    return path("exports/" + name);
  }

  public String monitoring(String name) {
    return path("monitoring/" + name);
  }

  /** Rows a quality gate moved out of a feature table, e.g. {@code quarantine/demand_daily}. */
  public String quarantine(String viewName) {
    return path("quarantine/" + viewName.replace("features/", ""));
  }

  /** Rendered reports (PNG plots), e.g. {@code reports/monitoring/demand/2024-03-01}. */
  public String reports(String name) {
    return path("reports/" + name);
  }
}
