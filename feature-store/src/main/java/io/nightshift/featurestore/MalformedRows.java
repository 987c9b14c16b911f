package io.nightshift.featurestore;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.util.BadRecordException;

/**
 * Explains a CSV read that failed on a row that does not parse as the declared columns (Spark's FAILFAST mode). Spark
 * names neither the column nor, for a row after a file's first, the file: after such a failure, and only then, the
 * files are read again leniently to find the first bad row, its file and the columns whose values did not parse.
 */
public final class MalformedRows {
  private static final String CORRUPT = "__ns_malformed_row";
  private static final String FILE = "__ns_file";

  private MalformedRows() {}

  /** Whether {@code e} (or a cause) is Spark's failure on a record that does not parse as the declared schema. */
  public static boolean isMalformedRecord(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BadRecordException
          || (t.getMessage() != null && t.getMessage().contains("MALFORMED_RECORD_IN_PARSING"))) {
        return true;
      }
    }
    return false;
  }

  /** The innermost cause's message, in parentheses: what the parser said. */
  public static String parserProblem(Throwable e) {
    Throwable parser = e;
    while (parser.getCause() != null) {
      parser = parser.getCause();
    }
    return "(" + (parser.getMessage() != null ? parser.getMessage() : parser.toString()) + ")";
  }

  /**
   * The first row of the CSV files at {@code path} that does not parse as {@code columns} (name to Spark SQL type,
   * in the files' order), as "file F, row 'R': column C (type) cannot be 'V'", or with {@code problem} when no single
   * value is to blame (e.g. a row with too few fields); empty when every row parses.
   */
  public static Optional<String> first(
      SparkSession spark, String path, Map<String, String> options, Map<String, String> columns, String problem) {
    if (columns.isEmpty()) {
      return Optional.empty();
    }
    List<Row> bad =
        spark.read().options(options)
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT)
            .schema(ddl(columns) + ", `" + CORRUPT + "` string")
            .csv(path)
            .withColumn(FILE, input_file_name())
            .where(col(CORRUPT).isNotNull())
            .limit(1)
            .collectAsList();
    if (bad.isEmpty()) {
      return Optional.empty();
    }
    Row typed = bad.get(0);
    String raw = typed.getAs(CORRUPT);
    List<String> names = new ArrayList<>(columns.keySet());
    Row text = // the same row as strings: the values that were there but did not parse
        spark.read().options(options)
            .option("header", "false")
            .option("mode", "PERMISSIVE")
            .schema(names.stream().map(c -> "`" + c + "` string").collect(Collectors.joining(", ")))
            .csv(spark.createDataset(List.of(raw), Encoders.STRING()))
            .head();
    List<String> values = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      if (typed.isNullAt(i) && !text.isNullAt(i)) {
        values.add("column " + names.get(i) + " (" + columns.get(names.get(i)) + ") cannot be '" + text.get(i) + "'");
      }
    }
    String where = "file " + typed.getAs(FILE) + ", row '" + raw + "'";
    return Optional.of(where + (values.isEmpty() ? " " + problem : ": " + String.join(", ", values)));
  }

  /** {@code columns} as a Spark DDL schema string. */
  public static String ddl(Map<String, String> columns) {
    return columns.entrySet().stream()
        .map(e -> "`" + e.getKey() + "` " + e.getValue())
        .collect(Collectors.joining(", "));
  }
}
