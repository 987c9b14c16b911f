package io.nightshift.featurestore;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/** Java-side helpers for Spark's Scala-typed column APIs. */
public final class SparkColumns {
  private SparkColumns() {}

  /** Column names as the Scala Seq that {@code Dataset.join(other, usingColumns, joinType)} takes. */
  public static Seq<String> seq(String... names) {
    return JavaConverters.asScalaBuffer(Arrays.asList(names)).toSeq();
  }

  /** Columns by name, in order. */
  public static Column[] cols(List<String> names) {
    return names.stream().map(functions::col).toArray(Column[]::new);
  }
}
