package io.nightshift.featurestore.quality;

import java.io.Serializable;
import java.util.List;

/**
 * A declared data-quality expectation on a feature table. Row-level expectations ({@link NotNull}, {@link Range},
 * {@link AllowedValues}) can also route the rows that break them to a quarantine table; table-level ones
 * ({@link Unique}, {@link Freshness}, {@link RowCount}) only pass or fail. All are evaluated together in one
 * aggregation pass by {@link ExpectationSuite}.
 */
public sealed interface Expectation extends Serializable {
  /** The column(s) the expectation is about, for reports. */
  String subject();

  /** The metric name recorded in the metrics table. */
  String metric();

  /** Expectations that judge single rows. */
  sealed interface RowLevel extends Expectation {}

  /** At most {@code maxNullShare} of the rows have a null (or NaN) {@code column}; 0 means none. */
  record NotNull(String column, double maxNullShare) implements RowLevel {
    public NotNull {
      if (!(maxNullShare >= 0 && maxNullShare <= 1)) {
        throw new IllegalArgumentException("not_null max share must be in [0, 1] for " + column);
      }
    }

    @Override
    public String subject() {
      return column;
    }

    @Override
    public String metric() {
      return "null_share";
    }
  }

  /** Non-null values of {@code column} lie in [{@code min}, {@code max}] (either bound may be null). */
  record Range(String column, Double min, Double max) implements RowLevel {
    public Range {
      if (min == null && max == null) {
        throw new IllegalArgumentException("range on " + column + " needs min or max");
      }
      if (min != null && max != null && min > max) {
        throw new IllegalArgumentException("range on " + column + ": min " + min + " > max " + max);
      }
    }

    @Override
    public String subject() {
      return column;
    }

    @Override
    public String metric() {
      return "out_of_range_rows";
    }
  }

  /**
   * Non-null values of {@code column} are among {@code values}: compared as numbers when the column is numeric, as
   * strings otherwise.
   */
  record AllowedValues(String column, List<String> values) implements RowLevel {
    public AllowedValues {
      values = List.copyOf(values);
      if (values.isEmpty()) {
        throw new IllegalArgumentException("allowed_values on " + column + " is empty");
      }
    }

    @Override
    public String subject() {
      return column;
    }

    @Override
    public String metric() {
      return "disallowed_value_rows";
    }
  }

  /** No two rows share the values of {@code columns} (e.g. entity keys and event time). */
  record Unique(List<String> columns) implements Expectation {
    public Unique {
      columns = List.copyOf(columns);
      if (columns.isEmpty()) {
        throw new IllegalArgumentException("unique needs columns");
      }
    }

    @Override
    public String subject() {
      return String.join(",", columns);
    }

    @Override
    public String metric() {
      return "duplicate_rows";
    }
  }

  /**
   * The newest {@code dateColumn} value is at most {@code maxAgeDays} before the as-of date. With a
   * {@code labelColumn}, only rows whose label is known count: a table that also holds rows for days to come (the
   * demand table's forecast days, without sales) is as fresh as its newest labeled day, not its newest row.
   */
  record Freshness(String dateColumn, int maxAgeDays, String labelColumn) implements Expectation {
    public Freshness {
      if (maxAgeDays < 0) {
        throw new IllegalArgumentException("freshness max age must be >= 0");
      }
    }

    /** Freshness of the newest row, whatever its label. */
    public Freshness(String dateColumn, int maxAgeDays) {
      this(dateColumn, maxAgeDays, null);
    }

    @Override
    public String subject() {
      return dateColumn;
    }

    @Override
    public String metric() {
      return "age_days";
    }
  }

  /**
   * The table has at least {@code min} rows, and — once the metrics table holds history — its row count differs
   * from the median of the last runs by at most {@code maxRelativeChange} (e.g. 0.5: half or one and a half times).
   */
  record RowCount(long min, double maxRelativeChange) implements Expectation {
    @Override
    public String subject() {
      return "*";
    }

    @Override
    public String metric() {
      return "row_count";
    }
  }
}
