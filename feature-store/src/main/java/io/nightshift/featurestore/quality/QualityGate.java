package io.nightshift.featurestore.quality;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
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
 * The data-quality gate that runs between feature building and training/scoring. All metrics are computed in one
 * aggregation pass over the feature table; a failed expectation stops the pipeline with a report naming the table,
 * column, metric, expected and actual value.
 */
public final class QualityGate {
  /** The largest share of missing values tolerated in one feature column of the rows to be scored. */
  static final double MAX_NULL_SHARE = 0.5;

  private QualityGate() {}

  /** One evaluated expectation. */
  public record Check(String column, String metric, String expected, double actual, boolean passed) {
    @Override
    public String toString() {
      return String.format(
          "%s %-28s %-26s expected %-10s actual %s",
          passed ? "PASS" : "FAIL", column, metric, expected, format(actual));
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

  /** Evaluates the gate; never throws for failed expectations (see {@link #enforce}). */
  public static Report evaluate(SparkSession spark, Warehouse warehouse, UseCase useCase, LocalDate asOf) {
    FeatureView view = view(useCase);
    Dataset<Row> table =
        DeltaTables.read(
            spark,
            warehouse.features(useCase),
            view.name(),
            "run 'nightshift features build --as-of " + asOf + "' first");
    DeltaTables.requireColumns(table, view.name(), requiredColumns(view));
    return evaluate(table, view, asOf);
  }

  static Report evaluate(Dataset<Row> table, FeatureView view, LocalDate asOf) {
    Column scoringRows = scoringRows(view, asOf);
    List<Column> aggs = new ArrayList<>();
    aggs.add(count(lit(1)));
    aggs.add(sum(when(scoringRows, 1).otherwise(0)));
    Column anyKeyNull = lit(false);
    for (String k : view.keys()) {
      anyKeyNull = anyKeyNull.or(col(k).isNull());
    }
    aggs.add(sum(when(anyKeyNull.or(col(view.dateColumn()).isNull()), 1).otherwise(0)));
    List<String> keyAndDate = new ArrayList<>(view.keys());
    keyAndDate.add(view.dateColumn());
    aggs.add(countDistinct(col(keyAndDate.get(0)), SparkColumns.cols(keyAndDate.subList(1, keyAndDate.size()))));
    aggs.add(sum(when(col(view.labelColumn()).lt(0), 1).otherwise(0)));
    aggs.add(sum(when(col(view.labelColumn()).isNotNull(), 1).otherwise(0)));
    for (String f : view.features()) {
      aggs.add(sum(when(scoringRows.and(col(f).isNull()), 1).otherwise(0)));
    }
    Row r = table.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).head();
    long rows = r.getLong(0);
    long scoring = r.getLong(1);
    long nullKeys = r.getLong(2);
    long distinct = r.getLong(3);
    long negativeLabels = r.getLong(4);
    long labeled = r.getLong(5);

    List<Check> checks = new ArrayList<>();
    checks.add(new Check("*", "row_count", "> 0", rows, rows > 0));
    checks.add(new Check("*", "rows_to_score(" + asOf + ")", "> 0", scoring, scoring > 0));
    checks.add(new Check("*", "labeled_rows", "> 0", labeled, labeled > 0));
    checks.add(
        new Check(String.join(",", keyAndDate), "null_keys", "0", nullKeys, nullKeys == 0));
    checks.add(
        new Check(
            String.join(",", keyAndDate), "duplicate_keys", "0", rows - distinct, rows == distinct));
    checks.add(
        new Check(view.labelColumn(), "negative_values", "0", negativeLabels, negativeLabels == 0));
    for (int i = 0; i < view.features().size(); i++) {
      long nulls = r.getLong(6 + i);
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
