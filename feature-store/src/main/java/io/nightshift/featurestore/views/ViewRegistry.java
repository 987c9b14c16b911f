package io.nightshift.featurestore.views;

import static org.apache.spark.sql.functions.col;

import io.nightshift.core.Errors;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.views.ViewDefinition.Format;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The feature store's registry, a Delta table at {@code registry/feature_views} with one row per build of a
 * declared feature view: its definition hash, owner and description, output schema and features, and lineage —
 * the source (format, path, Delta version when the source is a Delta table) and the feature table's Delta version
 * that the build produced. {@link #build} refuses to rebuild a table whose definition changed unless asked to
 * backfill, so a changed view never silently mixes with rows computed by the old definition.
 */
public final class ViewRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(ViewRegistry.class);

  static final StructType SCHEMA =
      new StructType()
          .add("view", DataTypes.StringType, false)
          .add("definition_hash", DataTypes.StringType, false)
          .add("definition_file", DataTypes.StringType, true)
          .add("description", DataTypes.StringType, true)
          .add("owner", DataTypes.StringType, true)
          .add("entities", DataTypes.createArrayType(DataTypes.StringType), false)
          .add("event_time", DataTypes.StringType, false)
          .add("features", DataTypes.createArrayType(DataTypes.StringType), false)
          .add("table_schema", DataTypes.StringType, false)
          .add("source_format", DataTypes.StringType, false)
          .add("source_path", DataTypes.StringType, false)
          .add("source_version", DataTypes.LongType, true)
          .add("table_path", DataTypes.StringType, false)
          .add("table_version", DataTypes.LongType, false)
          .add("as_of", DataTypes.DateType, true)
          .add("rows", DataTypes.LongType, false)
          .add("built_at", DataTypes.TimestampType, false);

  private ViewRegistry() {}

  /** What one build produced. */
  public record Build(String view, String hash, String tablePath, long tableVersion, long rows, Optional<Long> sourceVersion) {}

  /**
   * Computes {@code d} as of {@code asOf}, replaces its Delta table in one commit and records the build. When the
   * table exists and was built from a different definition, refuses (exit code 2) unless {@code backfill}.
   */
  public static Build build(
      SparkSession spark, Warehouse warehouse, ViewDefinition d, String file, Optional<LocalDate> asOf, boolean backfill) {
    String hash = ViewDefinitions.definitionHash(d);
    String table = warehouse.featureView(d.name());
    Optional<String> recorded = latestHash(spark, warehouse, d.name());
    if (recorded.isPresent() && !recorded.get().equals(hash) && DeltaTables.exists(spark, table) && !backfill) {
      throw Errors.invalidDefinition(
          file, "(definition)",
          "feature view " + d.name() + " changed since its table was built (definition hash " + recorded.get() + " -> "
              + hash + "); its rows were computed by the old definition",
          "rebuild the whole table on purpose with 'nightshift features build --view " + file + " --backfill'");
    }
    String sourcePath = ViewMaterializer.sourcePath(d, warehouse.root());
    Optional<Long> sourceVersion =
        d.source().format() == Format.DELTA && DeltaTables.exists(spark, sourcePath)
            ? Optional.of(DeltaTables.version(spark, sourcePath))
            : Optional.empty();
    Dataset<Row> rows = ViewMaterializer.compute(spark, d, warehouse.root(), asOf);
    DeltaTables.overwrite(rows, table);
    long version = DeltaTables.version(spark, table);
    Dataset<Row> written = spark.read().format("delta").option("versionAsOf", version).load(table);
    long count = written.count();
    Row entry =
        RowFactory.create(
            d.name(), hash, file, d.description(), d.owner(),
            d.entities(),
            d.eventTime(),
            d.featureNames(),
            written.schema().json(),
            d.source().format().name().toLowerCase(java.util.Locale.ROOT), sourcePath, sourceVersion.orElse(null),
            table, version, asOf.map(Date::valueOf).orElse(null), count, Timestamp.from(Instant.now()));
    Dataset<Row> row = spark.createDataFrame(List.of(entry), SCHEMA);
    row.write().format("delta").mode("append").save(warehouse.featureRegistry());
    if (recorded.isPresent() && !recorded.get().equals(hash)) {
      LOG.warn("Backfilled feature view {}: definition hash {} -> {}", d.name(), recorded.get(), hash);
    }
    return new Build(d.name(), hash, table, version, count, sourceVersion);
  }

  /** The definition hash of the view's latest recorded build. */
  public static Optional<String> latestHash(SparkSession spark, Warehouse warehouse, String view) {
    if (!DeltaTables.exists(spark, warehouse.featureRegistry())) {
      return Optional.empty();
    }
    List<Row> r =
        spark.read().format("delta").load(warehouse.featureRegistry())
            .where(col("view").equalTo(view))
            .orderBy(col("built_at").desc(), col("table_version").desc())
            .select("definition_hash")
            .limit(1)
            .collectAsList();
    return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0).getString(0));
  }

  /** Every recorded build of a view, oldest first. */
  public static Dataset<Row> history(SparkSession spark, Warehouse warehouse, String view) {
    return spark.read().format("delta").load(warehouse.featureRegistry())
        .where(col("view").equalTo(view))
        .orderBy(col("built_at"), col("table_version"));
  }
}
