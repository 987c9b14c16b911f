package io.nightshift.scoring;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.make_dt_interval;
import static org.apache.spark.sql.functions.max;

import io.nightshift.core.Errors;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.SparkColumns;
import io.nightshift.featurestore.views.ViewRegistry;
import io.nightshift.training.model.LoadedModel;
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
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores a model trained on a feature view declared in YAML ({@code conf/features/NAME.yaml}, table
 * {@code features/NAME}): each entity's current row, that is its row at the scoring date for a date event time, or
 * its latest event time (e.g. an engine's last recorded cycle) for an integer one. No row of an integer-time view
 * names its night, so a night reads the table version built for it ({@link ViewRegistry#versionFor}): a backfill of a
 * past night scores the latest cycles of the table as it was built for that night, not as it is now (such a build
 * reads its whole source, whatever its as-of date). Predictions replace the
 * {@code score_date} partition of {@code predictions/<model name>} in one transaction and the run's manifest row goes
 * to {@code monitoring/scoring_manifest} (keyed by the model name), so a night re-scored with the same model and
 * feature-table version gives the same rows. Remaining-useful-life models also get the predicted end of life
 * ({@code event time + predicted life}), and never a negative life, plus the raw {@code margin} (the prediction
 * before that clamp), the {@code bias} and the SHAP {@code contributions} of the five features lengthening and the
 * five shortening the predicted life most: the contributions of all features plus the bias sum to the margin.
 */
public final class ViewScorer {
  private static final Logger LOG = LoggerFactory.getLogger(ViewScorer.class);

  /** SHAP contributions kept per remaining-life prediction on each side (largest absolute first). */
  static final int TOP_CONTRIBUTIONS = 5;

  private ViewScorer() {}

  /** Whether {@code meta} belongs to a model trained on a declared view (built-in views are named features/...). */
  public static boolean handles(ModelMetadata meta) {
    return !meta.featureView().contains("/");
  }

  /** What one scoring run wrote. */
  public record Result(String model, String modelVersion, LocalDate date, String table, long rows, long featureTableVersion) {}

  /**
   * When the asset reaches the end of its predicted remaining life {@code rul}, in its view's time unit: the event
   * time plus the remaining life. For a view dated by day that is a date ({@code time} plus the whole days of life
   * left); for a timestamp, a timestamp ({@code rul} in days); for a numeric time such as a cycle count, a double.
   */
  static Column endOfLife(Column time, DataType type, Column rul) {
    if (type.equals(DataTypes.DateType)) {
      return date_add(time, floor(rul).cast("int"));
    }
    if (type.equals(DataTypes.TimestampType) || type.equals(DataTypes.TimestampNTZType)) {
      return time.plus(make_dt_interval(lit(0), lit(0), lit(0), rul.multiply(86400).cast("decimal(18,6)")));
    }
    if (type instanceof NumericType) {
      return time.cast("double").plus(rul);
    }
    throw new IllegalArgumentException("Event time column of type " + type.simpleString() + " has no end of life");
  }

  /** Scores with the feature table at {@code featureVersion}, or its latest version when null. */
  public static Result score(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion, Long featureVersion) {
    return score(spark, warehouse, model, date, codeVersion, featureVersion, null,
        "read a version the table still has, or rebuild the table");
  }

  /**
   * Scores {@code date} again exactly as its manifest {@code m} recorded it: {@code model} must be the version the
   * manifest names, and the feature table is read at the recorded version, checked to be the same table (its Delta id);
   * a version that cannot be read as it was is an input error naming it, and nothing is written.
   */
  public static Result replay(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion,
      BatchScorer.Manifest m) {
    if (!m.modelName().equals(model.version().name()) || !m.modelVersion().equals(model.version().version())) {
      throw new IllegalArgumentException("The manifest of " + date + " names " + m.modelName() + " version "
          + m.modelVersion() + ", not " + model.version().name() + " version " + model.version().version());
    }
    return score(spark, warehouse, model, date, codeVersion, m.featureTableVersion(), m.featureTableId(),
        BatchScorer.REPLAY_FIX);
  }

  private static Result score(
      SparkSession spark, Warehouse warehouse, LoadedModel model, LocalDate date, String codeVersion, Long featureVersion,
      String featureTableId, String versionFix) {
    ModelMetadata meta = model.metadata();
    String view = meta.featureView();
    String featurePath = warehouse.featureView(view);
    String build = "run 'nightshift features build --view conf/features/" + view + ".yaml --as-of " + date + "' first";
    DeltaTables.requireTable(spark, featurePath, "features/" + view, build);
    long tableVersion = featureVersion != null ? featureVersion : DeltaTables.version(spark, featurePath);
    Dataset<Row> table =
        DeltaTables.readVersion(spark, featurePath, "features/" + view, tableVersion, featureTableId, versionFix);
    String time = meta.dateColumn();
    DataType timeType = table.schema().apply(time).dataType();
    boolean dated = timeType.equals(DataTypes.DateType);
    if (!dated && featureVersion == null) {
      // no row names its night: a past night reads the version built for it, so re-scoring it gives the same rows
      java.util.OptionalLong asOf = ViewRegistry.versionFor(spark, warehouse, view, featurePath, date);
      if (asOf.isPresent() && asOf.getAsLong() != tableVersion) {
        tableVersion = asOf.getAsLong();
        table = DeltaTables.readVersion(spark, featurePath, "features/" + view, tableVersion, null,
            "build the view for that night again (nightshift features build --view conf/features/" + view
                + ".yaml --as-of " + date + "), which this night then reads, and score again");
      }
    }
    Set<String> present = new HashSet<>(Arrays.asList(table.columns()));
    List<String> missing = meta.features().stream().filter(f -> !present.contains(f)).toList();
    if (!missing.isEmpty()) {
      throw Errors.modelSchemaMismatch(model.version().name() + "/" + model.version().version(), "features/" + view, missing);
    }
    Dataset<Row> current;
    String what;
    if (dated) {
      current = table.where(col(time).equalTo(lit(Date.valueOf(date))));
      what = "date " + date;
    } else {
      Dataset<Row> latest = table.groupBy(SparkColumns.cols(meta.keys())).agg(max(col(time)).as("nightshift_latest"));
      current = table.join(latest, SparkColumns.seq(meta.keys().toArray(new String[0])))
          .where(col(time).equalTo(col("nightshift_latest")));
      what = "the latest " + time + " of each " + String.join(", ", meta.keys());
    }
    List<Column> cols = new ArrayList<>(Arrays.asList(SparkColumns.cols(meta.keys())));
    cols.add(col(time));
    meta.features().forEach(f -> cols.add(col(f).cast("double")));
    Dataset<Row> input = current.select(cols.toArray(new Column[0]));
    if (input.isEmpty()) {
      throw Errors.emptyPartition("features/" + view, what, dated
          ? "build the view through " + date + " (nightshift features build --view conf/features/" + view + ".yaml --as-of "
              + date + ") or pick a date inside its data"
          : "build the view (nightshift features build --view conf/features/" + view + ".yaml)");
    }
    boolean rul = "RUL_REGRESSION".equals(meta.task());
    // remaining-life work orders carry their reasons: the features shortening each predicted life most
    Dataset<Row> predicted =
        rul
            ? NativePredictor.predictWithContributions(
                input, meta.keys().size() + 1, meta.features(), model.booster(), TOP_CONTRIBUTIONS)
            : NativePredictor.predict(input, meta.keys().size() + 1, meta.features().size(), model.booster());
    Column prediction = rul ? org.apache.spark.sql.functions.greatest(col("prediction"), lit(0.0)) : col("prediction");
    List<Column> out = new ArrayList<>();
    out.add(lit(Date.valueOf(date)).as("score_date"));
    out.addAll(Arrays.asList(SparkColumns.cols(meta.keys())));
    out.add(col(time));
    out.add(prediction.as("prediction"));
    if (rul) {
      out.add(endOfLife(col(time), timeType, prediction).as("predicted_end_of_life"));
    }
    out.add(lit(model.version().name()).as("model_name"));
    out.add(lit(model.version().version()).as("model_version"));
    out.add(lit(model.version().runId()).as("model_run_id"));
    out.add(lit(tableVersion).as("feature_table_version"));
    if (rul) {
      out.add(col("margin"));
      out.add(col("bias"));
      out.add(col("contributions"));
    }
    List<String> order = new ArrayList<>(meta.keys());
    Dataset<Row> rows = predicted.select(out.toArray(new Column[0])).orderBy(SparkColumns.cols(order));

    String path = warehouse.path("predictions/" + model.version().name());
    DeltaTables.replacePartition(rows, path, "score_date", date.toString());
    long written = spark.read().format("delta").load(path).where(col("score_date").equalTo(lit(Date.valueOf(date)))).count();
    Row manifest =
        RowFactory.create(
            model.version().name(), Date.valueOf(date), model.version().name(), model.version().version(),
            model.version().runId(), featurePath, tableVersion, written, codeVersion, null, "current_rows", null, null,
            DeltaTables.tableId(spark, featurePath, tableVersion), null);
    DeltaTables.replaceWhere(
        spark.createDataFrame(List.of(manifest), BatchScorer.MANIFEST),
        warehouse.monitoring("scoring_manifest"),
        "use_case = '" + model.version().name().replace("'", "''") + "' AND score_date = '" + date + "'",
        "use_case");
    LOG.info("Scored {} rows ({}) for {} with {} version {} (features/{} version {}) into {}", written, what, date,
        model.version().name(), model.version().version(), view, tableVersion, path);
    return new Result(model.version().name(), model.version().version(), date, path, written, tableVersion);
  }
}
