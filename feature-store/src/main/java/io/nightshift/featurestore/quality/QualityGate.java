package io.nightshift.featurestore.quality;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.QualityGateException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.SparkColumns;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.maintenance.MachineFeatures;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The data-quality gate that runs between feature building and training/scoring: the view's declared
 * {@link Expectation}s and the gate's own checks of the rows to score, all computed in one aggregation pass over the
 * feature table. Every evaluation is recorded in {@code monitoring/quality_metrics} (the history the row-count
 * anomaly check compares with); a failed expectation stops the pipeline with a report naming the table, column,
 * metric, expected and actual value.
 */
public final class QualityGate {
  /** The largest share of missing values tolerated in one feature column of the rows to be scored. */
  static final double MAX_NULL_SHARE = 0.5;

  /** The largest relative change of the row count against the median of earlier builds. */
  static final double MAX_ROW_COUNT_CHANGE = 0.5;

  /** Earlier builds the row-count median looks at. */
  static final int HISTORY_RUNS = 14;

  private QualityGate() {}

  /** One evaluated expectation; {@code detail}, when not null, says more in the report (e.g. the newest date). */
  public record Check(String column, String metric, String expected, double actual, boolean passed, String detail) {
    public Check(String column, String metric, String expected, double actual, boolean passed) {
      this(column, metric, expected, actual, passed, null);
    }

    @Override
    public String toString() {
      return String.format(
          "%s %-28s %-26s expected %-10s actual %s",
          passed ? "PASS" : "FAIL", column, metric, expected, format(actual))
          + (detail == null ? "" : " (" + detail + ")");
    }
  }

  /** The checks of one table. */
  public record Report(String table, LocalDate asOf, List<Check> checks) {
    public boolean passed() {
      return checks.stream().allMatch(Check::passed);
    }

    public List<Check> failures() {
      return checks.stream().filter(c -> !c.passed()).toList();
    }

    public String render() {
      return "Quality gate " + table + " as of " + asOf + ": " + (passed() ? "PASSED" : "FAILED") + "\n  "
          + checks.stream().map(Check::toString).collect(Collectors.joining("\n  "));
    }
  }

  public static FeatureView view(UseCase useCase) {
    return useCase == UseCase.DEMAND ? DemandFeatures.VIEW : MachineFeatures.VIEW;
  }

  /**
   * The expectations declared for a built-in view: non-null unique entity keys and dates, a non-negative label, data
   * reaching the as-of date (sales for demand, telemetry for machines), and a row count close to earlier builds'.
   */
  public static List<Expectation> declared(FeatureView view) {
    List<Expectation> out = new ArrayList<>();
    List<String> keyAndDate = new ArrayList<>(view.keys());
    keyAndDate.add(view.dateColumn());
    keyAndDate.forEach(k -> out.add(new Expectation.NotNull(k, 0)));
    out.add(new Expectation.Unique(keyAndDate));
    out.add(
        view.useCase() == UseCase.DEMAND
            ? new Expectation.Range(view.labelColumn(), 0.0, null)
            : new Expectation.Range(view.labelColumn(), 0.0, 1.0));
    // the demand table holds the forecast days after the as-of date (no sales yet): its freshness is that of its
    // newest day with sales; a machine table's rows are telemetry days, the newest of which is labeled only a week
    // later, so its freshness is that of its newest row
    out.add(
        view.useCase() == UseCase.DEMAND
            ? new Expectation.Freshness(view.dateColumn(), 0, view.labelColumn())
            : new Expectation.Freshness(view.dateColumn(), 0));
    out.add(new Expectation.RowCount(1, MAX_ROW_COUNT_CHANGE));
    return out;
  }

  /** Evaluates the gate and records its metrics; never throws for failed expectations (see {@link #enforce}). */
  public static Report evaluate(SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate asOf) {
    FeatureView view = view(useCase);
    Dataset<Row> table =
        DeltaTables.read(
            spark,
            warehouse.features(useCase),
            view.name(),
            "run 'nightshift features build --as-of " + asOf + "' first");
    DeltaTables.requireColumns(table, view.name(), requiredColumns(view));
    Double median = QualityMetrics.medianBefore(spark, warehouse, view.name(), "*", "row_count", asOf, HISTORY_RUNS);
    Report report = evaluate(table, view, asOf, median);
    QualityMetrics.record(spark, warehouse, report);
    return report;
  }

  static Report evaluate(Dataset<Row> table, FeatureView view, LocalDate asOf) {
    return evaluate(table, view, asOf, null);
  }

  /** All metrics, the gate's own and the declared expectations', in one aggregation pass. */
  static Report evaluate(Dataset<Row> table, FeatureView view, LocalDate asOf, Double historyMedianRows) {
    ExpectationSuite suite = new ExpectationSuite(view.name(), declared(view), table.schema());
    Column scoringRows = scoringRows(view, asOf);
    List<Column> aggs = new ArrayList<>();
    aggs.add(sum(when(scoringRows, 1).otherwise(0)));
    aggs.add(sum(when(col(view.labelColumn()).isNotNull(), 1).otherwise(0)));
    for (String f : view.features()) {
      aggs.add(sum(when(scoringRows.and(col(f).isNull()), 1).otherwise(0)));
    }
    int suiteOffset = aggs.size();
    aggs.addAll(suite.aggregations(asOf));
    int datesAt = aggs.size();
    aggs.add(min(col(view.dateColumn())));
    aggs.add(max(col(view.dateColumn())));
    Row r = table.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).head();
    long scoring = ExpectationSuite.countAt(r, 0);
    long labeled = ExpectationSuite.countAt(r, 1);

    List<Check> checks = new ArrayList<>();
    // nothing to score: say which dates the table does have, so a wrong date is told from a stale build
    String scoringDetail =
        scoring > 0 ? null
            : r.isNullAt(datesAt) ? "the table has no rows"
            : "the table has " + view.dateColumn() + " " + r.get(datesAt) + ".." + r.get(datesAt + 1)
                + ": build it as of " + asOf + ", or pick a date the table covers";
    checks.add(new Check("*", "rows_to_score(" + asOf + ")", "> 0", scoring, scoring > 0, scoringDetail));
    checks.add(new Check("*", "labeled_rows", "> 0", labeled, labeled > 0));
    checks.addAll(suite.checks(r, suiteOffset, historyMedianRows));
    for (int i = 0; i < view.features().size(); i++) {
      long nulls = ExpectationSuite.countAt(r, 2 + i);
      double share = scoring == 0 ? 0.0 : (double) nulls / scoring;
      if (share > 0) {
        checks.add(
            new Check(
                view.features().get(i),
                "null_share_in_scoring_rows",
                "<= " + MAX_NULL_SHARE,
                share,
                share <= MAX_NULL_SHARE));
      }
    }
    return new Report(view.name(), asOf, checks);
  }

  /**
   * Moves the rows breaking a row-level expectation (null key or date, label out of range) out of the feature
   * table into {@code quarantine/<view>} (partition {@code as_of}, with the reason), so that the gate judges and the
   * models see only good rows while nothing is lost. The quarantine partition is committed before the rows are
   * deleted from the feature table, so a failure in between leaves the rows in both tables, never in neither.
   * Quarantining into a date's partition again adds the rows found now and keeps the rows quarantined before: a row
   * found again (same keys and date) is replaced by its current version, so re-running gives the same rows once; a
   * row the table no longer has stays recorded. This call knows no rebuild, so a quarantined row whose source was
   * corrected since stays too; see {@link #quarantine(SparkSession, Warehouse, UseCase, LocalDate, Column)}.
   *
   * @return the rows quarantined
   */
  public static long quarantine(SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate asOf) {
    return quarantine(spark, warehouse, useCase, asOf, lit(false));
  }

  /**
   * As {@link #quarantine(SparkSession, Warehouse, UseCase, LocalDate)} right after a build that recomputed the rows
   * matching {@code rebuilt} (a predicate on the view's columns: {@code lit(true)} after a whole-table build): the
   * date's quarantined rows in that part are replaced by the rebuilt table's bad rows there, as the build replaced
   * them in the feature table, so a row whose source was corrected leaves the quarantine; the others stay.
   *
   * @return the rows quarantined
   */
  public static long quarantine(
      SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate asOf, Column rebuilt) {
    FeatureView view = view(useCase);
    String path = warehouse.features(useCase);
    Dataset<Row> table =
        DeltaTables.read(spark, path, view.name(), "run 'nightshift features build --as-of " + asOf + "' first");
    return quarantine(spark, warehouse, view.name(), path, table, declared(view),
        identity(view.keys(), view.dateColumn()), rebuilt, asOf);
  }

  /**
   * As {@link #quarantine(SparkSession, Warehouse, UseCase, LocalDate)} for a view declared in YAML: rows with a null
   * entity key or event time, or breaking one of the view's row-level expectations (strict not-null, ranges, allowed
   * values), move to {@code quarantine/<view>}; rows quarantined before into the same date stay unless found again.
   */
  public static long quarantineView(
      SparkSession spark, Warehouse warehouse, String name, List<String> keys, String eventTime,
      List<Expectation> declared, LocalDate asOf) {
    return quarantineView(spark, warehouse, name, keys, eventTime, declared, asOf, lit(false));
  }

  /**
   * As {@link #quarantineView(SparkSession, Warehouse, String, List, String, List, LocalDate)} right after a build
   * that recomputed the rows matching {@code rebuilt} (e.g. the event times of a {@code --from/--to} range, or
   * {@code lit(true)} after a whole-table build): the date's quarantined rows there are replaced by the bad rows the
   * build produced; those outside it stay (a range rebuild does not bring them back to the feature table).
   *
   * @return the rows quarantined
   */
  public static long quarantineView(
      SparkSession spark, Warehouse warehouse, String name, List<String> keys, String eventTime,
      List<Expectation> declared, LocalDate asOf, Column rebuilt) {
    String path = warehouse.featureView(name);
    Dataset<Row> table = DeltaTables.read(spark, path, "features/" + name,
        "run 'nightshift features build --view conf/features/" + name + ".yaml' first");
    List<Expectation> expectations = new ArrayList<>();
    keys.forEach(k -> expectations.add(new Expectation.NotNull(k, 0)));
    expectations.add(new Expectation.NotNull(eventTime, 0));
    declared.stream().filter(e -> !expectations.contains(e)).forEach(expectations::add);
    return quarantine(spark, warehouse, name, path, table, expectations, identity(keys, eventTime), rebuilt, asOf);
  }

  private static List<String> identity(List<String> keys, String time) {
    List<String> out = new ArrayList<>(keys);
    out.add(time);
    return out;
  }

  /**
   * The date's partition becomes the rows quarantined into it before, less those superseded (in the rebuilt part, or
   * found bad again by their keys and time, null-safe), plus the bad rows found now: one Delta commit, then one
   * delete from the feature table.
   */
  private static long quarantine(
      SparkSession spark, Warehouse warehouse, String name, String path, Dataset<Row> table,
      List<Expectation> expectations, List<String> identity, Column rebuilt, LocalDate asOf) {
    ExpectationSuite suite = new ExpectationSuite(name, expectations, table.schema());
    Dataset<Row> bad = suite.violating(table).withColumn("as_of", lit(Date.valueOf(asOf))).localCheckpoint();
    long n = bad.count();
    String target = warehouse.quarantine(name);
    Dataset<Row> partition = bad;
    long superseded = 0;
    if (DeltaTables.exists(spark, target)) {
      Dataset<Row> earlier =
          spark.read().format("delta").load(target).where(col("as_of").equalTo(lit(Date.valueOf(asOf))));
      Dataset<Row> found = bad.select(identity.stream().map(c -> col(c).as("_found_" + c)).toArray(Column[]::new));
      Column same = lit(true);
      for (String c : identity) {
        same = same.and(col(c).eqNullSafe(col("_found_" + c)));
      }
      Dataset<Row> kept = earlier.where(not(coalesce(rebuilt, lit(false)))).join(found, same, "left_anti")
          .localCheckpoint();
      superseded = earlier.count() - kept.count();
      partition = kept.unionByName(bad, true);
    }
    if (n > 0 || superseded > 0) { // otherwise the date's partition stays as it is
      DeltaTables.replacePartition(partition, target, "as_of", asOf.toString());
      if (n > 0) {
        io.delta.tables.DeltaTable.forPath(spark, path).delete(suite.anyViolation());
      }
    }
    return n;
  }

  /**
   * The gate of a feature view declared in configuration: non-null entity keys and event time, one row per entity
   * and event time, at least one labeled row, and the expectations declared in the view's YAML, evaluated in one
   * pass over {@code features/NAME} and recorded in the metrics table. Throws {@link QualityGateException} with the
   * report when a check fails.
   */
  public static Report enforceView(SparkSession spark, Warehouse warehouse, FeatureView view, LocalDate asOf) {
    Dataset<Row> table =
        DeltaTables.read(spark, warehouse.path(view.table()), view.name(),
            "run 'nightshift features build --view conf/features/" + view.name() + ".yaml' first");
    List<String> keyAndTime = new ArrayList<>(view.keys());
    keyAndTime.add(view.dateColumn());
    DeltaTables.requireColumns(table, view.name(), keyAndTime);
    List<Expectation> expectations = new ArrayList<>();
    keyAndTime.forEach(k -> expectations.add(new Expectation.NotNull(k, 0)));
    expectations.add(new Expectation.Unique(keyAndTime));
    view.expectations().stream().filter(e -> !expectations.contains(e)).forEach(expectations::add);
    ExpectationSuite suite = new ExpectationSuite(view.name(), expectations, table.schema());
    List<Column> aggs = new ArrayList<>(suite.aggregations(asOf));
    Row r = table.agg(sum(when(col(view.labelColumn()).isNotNull(), 1).otherwise(0)), aggs.toArray(new Column[0])).head();
    long labeled = ExpectationSuite.countAt(r, 0);
    Double median = suite.comparesRowCountWithHistory()
        ? QualityMetrics.medianBefore(spark, warehouse, view.name(), "*", "row_count", asOf, HISTORY_RUNS)
        : null;
    List<Check> checks = new ArrayList<>();
    checks.add(new Check(view.labelColumn(), "labeled_rows", "> 0", labeled, labeled > 0));
    checks.addAll(suite.checks(r, 1, median));
    Report report = new Report(view.name(), asOf, checks);
    QualityMetrics.record(spark, warehouse, report);
    if (!report.passed()) {
      throw new QualityGateException(
          report.render()
              + "\nFix: correct the source data behind the failed checks (or the view's expectations: section) and"
              + " rebuild the view; nothing downstream was run.");
    }
    return report;
  }

  /** Evaluates the gate and throws {@link QualityGateException} with the full report when it fails. */
  public static Report enforce(SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate asOf) {
    Report report = evaluate(spark, warehouse, useCase, asOf);
    if (!report.passed()) {
      throw new QualityGateException(
          report.render()
              + "\nFix: correct the raw data behind the failed checks and rebuild the features; nothing downstream"
              + " was run.");
    }
    return report;
  }

  /** The rows a nightly run as of {@code asOf} scores: the forecast days for demand, the day itself for machines. */
  public static Column scoringRows(FeatureView view, LocalDate asOf) {
    Column date = col(view.dateColumn());
    if (view.useCase() == UseCase.DEMAND) {
      return date.gt(lit(Date.valueOf(asOf)))
          .and(date.leq(lit(Date.valueOf(asOf.plusDays(DemandFeatures.HORIZON_DAYS)))));
    }
    return date.equalTo(lit(Date.valueOf(asOf)));
  }

  private static List<String> requiredColumns(FeatureView view) {
    List<String> cols = new ArrayList<>(view.keys());
    cols.add(view.dateColumn());
    cols.add(view.labelColumn());
    cols.addAll(view.features());
    return cols;
  }

  private static String format(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format("%.4f", v);
  }
}
