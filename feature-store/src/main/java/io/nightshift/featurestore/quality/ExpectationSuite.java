package io.nightshift.featurestore.quality;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.datediff;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.featurestore.SparkColumns;
import java.math.BigDecimal;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * Evaluates declared {@link Expectation}s of a table as Spark aggregate columns, so that a caller computes them
 * together with its own metrics in a single pass over the table, and turns the aggregated row into checks. Row-level
 * expectations also give a per-row violation predicate, used to quarantine bad rows instead of dropping them.
 */
public final class ExpectationSuite {
  private final String table;
  private final List<Expectation> expectations;
  private final StructType schema;
  private final Map<Expectation.AllowedValues, List<BigDecimal>> allowedNumbers = new HashMap<>();

  /**
   * The expectations of {@code table} (how errors name it), a table with {@code schema}. The allowed values of a
   * numeric column are compared as numbers: a feature written as the double 0.0 is the YAML value 0.
   */
  public ExpectationSuite(String table, List<Expectation> expectations, StructType schema) {
    this.table = table;
    this.expectations = List.copyOf(expectations);
    this.schema = schema;
    for (Expectation e : this.expectations) {
      if (e instanceof Expectation.AllowedValues a && numeric(a.column())) {
        allowedNumbers.put(a, numbers(a));
      }
    }
  }

  public List<Expectation> expectations() {
    return expectations;
  }

  /** The aggregate columns, first the row count, then one per expectation that needs one. */
  public List<Column> aggregations(LocalDate asOf) {
    List<Column> aggs = new ArrayList<>();
    aggs.add(count(lit(1)));
    for (Expectation e : expectations) {
      if (e instanceof Expectation.NotNull n) {
        aggs.add(sum(when(missing(n.column()), 1).otherwise(0)));
      } else if (e instanceof Expectation.RowLevel rl) {
        aggs.add(sum(when(violation(rl), 1).otherwise(0)));
      } else if (e instanceof Expectation.Unique u) {
        aggs.add(countDistinct(struct(SparkColumns.cols(u.columns()))));
      } else if (e instanceof Expectation.Freshness f) {
        Column newest = max(f.labelColumn() == null
            ? col(f.dateColumn())
            : when(col(f.labelColumn()).isNotNull(), col(f.dateColumn())));
        aggs.add(datediff(lit(Date.valueOf(asOf)), newest));
        aggs.add(to_date(newest).cast("string"));
      } // RowCount uses the row count
    }
    return aggs;
  }

  /**
   * The checks from the aggregated row, reading the suite's columns from {@code offset}; {@code historyMedianRows}
   * is the median row count of earlier runs (null without history). A table without rows gives counts of 0 (and
   * fails its row-count and freshness expectations), never an error.
   */
  public List<QualityGate.Check> checks(Row r, int offset, Double historyMedianRows) {
    List<QualityGate.Check> out = new ArrayList<>();
    long rows = countAt(r, offset);
    int i = offset + 1;
    for (Expectation e : expectations) {
      if (e instanceof Expectation.NotNull n) {
        long nulls = countAt(r, i++);
        double share = rows == 0 ? 0.0 : (double) nulls / rows;
        boolean strict = n.maxNullShare() == 0;
        out.add(new QualityGate.Check(n.column(), strict ? "null_rows" : "null_share",
            strict ? "0" : "<= " + n.maxNullShare(), strict ? nulls : share, share <= n.maxNullShare()));
      } else if (e instanceof Expectation.Range rg) {
        long bad = countAt(r, i++);
        out.add(new QualityGate.Check(rg.column(), "out_of_range_rows", "0 outside " + bounds(rg), bad, bad == 0));
      } else if (e instanceof Expectation.AllowedValues a) {
        long bad = countAt(r, i++);
        out.add(new QualityGate.Check(a.column(), "disallowed_value_rows", "0 outside " + a.values(), bad, bad == 0));
      } else if (e instanceof Expectation.Unique u) {
        long dup = rows - countAt(r, i++);
        out.add(new QualityGate.Check(u.subject(), "duplicate_rows", "0", dup, dup == 0));
      } else if (e instanceof Expectation.Freshness f) {
        boolean none = r.isNullAt(i);
        int age = none ? Integer.MAX_VALUE : r.getInt(i);
        String newest = r.isNullAt(i + 1) ? null : r.getString(i + 1);
        i += 2;
        String dated = f.dateColumn() + (f.labelColumn() == null ? "" : " with " + f.labelColumn());
        out.add(new QualityGate.Check(f.dateColumn(), "age_days", "<= " + f.maxAgeDays(),
            none ? Double.NaN : age, !none && age <= f.maxAgeDays(),
            newest == null ? "no " + dated : "newest " + dated + " " + newest));
      } else if (e instanceof Expectation.RowCount rc) {
        out.add(new QualityGate.Check("*", "row_count", ">= " + rc.min(), rows, rows >= rc.min()));
        if (historyMedianRows != null && historyMedianRows > 0) {
          double change = Math.abs(rows / historyMedianRows - 1);
          out.add(new QualityGate.Check("*", "row_count_vs_history",
              String.format(Locale.ROOT, "|change| <= %.2f of median %.0f", rc.maxRelativeChange(), historyMedianRows),
              change, change <= rc.maxRelativeChange()));
        }
      }
    }
    return out;
  }

  /**
   * The count at {@code i} of an aggregated row, 0 where it is null: Spark's {@code sum} over no rows is null, so
   * the counts of an empty table are.
   */
  static long countAt(Row r, int i) {
    return r.isNullAt(i) ? 0 : r.getLong(i);
  }

  /** Whether the suite has a row-count expectation that compares with history. */
  public boolean comparesRowCountWithHistory() {
    return expectations.stream().anyMatch(e -> e instanceof Expectation.RowCount);
  }

  /** Row-level expectations that can quarantine rows: strict not-null, ranges and allowed values. */
  public List<Expectation.RowLevel> quarantinable() {
    List<Expectation.RowLevel> out = new ArrayList<>();
    for (Expectation e : expectations) {
      if (e instanceof Expectation.NotNull n && n.maxNullShare() == 0) {
        out.add(n);
      } else if (e instanceof Expectation.Range || e instanceof Expectation.AllowedValues) {
        out.add((Expectation.RowLevel) e);
      }
    }
    return out;
  }

  /** True for rows breaking any quarantinable expectation. */
  public Column anyViolation() {
    Column any = lit(false);
    for (Expectation.RowLevel e : quarantinable()) {
      any = any.or(violation(e));
    }
    return any;
  }

  /** The expectations a row breaks, as text ({@code "sales out_of_range [0, ∞)"}), or null for a good row. */
  public Column reasons() {
    List<Column> parts = new ArrayList<>();
    for (Expectation.RowLevel e : quarantinable()) {
      parts.add(when(violation(e), lit(e.subject() + " " + describe(e))));
    }
    return parts.isEmpty() ? lit(null).cast("string") : concat_ws("; ", parts.toArray(new Column[0]));
  }

  Column violation(Expectation.RowLevel e) {
    if (e instanceof Expectation.NotNull n) {
      return missing(n.column());
    }
    if (e instanceof Expectation.Range r) {
      Column c = col(r.column());
      Column bad = lit(false);
      if (r.min() != null) {
        bad = bad.or(c.lt(r.min()));
      }
      if (r.max() != null) {
        bad = bad.or(c.gt(r.max()));
      }
      return org.apache.spark.sql.functions.not(missing(r.column())).and(bad); // NaN is missing, not out of range
    }
    Expectation.AllowedValues a = (Expectation.AllowedValues) e;
    List<BigDecimal> numbers = allowedNumbers.get(a);
    if (numbers != null) { // NaN is missing, not disallowed, as for ranges
      return org.apache.spark.sql.functions.not(missing(a.column()))
          .and(org.apache.spark.sql.functions.not(col(a.column()).isin(numbers.toArray())));
    }
    return col(a.column()).isNotNull()
        .and(org.apache.spark.sql.functions.not(col(a.column()).cast("string").isin(a.values().toArray())));
  }

  private List<BigDecimal> numbers(Expectation.AllowedValues a) {
    List<BigDecimal> out = new ArrayList<>();
    for (String v : a.values()) {
      BigDecimal n;
      try {
        n = new BigDecimal(v);
      } catch (NumberFormatException notANumber) {
        throw Errors.invalidOption(
            "expectations.allowed_values." + a.column() + " of " + table, v,
            "column " + a.column() + " of " + table + " is numeric (" + schema.apply(a.column()).dataType().simpleString()
                + "), so its allowed values must be numbers, e.g. [0, 1]");
      }
      out.add(n.scale() < 0 ? n.setScale(0) : n); // Spark has no decimals of negative scale (1E+3)
    }
    return out;
  }

  private boolean numeric(String column) {
    return schema.getFieldIndex(column).isDefined() && schema.apply(column).dataType() instanceof NumericType;
  }

  private Column missing(String column) {
    Column c = col(column);
    return numeric(column) ? c.isNull().or(org.apache.spark.sql.functions.isnan(c)) : c.isNull();
  }

  private static String describe(Expectation.RowLevel e) {
    if (e instanceof Expectation.NotNull) {
      return "is null";
    }
    if (e instanceof Expectation.Range r) {
      return "outside " + bounds(r);
    }
    return "not in " + ((Expectation.AllowedValues) e).values();
  }

  private static String bounds(Expectation.Range r) {
    return "[" + (r.min() == null ? "-inf" : r.min()) + ", " + (r.max() == null ? "inf" : r.max()) + "]";
  }

  /** Splits {@code table} into rows keeping every quarantinable expectation and the rest (with a reason column). */
  public Dataset<Row> violating(Dataset<Row> table) {
    return table.where(anyViolation()).withColumn("quarantine_reason", reasons());
  }
}
