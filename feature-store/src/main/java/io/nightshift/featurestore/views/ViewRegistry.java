package io.nightshift.featurestore.views;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

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
          .add("built_from", DataTypes.DateType, true)
          .add("as_of", DataTypes.DateType, true)
          .add("rows", DataTypes.LongType, false)
          .add("built_at", DataTypes.TimestampType, false);

  private ViewRegistry() {}

  /**
   * What one build produced: {@code rows} written by this build (all of the table for a whole build, the days
   * {@code from..to} for an incremental one; 0 when the table was already up to date).
   */
  public record Build(
      String view, String hash, String tablePath, long tableVersion, long rows, Optional<Long> sourceVersion,
      Optional<LocalDate> from, Optional<LocalDate> to) {
    /** "whole table" or the day range, for messages. */
    public String scope() {
      if (from.isEmpty()) {
        return "whole table";
      }
      return from.get().isAfter(to.orElseThrow())
          ? "up to date through " + from.get().minusDays(1)
          : from.get() + ".." + to.get();
    }

    /**
     * The rows this build recomputed, as a predicate on the view's event time column {@code eventTime}: every row
     * after a whole-table build, none when the table was up to date, else the days {@code from..to}; what a
     * quarantine right after it replaces ({@link io.nightshift.featurestore.quality.QualityGate#quarantineView}).
     */
    public Column recomputed(String eventTime) {
      if (from.isEmpty()) {
        return lit(true);
      }
      if (from.get().isAfter(to.orElseThrow())) {
        return lit(false);
      }
      Column day = col(eventTime);
      return day.geq(lit(Date.valueOf(from.get()))).and(day.leq(lit(Date.valueOf(to.get()))));
    }
  }

  /**
   * Computes {@code d} as of {@code asOf}, replaces its Delta table in one commit and records the build. When the
   * table exists and was built from a different definition, refuses (exit code 2) unless {@code backfill}; when the
   * source has no rows through {@code asOf}, refuses (exit code 2) as the built-in views do, writing nothing.
   */
  public static Build build(
      SparkSession spark, Warehouse warehouse, ViewDefinition d, String file, Optional<LocalDate> asOf, boolean backfill) {
    String hash = ViewDefinitions.definitionHash(d);
    String table = warehouse.featureView(d.name());
    Optional<String> recorded = latestHash(spark, warehouse, d.name());
    if (!backfill && DeltaTables.exists(spark, table)) {
      requireSameDefinition(d, file, hash, recorded);
    }
    ViewMaterializer.requireRows(spark, d, file, warehouse.root(), asOf);
    Dataset<Row> rows = ViewMaterializer.compute(spark, d, file, warehouse.root(), asOf);
    Optional<Long> sourceVersion = sourceVersion(spark, d, warehouse);
    Dataset<Row> ordered = rows.repartitionByRange(col(d.eventTime())).sortWithinPartitions(col(d.eventTime()));
    ViewMaterializer.explainingMalformedRows(
        spark, d, file, warehouse.root(), () -> DeltaTables.overwrite(ordered, table));
    if (recorded.isPresent() && !recorded.get().equals(hash)) {
      LOG.warn("Backfilled feature view {}: definition hash {} -> {}", d.name(), recorded.get(), hash);
    }
    return record(spark, warehouse, d, file, hash, rows.schema().json(), sourceVersion, Optional.empty(), asOf);
  }

  /**
   * Builds only the days the table lacks, up to {@code asOf}: from the day after its latest day (a whole build
   * when the table does not exist yet, the view's event time is an integer, or a transformation uses a window
   * function, whose values on new days depend on the whole source). Re-running the same night writes nothing. A
   * changed definition is refused as in {@link #build}.
   */
  public static Build buildMissing(SparkSession spark, Warehouse warehouse, ViewDefinition d, String file, LocalDate asOf) {
    String table = warehouse.featureView(d.name());
    if (d.timeType() != ViewDefinition.TimeType.DATE
        || ViewMaterializer.windowedTransformation(d).isPresent()
        || !DeltaTables.exists(spark, table)) {
      return build(spark, warehouse, d, file, Optional.of(asOf), false);
    }
    requireSameDefinition(spark, warehouse, d, file);
    Object latest =
        spark.read().format("delta").load(table).agg(org.apache.spark.sql.functions.max(d.eventTime())).head().get(0);
    if (latest == null) {
      return build(spark, warehouse, d, file, Optional.of(asOf), false);
    }
    LocalDate from = ((java.sql.Date) latest).toLocalDate().plusDays(1);
    if (from.isAfter(asOf)) {
      String hash = ViewDefinitions.definitionHash(d);
      LOG.info("Feature view {} is up to date through {}: nothing to build", d.name(), from.minusDays(1));
      return new Build(d.name(), hash, table, DeltaTables.version(spark, table), 0L, sourceVersion(spark, d, warehouse),
          Optional.of(from), Optional.of(asOf));
    }
    return writeRange(spark, warehouse, d, file, from, asOf);
  }

  /**
   * Recomputes exactly the days {@code from..to} (e.g. after late data arrived) and replaces them in one Delta
   * transaction; other days are untouched, and a re-run gives the same rows. Reads only the source history the
   * windows need. The definition must be the one the table was built with.
   */
  public static Build buildRange(
      SparkSession spark, Warehouse warehouse, ViewDefinition d, String file, LocalDate from, LocalDate to) {
    if (from.isAfter(to)) {
      throw Errors.invalidOption("--from", from.toString(), "give a --from date on or before --to (" + to + ")");
    }
    requireSameDefinition(spark, warehouse, d, file);
    return writeRange(spark, warehouse, d, file, from, to);
  }

  /**
   * Computes days {@code from..to} and commits them replacing those days ({@code replaceWhere}), also for the new
   * days of a nightly build: an overlapping run of the same night (a retry racing a slow first attempt) reads the same
   * latest day and writes the same days; two blind appends would both commit and store every day twice, while
   * two replacements of the same days conflict in Delta and the retried one replaces the other's rows.
   */
  private static Build writeRange(
      SparkSession spark, Warehouse warehouse, ViewDefinition d, String file, LocalDate from, LocalDate to) {
    String table = warehouse.featureView(d.name());
    Dataset<Row> rows = ViewMaterializer.computeRange(spark, d, file, warehouse.root(), from, to);
    Optional<Long> sourceVersion = sourceVersion(spark, d, warehouse);
    String predicate =
        "`" + d.eventTime() + "` >= DATE'" + from + "' AND `" + d.eventTime() + "` <= DATE'" + to + "'";
    // a few days: hash them into files by day (no sampling pass), so each file still covers few days
    Dataset<Row> byDay = rows.repartition(col(d.eventTime())).sortWithinPartitions(col(d.eventTime()));
    ViewMaterializer.explainingMalformedRows(
        spark, d, file, warehouse.root(), () -> DeltaTables.replaceWhere(byDay, table, predicate));
    return record(spark, warehouse, d, file, ViewDefinitions.definitionHash(d), rows.schema().json(), sourceVersion,
        Optional.of(from),
        Optional.of(to));
  }

  private static void requireSameDefinition(SparkSession spark, Warehouse warehouse, ViewDefinition d, String file) {
    requireSameDefinition(d, file, ViewDefinitions.definitionHash(d), latestHash(spark, warehouse, d.name()));
  }

  /** Refuses to add rows of definition {@code hash} to a table whose last build recorded another definition. */
  private static void requireSameDefinition(ViewDefinition d, String file, String hash, Optional<String> recorded) {
    if (recorded.isPresent() && !recorded.get().equals(hash)) {
      throw Errors.invalidDefinition(
          file, "(definition)",
          "feature view " + d.name() + " changed since its table was built (definition hash " + recorded.get() + " -> "
              + hash + "); its rows were computed by the old definition and must not mix with new ones",
          "rebuild the whole table on purpose with 'nightshift features build --view " + file + " --as-of DATE"
              + " --backfill'");
    }
  }

  private static Optional<Long> sourceVersion(SparkSession spark, ViewDefinition d, Warehouse warehouse) {
    String sourcePath = ViewMaterializer.sourcePath(d, warehouse.root());
    return d.source().format() == Format.DELTA && DeltaTables.exists(spark, sourcePath)
        ? Optional.of(DeltaTables.version(spark, sourcePath))
        : Optional.empty();
  }

  /**
   * Appends the registry row of the build that just committed. Its row count comes from the commit's own metrics
   * (rows written) without a scan, except for a range rebuild that rewrote files: those metrics also count the rows
   * copied from other days, so the range is counted in the table.
   */
  private static Build record(
      SparkSession spark, Warehouse warehouse, ViewDefinition d, String file, String hash, String schemaJson,
      Optional<Long> sourceVersion, Optional<LocalDate> from, Optional<LocalDate> asOf) {
    String table = warehouse.featureView(d.name());
    Row commit =
        io.delta.tables.DeltaTable.forPath(spark, table).history(1).select("version", "operationMetrics").head();
    long version = commit.getLong(0);
    scala.collection.Map<String, String> metrics = commit.getMap(1);
    // a replaceWhere that rewrote files also counts the rows it copied: count the range itself then
    boolean rewrote = metrics.contains("numRemovedFiles") && !"0".equals(metrics.apply("numRemovedFiles"));
    long count;
    if (metrics.contains("numOutputRows") && !(from.isPresent() && rewrote)) {
      count = Long.parseLong(metrics.apply("numOutputRows"));
    } else {
      Column day = col(d.eventTime());
      Dataset<Row> written = spark.read().format("delta").option("versionAsOf", version).load(table);
      count =
          from.isPresent()
              ? written.where(day.geq(lit(Date.valueOf(from.get()))).and(day.leq(lit(Date.valueOf(asOf.orElseThrow())))))
                  .count()
              : written.count();
    }
    Row entry =
        RowFactory.create(
            d.name(), hash, file, d.description(), d.owner(), d.entities(), d.eventTime(), d.featureNames(), schemaJson,
            d.source().format().name().toLowerCase(java.util.Locale.ROOT),
            ViewMaterializer.sourcePath(d, warehouse.root()), sourceVersion.orElse(null), table, version,
            from.map(Date::valueOf).orElse(null), asOf.map(Date::valueOf).orElse(null), count,
            Timestamp.from(Instant.now()));
    spark.createDataFrame(List.of(entry), SCHEMA).write().format("delta").mode("append")
        .option("mergeSchema", "true").save(warehouse.featureRegistry());
    return new Build(d.name(), hash, table, version, count, sourceVersion, from, asOf);
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

  /**
   * The version of the view's table {@code tablePath} that a night {@code date} reads when the view's event time is
   * not a date (a cycle count, say), so no row says which night it belongs to: the table as built for that night. That
   * is the build with the latest as-of date on or before {@code date} (the newest such build when several share it,
   * e.g. a rebuild for the night), read up to the commit before the next build (so quarantine commits that followed it
   * are included). Empty, meaning the latest version, when that build is the newest one or the registry has no build
   * of the table. A build recorded without an as-of date counts as of the day it ran (UTC). When every recorded build
   * is as of a later night, the table was never built for {@code date}: an input error, exit code 2.
   */
  public static java.util.OptionalLong versionFor(
      SparkSession spark, Warehouse warehouse, String view, String tablePath, LocalDate date) {
    if (!DeltaTables.exists(spark, warehouse.featureRegistry())) {
      return java.util.OptionalLong.empty();
    }
    List<Row> builds =
        spark.read().format("delta").load(warehouse.featureRegistry())
            .where(col("view").equalTo(view).and(col("table_path").equalTo(tablePath)))
            .select(col("table_version"),
                org.apache.spark.sql.functions.coalesce(col("as_of"),
                    org.apache.spark.sql.functions.to_date(
                        org.apache.spark.sql.functions.to_utc_timestamp(col("built_at"),
                            spark.conf().get("spark.sql.session.timeZone")))))
            .orderBy(col("table_version"))
            .collectAsList();
    if (builds.isEmpty()) {
      return java.util.OptionalLong.empty();
    }
    int chosen = -1;
    for (int i = 0; i < builds.size(); i++) {
      LocalDate asOf = builds.get(i).getDate(1).toLocalDate();
      if (!asOf.isAfter(date)
          && (chosen < 0 || !asOf.isBefore(builds.get(chosen).getDate(1).toLocalDate()))) {
        chosen = i;
      }
    }
    if (chosen < 0) {
      Row first = builds.get(0);
      throw Errors.emptyPartition("features/" + view, "the night of " + date,
          "every recorded build of it is as of a later night (the first as of " + first.getDate(1) + ", table version "
              + first.getLong(0) + "); build it for that night with 'nightshift features build --view conf/features/"
              + view + ".yaml --as-of " + date + "', or replay a night already scored with 'nightshift score --date D"
              + " --model NAME --replay'");
    }
    return chosen == builds.size() - 1
        ? java.util.OptionalLong.empty()
        : java.util.OptionalLong.of(builds.get(chosen + 1).getLong(0) - 1);
  }

  /** Every recorded build of a view, oldest first. */
  public static Dataset<Row> history(SparkSession spark, Warehouse warehouse, String view) {
    return spark.read().format("delta").load(warehouse.featureRegistry())
        .where(col("view").equalTo(view))
        .orderBy(col("built_at"), col("table_version"));
  }
}
