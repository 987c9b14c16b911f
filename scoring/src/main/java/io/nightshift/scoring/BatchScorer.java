package io.nightshift.scoring;

import io.nightshift.training.model.LoadedModel;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.lit;

import io.nightshift.core.Errors;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.SparkColumns;
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
import java.util.Set;
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
 * Nightly batch scoring: reads the feature rows a night as of {@code date} scores (the next seven days for demand,
 * the day itself for machines), predicts with the registered booster (demand also gets calibrated P10/P50/P90
 * quantile forecasts, see {@link ForecastQuantiles}), and replaces the {@code score_date} partition
 * of the predictions table in one transaction. Each row records the model name, version and run, and the feature
 * table version, and each run appends its manifest (replacing an earlier one for the same date) to
 * {@code monitoring/scoring_manifest}. Re-running a date gives the same partition.
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
          .add("code_version", DataTypes.StringType);

  /** Features whose SHAP contributions are kept per prediction (largest absolute first). */
  static final int TOP_CONTRIBUTIONS = 5;

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

  /** The manifest row of a scored night: which model version scored which feature-table version. */
  public record Manifest(String modelName, String modelVersion, long featureTableVersion) {}

  /** The manifest of {@code date}, to replay that night exactly. */
  public static Manifest manifest(SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate date) {
    String fix = "score the night first; only scored nights can be replayed";
    List<Row> rows =
        DeltaTables.read(spark, warehouse.monitoring("scoring_manifest"), "monitoring/scoring_manifest", fix)
            .where(col("use_case").equalTo(useCase.id()).and(col("score_date").equalTo(lit(Date.valueOf(date)))))
            .collectAsList();
    if (rows.isEmpty()) {
      throw Errors.emptyPartition("monitoring/scoring_manifest", useCase.id() + " night " + date, fix);
    }
    Row r = rows.get(0);
    return new Manifest(r.getAs("model_name"), r.getAs("model_version"), r.<Long>getAs("feature_table_version"));
  }

  /** What one scoring run wrote. */
  public record Result(UseCase useCase, LocalDate date, String table, long rows, long featureTableVersion, String modelVersion) {}

  public static Result score(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion) {
    return score(spark, warehouse, model, date, codeVersion, null);
  }

  /**
   * Scores with the feature table at {@code featureVersion} (Delta time travel), or at its latest version when null.
   * The version is pinned before reading, so the manifest names exactly the data that was scored.
   */
  public static Result score(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion,
      Long featureVersion) {
    ModelMetadata meta = model.metadata();
    UseCase useCase = UseCase.parseSelection("model use case", meta.useCase()).get(0);
    FeatureView view = QualityGate.view(useCase);
    String featurePath = warehouse.features(useCase);
    DeltaTables.read(spark, featurePath, view.name(), "run 'nightshift features build --as-of " + date + "' first");
    long tableVersion = featureVersion != null ? featureVersion : DeltaTables.version(spark, featurePath);
    Dataset<Row> table = DeltaTables.readVersion(spark, featurePath, view.name(), tableVersion);
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
    Dataset<Row> input = table.where(QualityGate.scoringRows(view, date)).select(cols.toArray(new Column[0]));
    if (input.isEmpty()) {
      throw Errors.emptyPartition(
          view.name(),
          useCase == UseCase.DEMAND ? "forecast dates after " + date : "date " + date,
          "run 'nightshift features build --as-of " + date + "' (the date must be inside the raw data)");
    }

    boolean explain = useCase == UseCase.MAINTENANCE; // work orders carry their reasons
    Dataset<Row> predicted =
        explain
            ? NativePredictor.predictWithContributions(
                input, meta.keys().size() + 1, meta.features(), model.booster(), TOP_CONTRIBUTIONS)
            : NativePredictor.predict(input, meta.keys().size() + 1, meta.features().size(), model.booster());

    Column prediction = useCase == UseCase.DEMAND ? org.apache.spark.sql.functions.greatest(col("prediction"), lit(0.0)) : col("prediction");
    List<Column> out = new ArrayList<>();
    out.add(lit(Date.valueOf(date)).as("score_date"));
    out.addAll(Arrays.asList(SparkColumns.cols(meta.keys())));
    out.add(col("target_date"));
    out.add(datediff(col("target_date"), lit(Date.valueOf(date))).as("horizon_days"));
    out.add(prediction.as("prediction"));
    out.add(predictionStd(meta, prediction).as("prediction_std"));
    for (double level : ForecastQuantiles.LEVELS) { // forecast_p10, forecast_p50, forecast_p90 (null for classifiers)
      out.add(ForecastQuantiles.forecast(meta.metrics(), level, prediction).as("forecast_" + ForecastQuantiles.suffix(level)));
    }
    out.add(lit(model.version().name()).as("model_name"));
    out.add(lit(model.version().version()).as("model_version"));
    out.add(lit(model.version().runId()).as("model_run_id"));
    out.add(lit(tableVersion).as("feature_table_version"));
    if (explain) {
      out.add(col("margin"));
      out.add(col("bias"));
      out.add(col("contributions"));
    }
    List<String> order = new ArrayList<>(meta.keys());
    order.add("target_date");
    Dataset<Row> rows = predicted.select(out.toArray(new Column[0])).orderBy(SparkColumns.cols(order));

    String path = warehouse.predictions(useCase);
    DeltaTables.replacePartition(rows, path, "score_date", date.toString());
    long written =
        spark.read().format("delta").load(path).where(col("score_date").equalTo(lit(Date.valueOf(date)))).count();
    Row manifest =
        RowFactory.create(
            useCase.id(), Date.valueOf(date), model.version().name(), model.version().version(),
            model.version().runId(), featurePath, tableVersion, written, codeVersion);
    DeltaTables.replaceWhere(
        spark.createDataFrame(List.of(manifest), MANIFEST),
        warehouse.monitoring("scoring_manifest"),
        "use_case = '" + useCase.id() + "' AND score_date = '" + date + "'",
        "use_case");
    LOG.info(
        "Scored {} rows for {} with {} version {} (feature table version {}) into {}",
        written, date, model.version().name(), model.version().version(), tableVersion, path);
    return new Result(useCase, date, path, written, tableVersion, model.version().version());
  }
}
