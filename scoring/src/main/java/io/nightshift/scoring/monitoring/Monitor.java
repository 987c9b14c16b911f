package io.nightshift.scoring.monitoring;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.core.InvalidInputException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.RawData;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.SparkColumns;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.quality.QualityGate;
import io.nightshift.scoring.BatchScorer;
import io.nightshift.training.model.ForecastQuantiles;
import io.nightshift.training.model.FeatureProfile;
import io.nightshift.training.model.LoadedModel;
import io.nightshift.training.tracking.ModelRegistry;
import io.nightshift.training.tracking.ModelUri;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nightly monitoring of one use case: statistics of the night's predictions (compared with the previous night); the
 * realized accuracy of earlier predictions whose outcome is now known (demand: actual sales by forecast horizon over
 * the last 28 days; maintenance: failures within seven days of nights at least seven days old); feature and
 * prediction drift (PSI, KS) against the baseline stored with the scoring model version; and retraining signals
 * when drift or accuracy cross their thresholds (demand: the realized accuracy of horizons 1..7, the direct forecasts
 * validation measured, of the forecasts made by the night's model version; longer, recursive horizons are reported
 * by horizon but do not raise the signal). Accuracy rows are by model version, so after a retrain the replaced
 * version's forecasts, still in the window, are reported apart and do not count against its successor. Written to
 * {@code monitoring/prediction_stats}, {@code accuracy}, {@code feature_drift} and {@code retraining_signals},
 * replacing the date's rows.
 */
public final class Monitor {
  private static final Logger LOG = LoggerFactory.getLogger(Monitor.class);
  static final int ACCURACY_WINDOW_DAYS = 28;

  private Monitor() {}

  /** PSI at or above this is an alert and raises a retraining signal (the usual rule of thumb). */
  static final double PSI_ALERT = 0.25;
  /** PSI at or above this is a warning. */
  static final double PSI_WARN = 0.1;
  /** Realized WAPE this many times the validation WAPE raises a retraining signal. */
  static final double ACCURACY_DEGRADATION = 1.25;
  static final long MIN_OUTCOMES = 100;
  /** Failures that must have followed a maintenance model's nights before its realized recall can raise a signal. */
  static final long MIN_FAILURES = 20;

  static final StructType DRIFT =
      new StructType()
          .add("use_case", DataTypes.StringType)
          .add("monitor_date", DataTypes.DateType)
          .add("model_version", DataTypes.StringType)
          .add("column", DataTypes.StringType)
          .add("psi", DataTypes.DoubleType)
          .add("ks", DataTypes.DoubleType)
          .add("status", DataTypes.StringType);

  static final StructType SIGNALS =
      new StructType()
          .add("use_case", DataTypes.StringType)
          .add("signal_date", DataTypes.DateType)
          .add("kind", DataTypes.StringType)
          .add("subject", DataTypes.StringType)
          .add("value", DataTypes.DoubleType)
          .add("threshold", DataTypes.DoubleType)
          .add("model_version", DataTypes.StringType);

  public record Result(
      UseCase useCase, LocalDate date, Row stats, List<Row> accuracy, List<Row> drift, List<Row> signals,
      List<String> plots) {
    public boolean retrain() {
      return !signals.isEmpty();
    }

    public String headline() {
      String acc =
          accuracy.isEmpty()
              ? "no outcomes known yet"
              : useCase == UseCase.DEMAND
                  ? String.format(Locale.ROOT, "realized WAPE %.3f%s over %d forecasts", weighted("wape"),
                      Double.isNaN(weighted("coverage_p10_p90")) ? ""
                          : String.format(Locale.ROOT, ", P10-P90 coverage %.2f", weighted("coverage_p10_p90")),
                      total())
                  : accuracy.stream().map(a -> String.format(Locale.ROOT,
                      "realized recall %.2f over %d scored machine-days of version %s", a.<Double>getAs("recall"),
                      a.<Long>getAs("n"), a.<String>getAs("model_version"))).collect(Collectors.joining(", "));
      Row worst = drift.stream().filter(r -> !r.isNullAt(r.fieldIndex("psi")))
          .max(java.util.Comparator.comparingDouble(r -> r.<Double>getAs("psi"))).orElse(null);
      String d = worst == null ? "no drift baseline" : String.format(Locale.ROOT, "max PSI %.3f (%s)",
          worst.<Double>getAs("psi"), worst.<String>getAs("column"));
      return String.format(
          Locale.ROOT, "%d predictions, mean %.3f; %s; %s; %s", stats.<Long>getAs("rows"), stats.<Double>getAs("mean"),
          acc, d, signals.isEmpty() ? "no retraining signal" : signals.size() + " retraining signal(s)");
    }

    public String render() {
      List<Row> lines = new java.util.ArrayList<>(accuracy);
      lines.addAll(signals);
      String rows = lines.stream().map(Row::toString).collect(Collectors.joining("\n    "));
      return useCase.id() + " monitoring for " + date + ": " + headline() + (rows.isEmpty() ? "" : "\n    " + rows)
          + (plots.isEmpty() ? "" : "\n    plots: " + String.join(", ", plots));
    }

    private long total() {
      return accuracy.stream().mapToLong(r -> r.<Long>getAs("n")).sum();
    }

    private double weighted(String metric) {
      double num = 0;
      long n = 0;
      for (Row r : accuracy) {
        Double v = r.getAs(metric);
        if (v != null && !v.isNaN()) {
          num += v * r.<Long>getAs("n");
          n += r.<Long>getAs("n");
        }
      }
      return n == 0 ? Double.NaN : num / n;
    }
  }

  public static Result run(
      SparkSession spark, Warehouse warehouse, ModelRegistry registry, UseCase useCase, LocalDate date) {
    String fix = "run 'nightshift score --date " + date + " --use-case " + useCase.id() + "' first";
    Dataset<Row> predictions =
        DeltaTables.read(spark, warehouse.predictions(useCase), "predictions/" + useCase.id(), fix);
    Column tonight = col("score_date").equalTo(lit(Date.valueOf(date)));
    if (predictions.where(tonight).isEmpty()) {
      throw Errors.emptyPartition("predictions/" + useCase.id(), "score date " + date, fix);
    }
    Row previous =
        predictions.where(col("score_date").lt(lit(Date.valueOf(date)))).agg(max("score_date")).head();
    Column prevMean =
        previous.isNullAt(0)
            ? lit(null).cast("double")
            : lit(predictions.where(col("score_date").equalTo(lit(previous.getDate(0)))).agg(avg("prediction")).head().getDouble(0));
    Dataset<Row> stats =
        predictions
            .where(tonight)
            .agg(
                count(lit(1)).as("rows"),
                avg("prediction").as("mean"),
                min("prediction").as("min"),
                expr("percentile_approx(prediction, 0.1)").as("p10"),
                expr("percentile_approx(prediction, 0.5)").as("p50"),
                expr("percentile_approx(prediction, 0.9)").as("p90"),
                max("prediction").as("max"))
            .select(
                lit(useCase.id()).as("use_case"),
                lit(Date.valueOf(date)).as("monitor_date"),
                col("*"),
                prevMean.as("previous_mean"));
    Dataset<Row> accuracy =
        useCase == UseCase.DEMAND ? demandAccuracy(spark, warehouse, predictions, date) : maintenanceAccuracy(spark, warehouse, predictions, date);
    // everything is computed, every input checked and the plots written before the first table is written: a night
    // that fails (a model version gone from the registry, a missing feature table, plots that cannot be written)
    // leaves the monitoring tables as they were
    Row s = stats.head();
    StructType statsSchema = stats.schema();
    List<Row> acc = accuracy.orderBy("horizon_days", "model_version").collectAsList();
    StructType accuracySchema = accuracy.schema();
    Row used = predictions.where(tonight).select("model_name", "model_version", "feature_table_version").head();
    LoadedModel model =
        LoadedModel.load(registry, new ModelUri(used.getString(0), null, used.getString(1)));
    long scoredFrom = used.getLong(2);
    List<Row> drift = drift(spark, warehouse, useCase, date, model, scoredFrom,
        scoredTableId(spark, warehouse, useCase, date, scoredFrom), predictions.where(tonight));
    List<Row> signals = signals(useCase, date, model, drift, acc);
    // the plots too: writing them can fail (a report folder that cannot be written), and must not do so between tables
    List<String> plots = MonitoringReport.write(spark, warehouse, useCase, date, predictions, drift);

    // prediction_stats last: its row marks the night as monitored (newestMonitored, the retraining signal's check of
    // the newest night), so a run that fails between two tables leaves the night unmarked, and re-running it replaces
    // whatever it had written
    String where = "use_case = '" + useCase.id() + "' AND monitor_date = '" + date + "'";
    DeltaTables.replaceWhere(
        spark.createDataFrame(signals, SIGNALS),
        warehouse.monitoring("retraining_signals"),
        "use_case = '" + useCase.id() + "' AND signal_date = '" + date + "'",
        "use_case");
    DeltaTables.replaceWhere(
        spark.createDataFrame(drift, DRIFT), warehouse.monitoring("feature_drift"), where, "use_case");
    DeltaTables.replaceWhere(
        spark.createDataFrame(acc, accuracySchema), warehouse.monitoring("accuracy"), where, "use_case");
    DeltaTables.replaceWhere(
        spark.createDataFrame(List.of(s), statsSchema), warehouse.monitoring("prediction_stats"), where, "use_case");
    Result r = new Result(useCase, date, s, acc, drift, signals, plots);
    LOG.info("Monitoring {} {}: {}", useCase.id(), date, r.headline());
    return r;
  }

  /**
   * The newest night monitored for {@code useCase} ({@code monitoring/prediction_stats}, which every monitoring run
   * writes), or empty when none is. A night monitored after a newer one (a backfill or a retry) is not the current
   * state of the use case.
   */
  public static java.util.Optional<LocalDate> newestMonitored(
      SparkSession spark, Warehouse warehouse, UseCase useCase) {
    String path = warehouse.monitoring("prediction_stats");
    if (!DeltaTables.exists(spark, path)) {
      return java.util.Optional.empty();
    }
    Row newest = spark.read().format("delta").load(path).where(col("use_case").equalTo(useCase.id()))
        .agg(max("monitor_date")).head();
    return newest.isNullAt(0) ? java.util.Optional.empty() : java.util.Optional.of(newest.getDate(0).toLocalDate());
  }

  /**
   * PSI and KS of each drift-monitored feature of the night's scored rows ({@link #scoredRows}), and of the
   * predictions, against the baseline profiles stored with the model version that scored them. The features are read
   * from the version of the feature table that the night was scored from ({@code featureTableVersion}, recorded with
   * every prediction), so a night's drift describes what its model saw, however the table has changed since; a
   * version that can no longer be read as it was (the table recreated, so its id is not {@code featureTableId}, the
   * night's manifest's; or its log or data files cleaned up) leaves the features' drift not measured
   * ({@code no_data}).
   */
  static List<Row> drift(
      SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate date, LoadedModel model,
      long featureTableVersion, String featureTableId, Dataset<Row> tonightsPredictions) {
    Map<String, FeatureProfile> baseline = model.metadata().baseline();
    if (baseline == null || baseline.isEmpty()) {
      return List.of();
    }
    FeatureView view = QualityGate.view(useCase);
    Map<String, List<Double>> edges = new LinkedHashMap<>();
    for (String f : view.driftMonitored()) {
      if (baseline.containsKey(f) && model.metadata().features().contains(f)) {
        edges.put(f, baseline.get(f).edges());
      }
    }
    Map<String, FeatureProfile> tonight = new LinkedHashMap<>();
    Dataset<Row> scored = scoredFeatures(spark, warehouse, useCase, view, date, featureTableVersion, featureTableId);
    if (scored != null) {
      tonight.putAll(FeatureProfile.profile(scored.where(scoredRows(useCase, view, date, tonightsPredictions)), edges));
    } else {
      edges.keySet().forEach(f -> tonight.put(f, null));
    }
    if (baseline.containsKey("prediction")) {
      // demand: the direct horizons, like the validation predictions of the baseline
      Dataset<Row> comparable =
          useCase == UseCase.DEMAND
              ? tonightsPredictions.where(col("horizon_days").leq(DemandFeatures.HORIZON_DAYS))
              : tonightsPredictions;
      // the model's own forecasts, as the baseline holds: reconciled to store totals (--reconcile store), prediction
      // is moved by the store forecast too, and that adjustment is not the model drifting
      if (Arrays.asList(comparable.columns()).contains("prediction_base")) {
        comparable = comparable.drop("prediction").withColumnRenamed("prediction_base", "prediction");
      }
      tonight.putAll(FeatureProfile.profile(comparable, Map.of("prediction", baseline.get("prediction").edges())));
    }
    List<Row> out = new java.util.ArrayList<>();
    boolean warned = false;
    for (Map.Entry<String, FeatureProfile> e : tonight.entrySet()) {
      if (e.getValue() == null || e.getValue().noRows()) {
        // the scored version cannot be read, or holds none of the night's rows: an empty sample would read as the
        // largest possible drift, so the feature is reported as not measured instead
        if (!warned && e.getValue() != null) {
          LOG.warn("Monitoring {} {}: version {} of {}, which the night was scored from, holds none of its rows;"
              + " feature drift not measured", useCase.id(), date, featureTableVersion, view.name());
          warned = true;
        }
        out.add(new GenericRowWithSchema(
            new Object[] {useCase.id(), Date.valueOf(date), model.version().version(), e.getKey(), null, null, "no_data"},
            DRIFT));
        continue;
      }
      FeatureProfile base = baseline.get(e.getKey());
      double psi = base.psi(e.getValue());
      double ks = base.ks(e.getValue());
      String status = psi >= PSI_ALERT ? "alert" : psi >= PSI_WARN ? "warn" : "ok";
      out.add(new GenericRowWithSchema(
          new Object[] {useCase.id(), Date.valueOf(date), model.version().version(), e.getKey(), psi, ks, status}, DRIFT));
    }
    return out;
  }

  /**
   * The feature rows the night scored: {@link QualityGate#scoringRows}, narrowed as scoring narrows them for a demand
   * forecast shorter than the direct horizons ({@code score --horizon-days N}, N < 7: days {@code date+1..date+N}),
   * N read from the night's predictions (their longest horizon), so drift never profiles rows that were not scored.
   */
  static Column scoredRows(UseCase useCase, FeatureView view, LocalDate date, Dataset<Row> tonightsPredictions) {
    Column rows = QualityGate.scoringRows(view, date);
    if (useCase != UseCase.DEMAND) {
      return rows;
    }
    Row longest = tonightsPredictions.agg(max("horizon_days")).head();
    int horizon = longest.isNullAt(0) ? DemandFeatures.HORIZON_DAYS : ((Number) longest.get(0)).intValue();
    return horizon < DemandFeatures.HORIZON_DAYS
        ? rows.and(col(view.dateColumn()).leq(lit(Date.valueOf(date.plusDays(horizon)))))
        : rows;
  }

  /**
   * The feature table as of the version a night was scored from (of the table {@code tableId}, null: not recorded),
   * or null (with a warning naming the table, the version and the cause) when that version can no longer be read as
   * it was. A missing table is an input error, as it is for scoring.
   */
  private static Dataset<Row> scoredFeatures(
      SparkSession spark, Warehouse warehouse, UseCase useCase, FeatureView view, LocalDate date, long version,
      String tableId) {
    String path = warehouse.features(useCase);
    DeltaTables.requireTable(
        spark, path, view.name(), "run 'nightshift features build --as-of " + date + "' to rebuild it");
    try {
      return DeltaTables.readVersion(spark, path, view.name(), version, tableId,
          "score the night again (nightshift score --date " + date + ") to measure its drift on the table as it is now");
    } catch (InvalidInputException e) {
      LOG.warn("Monitoring {} {}: the night was scored from version {} of {}, which cannot be read any more ({});"
          + " feature drift not measured", useCase.id(), date, version, view.name(), e.getMessage());
      return null;
    }
  }

  /**
   * The id of the feature table ({@link DeltaTables#tableId}) that the night's manifest recorded with
   * {@code version}, or null where it recorded none (a manifest written before ids were, or none at all).
   */
  private static String scoredTableId(
      SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate date, long version) {
    if (!DeltaTables.exists(spark, warehouse.monitoring("scoring_manifest"))) {
      return null;
    }
    return BatchScorer.recorded(spark, warehouse, useCase, date)
        .filter(m -> m.featureTableVersion() == version)
        .map(BatchScorer.Manifest::featureTableId)
        .orElse(null);
  }

  /**
   * Retraining signals: drift alerts, and realized accuracy well below validation (demand's WAPE above 1.25x, or
   * maintenance's recall at 0.5 below 1/1.25 of validation's), of the forecasts made by {@code model} (the version that
   * scored the night; the accuracy rows of other versions are not its evidence).
   */
  static List<Row> signals(UseCase useCase, LocalDate date, LoadedModel model, List<Row> drift, List<Row> accuracy) {
    List<Row> out = new java.util.ArrayList<>();
    for (Row d : drift) {
      if ("alert".equals(d.getAs("status"))) {
        out.add(new GenericRowWithSchema(new Object[] {useCase.id(), Date.valueOf(date), "drift",
            d.<String>getAs("column"), d.<Double>getAs("psi"), PSI_ALERT, model.version().version()}, SIGNALS));
      }
    }
    Double validationWape = model.metadata().metrics().get("valid_wape");
    // validation measures the direct forecast of one feature build (horizons 1..7); recursive horizons are
    // naturally less accurate and would raise the signal without anything having degraded
    // a horizon whose actual sales were all zero has no WAPE (null): it carries no evidence either way
    // only the forecasts of the version monitored tonight are its evidence: after a retrain, the replaced version's
    // forecasts stay in the 28-day window for weeks and must not raise a signal against (and blamed on) its successor
    String version = model.version().version();
    if (useCase == UseCase.DEMAND && validationWape != null) {
      List<Row> direct =
          accuracy.stream()
              .filter(r -> version.equals(r.getAs("model_version")))
              .filter(r -> r.<Integer>getAs("horizon_days") <= DemandFeatures.HORIZON_DAYS)
              .filter(r -> r.getAs("wape") != null && !r.<Double>getAs("wape").isNaN())
              .toList();
      long n = direct.stream().mapToLong(r -> r.<Long>getAs("n")).sum();
      double wape =
          direct.stream().mapToDouble(r -> r.<Double>getAs("wape") * r.<Long>getAs("n")).sum() / Math.max(1, n);
      if (n >= MIN_OUTCOMES && wape > ACCURACY_DEGRADATION * validationWape) {
        out.add(new GenericRowWithSchema(new Object[] {useCase.id(), Date.valueOf(date), "accuracy", "realized_wape",
            wape, ACCURACY_DEGRADATION * validationWape, model.version().version()}, SIGNALS));
      }
    }
    // maintenance: failures the model missed. Realized recall at 0.5 of tonight's version, once at least
    // MIN_FAILURES failures have followed its nights (recall over a handful of failures is mostly noise), against the
    // recall it had in validation
    Double validationRecall = model.metadata().metrics().get("valid_recall_at_0_5");
    if (useCase == UseCase.MAINTENANCE && validationRecall != null && !validationRecall.isNaN()) {
      List<Row> mine =
          accuracy.stream()
              .filter(r -> version.equals(r.getAs("model_version")))
              .filter(r -> r.getAs("positives") != null)
              .filter(r -> r.getAs("recall") != null && !r.<Double>getAs("recall").isNaN())
              .toList();
      long positives = mine.stream().mapToLong(r -> r.<Long>getAs("positives")).sum();
      double caught = mine.stream().mapToDouble(r -> r.<Double>getAs("recall") * r.<Long>getAs("positives")).sum();
      double floor = validationRecall / ACCURACY_DEGRADATION;
      if (positives >= MIN_FAILURES && caught / positives < floor) {
        out.add(new GenericRowWithSchema(new Object[] {useCase.id(), Date.valueOf(date), "accuracy", "realized_recall",
            caught / positives, floor, model.version().version()}, SIGNALS));
      }
    }
    return out;
  }

  /**
   * WAPE and bias by model version and forecast horizon for target days in the last 28 days whose sales are known (a
   * row with an empty sales field is not), and for quantile forecasts the share of actuals inside [P10, P90]
   * (nominally 0.8) and the mean pinball loss over P10/P50/P90 divided by the mean actual.
   */
  static Dataset<Row> demandAccuracy(SparkSession spark, Warehouse warehouse, Dataset<Row> predictions, LocalDate date) {
    Dataset<Row> actuals =
        RawData.read(spark, warehouse.rawSales(), "raw/sales", RawData.SALES)
            .where(col("date").leq(lit(Date.valueOf(date))))
            .where(col("sales").isNotNull()) // an empty sales field is no outcome: not counted in n either
            .select(col("store"), col("item"), col("date").as("target_date"), col("sales").cast("double").as("actual"));
    Dataset<Row> known =
        predictions
            .where(col("target_date").leq(lit(Date.valueOf(date)))
                .and(col("target_date").gt(lit(Date.valueOf(date.minusDays(ACCURACY_WINDOW_DAYS))))))
            .join(actuals, SparkColumns.seq("store", "item", "target_date"));
    Column err = col("prediction").minus(col("actual"));
    boolean quantiles =
        java.util.Arrays.asList(predictions.columns()).containsAll(List.of("forecast_p10", "forecast_p50", "forecast_p90"));
    Column inside = col("actual").between(col("forecast_p10"), col("forecast_p90")).cast("double");
    Column pinball =
        ForecastQuantiles.pinball(col("forecast_p10"), col("actual"), 0.1)
            .plus(ForecastQuantiles.pinball(col("forecast_p50"), col("actual"), 0.5))
            .plus(ForecastQuantiles.pinball(col("forecast_p90"), col("actual"), 0.9))
            .divide(3);
    return known
        .groupBy("model_version", "horizon_days")
        .agg(
            count(lit(1)).as("n"),
            sum(abs(err)).divide(sum(abs(col("actual")))).as("wape"),
            sum(err).divide(sum(abs(col("actual")))).as("bias"),
            lit(null).cast("double").as("precision"),
            lit(null).cast("double").as("recall"),
            quantiles ? avg(inside).as("coverage_p10_p90") : lit(null).cast("double").as("coverage_p10_p90"),
            quantiles
                ? avg(pinball).divide(avg(abs(col("actual")))).as("pinball")
                : lit(null).cast("double").as("pinball"))
        .select(
            lit(UseCase.DEMAND.id()).as("use_case"), lit(Date.valueOf(date)).as("monitor_date"), col("model_version"),
            col("horizon_days"), col("n"), col("wape"), col("bias"), col("precision"), col("recall"),
            col("coverage_p10_p90"), col("pinball"), lit(null).cast("long").as("positives"));
  }

  /**
   * Precision and recall at 0.5 by model version for nights whose seven-day outcome window has closed, within the last
   * 28 days, and the number of machine-nights followed by a failure ({@code positives}, the recall's denominator).
   */
  static Dataset<Row> maintenanceAccuracy(
      SparkSession spark, Warehouse warehouse, Dataset<Row> predictions, LocalDate date) {
    Dataset<Row> failures =
        RawData.read(spark, warehouse.rawMaintenanceLog(), "raw/maintenance_log", RawData.MAINTENANCE_LOG)
            .where(col("event_type").equalTo("failure").and(col("date").leq(lit(Date.valueOf(date)))))
            .select(col("machine_id"), col("date").as("failure_date"));
    Dataset<Row> closed =
        predictions.where(
            col("score_date").leq(lit(Date.valueOf(date.minusDays(7))))
                .and(col("score_date").gt(lit(Date.valueOf(date.minusDays(ACCURACY_WINDOW_DAYS))))));
    Dataset<Row> labeled =
        closed
            .join(failures, closed.col("machine_id").equalTo(failures.col("machine_id"))
                .and(datediff(failures.col("failure_date"), closed.col("score_date")).between(1, 7)), "left")
            .groupBy(closed.col("model_version"), closed.col("machine_id"), closed.col("score_date"),
                closed.col("prediction"))
            .agg(max(when(col("failure_date").isNotNull(), 1).otherwise(0)).as("failed"));
    Column flagged = col("prediction").geq(0.5);
    Column tp = sum(when(flagged.and(col("failed").equalTo(1)), 1).otherwise(0));
    return labeled
        .groupBy("model_version")
        .agg(
            count(lit(1)).as("n"),
            tp.divide(sum(when(flagged, 1).otherwise(0))).as("precision"),
            tp.divide(sum(col("failed"))).as("recall"),
            sum(col("failed")).as("positives"))
        .where(col("n").gt(0))
        .select(
            lit(UseCase.MAINTENANCE.id()).as("use_case"), lit(Date.valueOf(date)).as("monitor_date"),
            col("model_version"), lit(7).as("horizon_days"), col("n"), lit(null).cast("double").as("wape"),
            lit(null).cast("double").as("bias"),
            col("precision").cast("double").as("precision"), col("recall").cast("double").as("recall"),
            lit(null).cast("double").as("coverage_p10_p90"), lit(null).cast("double").as("pinball"),
            col("positives").cast("long").as("positives"));
  }
}
