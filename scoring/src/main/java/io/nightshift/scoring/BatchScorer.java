package io.nightshift.scoring;

import io.nightshift.training.model.LoadedModel;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.SparkColumns;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.quality.QualityGate;
import io.nightshift.training.model.ForecastQuantiles;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.predict.NativePredictor;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nightly batch scoring: reads the feature rows a night as of {@code date} scores (for demand the next seven days,
 * or with {@link ScoringOptions#horizonDays()} any horizon up to {@value ScoringOptions#MAX_HORIZON_DAYS} days,
 * beyond seven days recursively, see {@link RecursiveForecast}; for machines the day itself), predicts with the
 * registered booster (demand also gets calibrated P10/P50/P90 quantile forecasts, see {@link ForecastQuantiles},
 * widened beyond the first week), optionally reconciles item forecasts with store totals
 * ({@link StoreReconciliation}), and replaces the {@code score_date} partition of the predictions table in one
 * transaction. Each row records the model name, version and run, and the feature table version, and each run
 * appends its manifest (replacing an earlier one for the same date) to {@code monitoring/scoring_manifest}: with the
 * horizon, strategy, reconciliation and the version of the price-plan snapshot a recursive forecast used, so
 * {@link #replay} gives the same partition.
 */
public final class BatchScorer {
  private static final Logger LOG = LoggerFactory.getLogger(BatchScorer.class);

  static final StructType MANIFEST =
      new StructType()
          .add("use_case", DataTypes.StringType)
          .add("score_date", DataTypes.DateType)
          .add("model_name", DataTypes.StringType)
          .add("model_version", DataTypes.StringType)
          .add("model_run_id", DataTypes.StringType)
          .add("feature_table", DataTypes.StringType)
          .add("feature_table_version", DataTypes.LongType)
          .add("rows", DataTypes.LongType)
          .add("code_version", DataTypes.StringType)
          .add("horizon_days", DataTypes.IntegerType)
          .add("strategy", DataTypes.StringType)
          .add("reconciliation", DataTypes.StringType)
          .add("price_plan_version", DataTypes.LongType)
          // Delta's ids of the two tables at those versions (DeltaTables.tableId): a table recreated since has another,
          // so a replay or monitoring run does not read its version of the same number as the night's data
          .add("feature_table_id", DataTypes.StringType)
          .add("price_plan_table_id", DataTypes.StringType);

  /**
   * The fix when a version a night recorded can no longer be read as it was (only replays read a recorded version;
   * a night scored as usual reads the latest).
   */
  static final String REPLAY_FIX = "score the night again without --replay, which reads the tables as they are now";

  /** The plan of the recursive days as each night used it, for replays: {@code monitoring/scoring_price_plan}. */
  static final String PRICE_PLAN_SNAPSHOT = "scoring_price_plan";

  /** Store totals of reconciled nights ({@code predictions/demand_store}). */
  static final StructType STORE_FORECASTS =
      new StructType()
          .add("score_date", DataTypes.DateType)
          .add("store", DataTypes.IntegerType)
          .add("target_date", DataTypes.DateType)
          .add("horizon_days", DataTypes.IntegerType)
          .add("items_base_total", DataTypes.DoubleType)
          .add("items_base_variance", DataTypes.DoubleType)
          .add("store_base", DataTypes.DoubleType)
          .add("store_base_variance", DataTypes.DoubleType)
          .add("reconciled_total", DataTypes.DoubleType)
          .add("reconciled", DataTypes.BooleanType)
          .add("model_version", DataTypes.StringType);

  /**
   * SHAP contributions kept per prediction on each side: the five largest raising it and the five largest lowering it,
   * largest absolute first (so a risk's reasons are there even when the five largest overall lower it).
   */
  static final int TOP_CONTRIBUTIONS = 5;

  /** The standard normal 90th percentile: (P90 - P10) spans 2 * Z90 standard deviations. */
  public static final double Z90 = new NormalDistribution().inverseCumulativeProbability(0.9);

  private BatchScorer() {}

  /**
   * The forecast's standard deviation per row. Counts are heteroscedastic, so the validation residual std (measured
   * at the mean label) is scaled quasi-Poisson style: variance proportional to the forecast level. Null for
   * classifiers.
   */
  static Column predictionStd(ModelMetadata meta, Column prediction) {
    double residualStd = meta.residualStd();
    if (Double.isNaN(residualStd)) {
      return lit(null).cast("double");
    }
    Double meanLabel = meta.metrics().get("valid_mean_label");
    if (meanLabel == null || !(meanLabel > 0)) {
      return lit(residualStd);
    }
    return lit(residualStd).multiply(org.apache.spark.sql.functions.sqrt(prediction.divide(meanLabel)));
  }

  /**
   * The quantile-{@code level} forecast: {@link ForecastQuantiles}' calibrated offset {@code r_q} in units of
   * {@code sqrt(max(forecast, 1))}, added to the forecast and clipped at 0. Beyond the first week the spread around the
   * median widens ({@link RecursiveForecast#widening}: 1 in the first week): {@code forecast + (r_50 + (r_q - r_50) x
   * widening) x sqrt(max(forecast, 1))}. The median's own offset {@code r_50} is the model's bias, not a spread, and
   * does not grow with the horizon. Null when the model carries no calibration.
   */
  static Column quantile(ModelMetadata meta, double level, Column prediction, Column widening) {
    Double offset = meta.metrics().get(ForecastQuantiles.metric(level));
    if (offset == null || offset.isNaN()) {
      return lit(null).cast("double");
    }
    Double median = meta.metrics().get(ForecastQuantiles.metric(0.5));
    double center = median == null || median.isNaN() ? 0.0 : median;
    Column scale = ForecastQuantiles.scale(prediction);
    Column standardUnits = lit(center).plus(lit(offset - center).multiply(widening));
    return greatest(lit(0.0), prediction.plus(standardUnits.multiply(scale)));
  }

  /**
   * The forecast's standard deviation from its calibrated P10-P90 spread, {@code (r_90 - r_10) x widening x
   * sqrt(max(forecast, 1)) / (2 x Z90)}: the spread of {@link #quantile} before the quantiles are clipped at 0 (a slow
   * mover's P10 is, and the clipped spread would understate its variance). Null when the model carries no calibration.
   */
  static Column quantileStd(ModelMetadata meta, Column prediction, Column widening) {
    Double low = meta.metrics().get(ForecastQuantiles.metric(ForecastQuantiles.LEVELS.get(0)));
    Double high =
        meta.metrics().get(ForecastQuantiles.metric(ForecastQuantiles.LEVELS.get(ForecastQuantiles.LEVELS.size() - 1)));
    if (low == null || high == null || low.isNaN() || high.isNaN()) {
      return lit(null).cast("double");
    }
    return lit((high - low) / (2 * Z90)).multiply(widening).multiply(ForecastQuantiles.scale(prediction));
  }

  /** The code version of a build that knows no git commit (see the jobs' code version). */
  public static final String UNKNOWN_CODE = "dev";

  /**
   * The manifest row of a scored night: which model version scored which data, and how. The table ids
   * ({@link DeltaTables#tableId}) are null where the manifest predates them (not checked then).
   */
  public record Manifest(
      String modelName, String modelVersion, long featureTableVersion, ScoringOptions options, Long pricePlanVersion,
      String featureTableId, String pricePlanTableId, String codeVersion) {
    public Manifest(String modelName, String modelVersion, long featureTableVersion) {
      this(modelName, modelVersion, featureTableVersion, ScoringOptions.DEFAULT, null);
    }

    public Manifest(
        String modelName, String modelVersion, long featureTableVersion, ScoringOptions options, Long pricePlanVersion) {
      this(modelName, modelVersion, featureTableVersion, options, pricePlanVersion, null, null, null);
    }

    /**
     * What a replay that runs {@code current} should say about the code: null when the night was scored with the
     * same known code version (or its manifest names none), else a note naming both versions. {@code dev}, the
     * version of a build that knows no git commit, says nothing about the code, so two of them get a note too.
     */
    public String codeChange(String current) {
      if (codeVersion == null || codeVersion.equals(current) && !UNKNOWN_CODE.equals(current)) {
        return null;
      }
      return codeVersion.equals(current)
          ? "the night was scored and replayed by builds that record no git commit (code version " + current
              + "), so a change of the scoring code between them cannot be ruled out"
          : "the night was scored with code version " + codeVersion + " and replayed with " + current
              + ": rows may differ where the scoring code changed between them";
    }
  }

  /** The manifest of {@code date}, to replay that night exactly. */
  public static Manifest manifest(SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate date) {
    return manifest(spark, warehouse, useCase.id(), date);
  }

  /**
   * The manifest of {@code date} recorded under {@code key}: a built-in use case's id, or the model name of a model
   * trained on a declared view ({@link ViewScorer}).
   */
  public static Manifest manifest(SparkSession spark, Warehouse warehouse, String key, LocalDate date) {
    String fix = "score the night first; only scored nights can be replayed";
    DeltaTables.requireTable(spark, warehouse.monitoring("scoring_manifest"), "monitoring/scoring_manifest", fix);
    return recorded(spark, warehouse, key, date)
        .orElseThrow(() -> Errors.emptyPartition("monitoring/scoring_manifest", key + " night " + date, fix));
  }

  /**
   * The manifest of {@code date} in {@code monitoring/scoring_manifest}, which must exist; empty when the night has
   * none (never scored, or its scoring died before the manifest, its last write).
   */
  public static Optional<Manifest> recorded(SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate date) {
    return recorded(spark, warehouse, useCase.id(), date);
  }

  /** As {@link #recorded(SparkSession, Warehouse, UseCase, LocalDate)}, for the nights recorded under {@code key}. */
  public static Optional<Manifest> recorded(SparkSession spark, Warehouse warehouse, String key, LocalDate date) {
    List<Row> rows =
        spark.read().format("delta").load(warehouse.monitoring("scoring_manifest"))
            .where(col("use_case").equalTo(key).and(col("score_date").equalTo(lit(Date.valueOf(date)))))
            .collectAsList();
    if (rows.isEmpty()) {
      return Optional.empty();
    }
    Row r = rows.get(0);
    Set<String> fields = new HashSet<>(Arrays.asList(r.schema().fieldNames()));
    ScoringOptions options = ScoringOptions.DEFAULT;
    if (fields.contains("horizon_days") && !r.isNullAt(r.fieldIndex("horizon_days"))) { // older manifests: defaults
      options =
          new ScoringOptions(
              r.<Integer>getAs("horizon_days"),
              ScoringOptions.Reconciliation.parse("reconciliation in the manifest", r.getAs("reconciliation")));
    }
    return Optional.of(new Manifest(
        r.getAs("model_name"), r.getAs("model_version"), r.<Long>getAs("feature_table_version"), options,
        optional(r, "price_plan_version"), optional(r, "feature_table_id"), optional(r, "price_plan_table_id"),
        optional(r, "code_version")));
  }

  /** A manifest column that older manifests lack (or hold null in): null then. */
  private static <T> T optional(Row r, String field) {
    return Arrays.asList(r.schema().fieldNames()).contains(field) && !r.isNullAt(r.fieldIndex(field))
        ? r.getAs(field)
        : null;
  }

  /** What one scoring run wrote. */
  public record Result(
      UseCase useCase, LocalDate date, String table, long rows, long featureTableVersion, String modelVersion,
      ScoringOptions options) {}

  public static Result score(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion) {
    return run(spark, warehouse, model, date, codeVersion, ScoringOptions.DEFAULT, null, null, null, null);
  }

  /** Scores with {@code options} (horizon, reconciliation; demand only) on the latest feature table version. */
  public static Result score(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion,
      ScoringOptions options) {
    return run(spark, warehouse, model, date, codeVersion, options, null, null, null, null);
  }

  /**
   * Scores with the feature table at {@code featureVersion} (Delta time travel), or at its latest version when null,
   * with the default options. The version is pinned before reading, so the manifest names exactly the data that was
   * scored.
   */
  public static Result score(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion,
      Long featureVersion) {
    return run(spark, warehouse, model, date, codeVersion, ScoringOptions.DEFAULT, featureVersion, null, null, null);
  }

  /**
   * Re-scores a night exactly as its manifest says: the same feature-table version, horizon, reconciliation and (for
   * recursive horizons) the price-plan snapshot the night used, whatever changed in the raw data since.
   * {@code model} must be the manifest's model version.
   */
  public static Result replay(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion, Manifest m) {
    return prepareReplay(spark, warehouse, model, date, codeVersion, m).write();
  }

  private static void requireReplayable(LocalDate date, Manifest m) {
    if (m.options().horizonDays() > DemandFeatures.HORIZON_DAYS && m.pricePlanVersion() == null) {
      throw Errors.invalidOption(
          "--replay", date.toString(),
          "the manifest of " + date + " has a " + m.options().horizonDays() + "-day horizon but no price-plan snapshot;"
              + " score the night again without --replay");
    }
  }

  private static Result run(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion,
      ScoringOptions options, Long featureVersion, String featureId, Long planVersion, String planId) {
    return prepare(spark, warehouse, model, date, codeVersion, options, featureVersion, featureId, planVersion, planId)
        .write();
  }

  /**
   * As {@link #score(SparkSession, Warehouse, LoadedModel, LocalDate, String, ScoringOptions)}, in two steps: every
   * input is checked (and a recursive forecast computed) now, the night is written by {@link Prepared#write}.
   */
  public static Prepared<Result> prepare(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion,
      ScoringOptions options) {
    return prepare(spark, warehouse, model, date, codeVersion, options, null, null, null, null);
  }

  /** As {@link #replay}, in two steps: every input is checked now, the night is written by {@link Prepared#write}. */
  public static Prepared<Result> prepareReplay(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion, Manifest m) {
    requireReplayable(date, m);
    return prepare(
        spark, warehouse, model, date, codeVersion, m.options(), m.featureTableVersion(), m.featureTableId(),
        m.pricePlanVersion(), m.pricePlanTableId());
  }

  private static Prepared<Result> prepare(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion,
      ScoringOptions options, Long featureVersion, String featureId, Long planVersion, String planId) {
    ModelMetadata meta = model.metadata();
    UseCase useCase = UseCase.parseSelection("model use case", meta.useCase()).get(0);
    boolean demand = useCase == UseCase.DEMAND;
    if (!demand && !options.isDefault()) {
      throw Errors.invalidOption(
          "--horizon-days/--reconcile", options.horizonDays() + "/" + options.reconciliation().id(),
          "they apply to demand forecasts only; score " + model.version().name() + " without them");
    }
    FeatureView view = QualityGate.view(useCase);
    String featurePath = warehouse.features(useCase);
    DeltaTables.requireTable(
        spark, featurePath, view.name(), "run 'nightshift features build --as-of " + date + "' first");
    long tableVersion = featureVersion != null ? featureVersion : DeltaTables.version(spark, featurePath);
    Dataset<Row> table = DeltaTables.readVersion(spark, featurePath, view.name(), tableVersion, featureId,
        featureVersion != null ? REPLAY_FIX : "run 'nightshift features build --as-of " + date + "' again");
    Set<String> present = new HashSet<>(Arrays.asList(table.columns()));
    List<String> missing = meta.features().stream().filter(f -> !present.contains(f)).toList();
    if (!missing.isEmpty()) {
      throw Errors.modelSchemaMismatch(model.version().name() + "/" + model.version().version(), view.name(), missing);
    }

    List<Column> cols = new ArrayList<>();
    for (String k : meta.keys()) {
      cols.add(col(k));
    }
    cols.add(col(meta.dateColumn()).as("target_date"));
    for (String f : meta.features()) {
      cols.add(col(f).cast("double"));
    }
    Column rowsToScore = QualityGate.scoringRows(view, date);
    if (demand && options.horizonDays() < DemandFeatures.HORIZON_DAYS) {
      rowsToScore = rowsToScore.and(col(meta.dateColumn()).leq(lit(Date.valueOf(date.plusDays(options.horizonDays())))));
    }
    Dataset<Row> input = table.where(rowsToScore).select(cols.toArray(new Column[0]));
    String build = "run 'nightshift features build --as-of " + date + "' (the date must be inside the raw data)";
    Row last = input.agg(max(col("target_date"))).head();
    if (last.isNullAt(0)) {
      throw Errors.emptyPartition(view.name(), demand ? "forecast dates after " + date : "date " + date, build);
    }
    if (demand) {
      // a table built as of an earlier night holds only the first forecast days of this one: scoring it would write
      // a night with horizons missing (and a manifest claiming them all)
      LocalDate through = date.plusDays(Math.min(options.horizonDays(), DemandFeatures.HORIZON_DAYS));
      LocalDate have = last.getDate(0).toLocalDate();
      if (have.isBefore(through)) {
        throw Errors.emptyPartition(
            view.name(),
            "forecast dates " + have.plusDays(1) + " to " + through + " (it has rows for " + date.plusDays(1) + " to "
                + have + " only, so it was built as of an earlier date than " + date + ")",
            build);
      }
    }

    boolean explain = useCase == UseCase.MAINTENANCE; // work orders carry their reasons
    Dataset<Row> predicted =
        explain
            ? NativePredictor.predictWithContributions(
                input, meta.keys().size() + 1, meta.features(), model.booster(), TOP_CONTRIBUTIONS)
            : NativePredictor.predict(input, meta.keys().size() + 1, meta.features().size(), model.booster());

    List<String> order = new ArrayList<>(meta.keys());
    order.add("target_date");
    Dataset<Row> rows;
    Dataset<Row> storeTotals = null;
    Dataset<Row> planSnapshot = null;
    if (demand) {
      Forecast f = demandForecast(
          spark, warehouse, model, date, options, table, view.name(), tableVersion,
          input.select(SparkColumns.cols(meta.keys())).distinct(), predicted, planVersion, planId);
      rows = f.rows().orderBy(SparkColumns.cols(order));
      storeTotals = f.storeTotals();
      planSnapshot = f.plan();
    } else {
      List<Column> out = new ArrayList<>();
      out.add(lit(Date.valueOf(date)).as("score_date"));
      out.addAll(Arrays.asList(SparkColumns.cols(meta.keys())));
      out.add(col("target_date"));
      out.add(datediff(col("target_date"), lit(Date.valueOf(date))).as("horizon_days"));
      out.add(col("prediction"));
      out.add(predictionStd(meta, col("prediction")).as("prediction_std"));
      for (double level : ForecastQuantiles.LEVELS) { // null for classifiers
        out.add(ForecastQuantiles.forecast(meta.metrics(), level, col("prediction")).as("forecast_" + ForecastQuantiles.suffix(level)));
      }
      out.addAll(lineage(model, tableVersion));
      out.add(col("margin"));
      out.add(col("bias"));
      out.add(col("contributions"));
      rows = predicted.select(out.toArray(new Column[0])).orderBy(SparkColumns.cols(order));
    }

    // everything is validated; written when asked
    Dataset<Row> scored = rows;
    Dataset<Row> totals = storeTotals;
    Dataset<Row> planRows = planSnapshot;
    return () -> write(spark, warehouse, model, date, codeVersion, options, useCase, featurePath, tableVersion,
        scored, totals, planRows, planVersion);
  }

  private static Result write(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion,
      ScoringOptions options, UseCase useCase, String featurePath, long tableVersion, Dataset<Row> rows,
      Dataset<Row> storeTotals, Dataset<Row> planSnapshot, Long planVersion) {
    boolean demand = useCase == UseCase.DEMAND;
    Long planUsed = planVersion;
    String snapshot = warehouse.monitoring(PRICE_PLAN_SNAPSHOT);
    if (planSnapshot != null && planVersion == null) {
      DeltaTables.replacePartition(planSnapshot.withColumn("score_date", lit(Date.valueOf(date))), snapshot,
          "score_date", date.toString());
      planUsed = DeltaTables.version(spark, snapshot);
    }
    String featureIdUsed = DeltaTables.tableId(spark, featurePath, tableVersion);
    String planIdUsed = planUsed != null ? DeltaTables.tableId(spark, snapshot, planUsed) : null;
    String path = warehouse.predictions(useCase);
    DeltaTables.replacePartition(rows, path, "score_date", date.toString());
    if (demand) {
      writeStoreTotals(spark, warehouse, date, storeTotals);
    }
    long written =
        spark.read().format("delta").load(path).where(col("score_date").equalTo(lit(Date.valueOf(date)))).count();
    Row manifest =
        RowFactory.create(
            useCase.id(), Date.valueOf(date), model.version().name(), model.version().version(),
            model.version().runId(), featurePath, tableVersion, written, codeVersion,
            demand ? options.horizonDays() : null, demand ? options.strategy() : null,
            demand ? options.reconciliation().id() : null, planUsed, featureIdUsed, planIdUsed);
    DeltaTables.replaceWhere(
        spark.createDataFrame(List.of(manifest), MANIFEST),
        warehouse.monitoring("scoring_manifest"),
        "use_case = '" + useCase.id() + "' AND score_date = '" + date + "'",
        "use_case");
    LOG.info(
        "Scored {} rows for {} with {} version {} (feature table version {}{}) into {}",
        written, date, model.version().name(), model.version().version(), tableVersion,
        demand ? "; " + options.describe() : "", path);
    return new Result(useCase, date, path, written, tableVersion, model.version().version(), options);
  }

  private static List<Column> lineage(LoadedModel model, long tableVersion) {
    return List.of(
        lit(model.version().name()).as("model_name"),
        lit(model.version().version()).as("model_version"),
        lit(model.version().runId()).as("model_run_id"),
        lit(tableVersion).as("feature_table_version"));
  }

  /** A demand night's prediction rows, its store totals (reconciled nights) and the plan snapshot to store. */
  private record Forecast(Dataset<Row> rows, Dataset<Row> storeTotals, Dataset<Row> plan) {}

  private static Forecast demandForecast(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, ScoringOptions options,
      Dataset<Row> table, String tableName, long tableVersion, Dataset<Row> series, Dataset<Row> block1,
      Long planVersion, String planId) {
    ModelMetadata meta = model.metadata();
    List<Column> keyCols = new ArrayList<>(Arrays.asList(SparkColumns.cols(meta.keys())));
    keyCols.add(col("target_date"));
    List<Column> baseCols = new ArrayList<>(keyCols);
    baseCols.add(greatest(col("prediction"), lit(0.0)).as("prediction_base"));
    Dataset<Row> base = block1.select(baseCols.toArray(new Column[0]));

    Dataset<Row> plan = null;
    if (options.horizonDays() > DemandFeatures.HORIZON_DAYS) {
      Dataset<Row> future;
      String planName;
      String planPath;
      if (planVersion == null) {
        future = RecursiveForecast.futurePlan(spark, warehouse, date, options.horizonDays());
        planName = "raw/price_plan";
        planPath = warehouse.rawPricePlan();
      } else {
        future = planSnapshot(spark, warehouse, date, planVersion, planId);
        planName = "monitoring/" + PRICE_PLAN_SNAPSHOT + " (version " + planVersion + ")";
        planPath = warehouse.monitoring(PRICE_PLAN_SNAPSHOT);
      }
      Dataset<Row> inputs = RecursiveForecast.inputs(table, future, date);
      RecursiveForecast.validate(inputs, tableName, series, date, options.horizonDays(), planName, planPath);
      base = base.localCheckpoint();
      base = base.unionByName(
          RecursiveForecast.extend(spark, inputs, meta, model.booster(), date, options.horizonDays(), base));
      plan = RecursiveForecast.plan(inputs, date);
    }

    Column horizon = datediff(col("target_date"), lit(Date.valueOf(date)));
    Column widening = RecursiveForecast.widening(col("horizon_days"));
    Dataset<Row> withHorizon = base.withColumn("horizon_days", horizon);
    boolean reconcile = options.reconciliation() == ScoringOptions.Reconciliation.STORE;
    Dataset<Row> forecast;
    if (reconcile) {
      // the base forecasts' variances from their quantile spread (the std, or Poisson, where there is none)
      Column pb = col("prediction_base");
      Column std = org.apache.spark.sql.functions.coalesce(
          quantileStd(meta, pb, widening), predictionStd(meta, pb).multiply(widening),
          ForecastQuantiles.scale(pb));
      Dataset<Row> items = withHorizon.withColumn("base_variance", std.multiply(std));
      Dataset<Row> storeBase =
          StoreReconciliation.storeBase(spark, table, tableName, date, options.horizonDays());
      forecast = StoreReconciliation.apply(items, storeBase).localCheckpoint();
    } else {
      forecast = withHorizon.withColumn("prediction", col("prediction_base"));
    }

    List<Column> out = new ArrayList<>();
    out.add(lit(Date.valueOf(date)).as("score_date"));
    out.addAll(keyCols);
    out.add(col("horizon_days"));
    out.add(col("prediction"));
    out.add(col("prediction_base"));
    out.add(predictionStd(meta, col("prediction")).multiply(widening).as("prediction_std"));
    for (double level : ForecastQuantiles.LEVELS) { // forecast_p10, forecast_p50, forecast_p90
      out.add(quantile(meta, level, col("prediction"), widening).as("forecast_" + ForecastQuantiles.suffix(level)));
    }
    // the std of the calibrated P10-P90 spread before the quantiles are clipped at 0 (replenishment's safety stock)
    out.add(quantileStd(meta, col("prediction"), widening).as("forecast_std"));
    out.addAll(lineage(model, tableVersion));
    Dataset<Row> rows = forecast.select(out.toArray(new Column[0]));

    Dataset<Row> storeTotals = null;
    if (reconcile) {
      storeTotals =
          forecast.groupBy("store", "target_date", "horizon_days")
              .agg(
                  max("items_base_total").as("items_base_total"),
                  max("items_base_variance").as("items_base_variance"),
                  max("store_base").as("store_base"),
                  max("store_base_variance").as("store_base_variance"),
                  max("reconciled_total").as("reconciled_total"))
              .select(
                  lit(Date.valueOf(date)).as("score_date"), col("store"), col("target_date"), col("horizon_days"),
                  col("items_base_total"), col("items_base_variance"), col("store_base"), col("store_base_variance"),
                  col("reconciled_total"), col("store_base").isNotNull().as("reconciled"),
                  lit(model.version().version()).as("model_version"))
              .orderBy("store", "target_date");
    }
    return new Forecast(rows, storeTotals, plan);
  }

  /**
   * The plan rows a recursive night used, from its snapshot at {@code version} of the table {@code tableId} (null: not
   * recorded).
   */
  private static Dataset<Row> planSnapshot(
      SparkSession spark, Warehouse warehouse, LocalDate date, long version, String tableId) {
    String path = warehouse.monitoring(PRICE_PLAN_SNAPSHOT);
    String name = "monitoring/" + PRICE_PLAN_SNAPSHOT;
    if (!DeltaTables.exists(spark, path)) {
      throw Errors.missingTable(name, path, "score the night of " + date + " again without --replay");
    }
    Dataset<Row> snapshot = DeltaTables.readVersion(spark, path, name, version, tableId, REPLAY_FIX);
    return snapshot.where(col("score_date").equalTo(lit(Date.valueOf(date))))
        .select("store", "item", "date", "price", "on_promo");
  }

  /**
   * Replaces the night's store totals in {@code predictions/demand_store}: the reconciled totals, or none (a night
   * scored again without reconciliation must not keep its earlier totals).
   */
  private static void writeStoreTotals(SparkSession spark, Warehouse warehouse, LocalDate date, Dataset<Row> totals) {
    String path = warehouse.path("predictions/demand_store");
    if (totals != null) {
      DeltaTables.replacePartition(totals, path, "score_date", date.toString());
    } else if (DeltaTables.exists(spark, path)) {
      DeltaTables.replacePartition(
          spark.createDataFrame(List.<Row>of(), STORE_FORECASTS), path, "score_date", date.toString());
    }
  }
}
