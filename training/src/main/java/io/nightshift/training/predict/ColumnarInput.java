package io.nightshift.training.predict;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.BasePredicate;
import org.apache.spark.sql.catalyst.expressions.Cast;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.Predicate$;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.ExecSubqueryExpression;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.execution.FilterExec;
import org.apache.spark.sql.execution.InputAdapter;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.WholeStageCodegenExec;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import scala.collection.JavaConverters;

/**
 * The scorer's input read straight from the columnar batches of a file scan, when its physical plan is a vectorized
 * file scan under at most a deterministic filter and a projection that only picks, renames or casts columns to
 * double. Feature values then go from the Parquet column vectors into the predictor's float buffer a column at a time,
 * without being copied into Spark's row format first and read back value by value.
 * Any other plan (a join, an aggregate, a cached table, a computed column) is scored through its rows, unchanged.
 *
 * <p>{@link #ordinals()} maps each input column to its column in the scan's batches, and {@link #sourceTypes()} gives
 * the type stored there (a feature cast to double is read from its source type and converted the same way).
 */
final class ColumnarInput implements Serializable {
  private static final long serialVersionUID = 1L;

  private final transient SparkPlan scan;
  private final List<Attribute> scanOutput;
  private final Expression condition; // null when the plan has no filter
  private final int[] ordinals;
  private final DataType[] sourceTypes;

  private ColumnarInput(
      SparkPlan scan, List<Attribute> scanOutput, Expression condition, int[] ordinals, DataType[] sourceTypes) {
    this.scan = scan;
    this.scanOutput = scanOutput;
    this.condition = condition;
    this.ordinals = ordinals;
    this.sourceTypes = sourceTypes;
  }

  /**
   * The columnar reading of {@code plan}'s output, or null when the plan is of another shape. {@code features} says
   * which output columns are features: only those may be casts (to double, from a numeric column).
   */
  static ColumnarInput of(SparkPlan plan, boolean[] features) {
    SparkPlan node = unwrap(plan);
    List<NamedExpression> projection = null;
    if (node instanceof ProjectExec project) {
      projection = JavaConverters.seqAsJavaList(project.projectList());
      node = unwrap(project.child());
    }
    Expression condition = null;
    if (node instanceof FilterExec filter) {
      condition = filter.condition();
      if (!condition.deterministic() || hasSubquery(condition)) {
        return null;
      }
      node = unwrap(filter.child());
    }
    if (!(node instanceof ColumnarToRowExec toRows)) {
      return null;
    }
    SparkPlan scan = unwrap(toRows.child());
    if (!(scan instanceof FileSourceScanExec) || !scan.supportsColumnar()) {
      return null;
    }
    List<Attribute> scanOutput = new ArrayList<>(JavaConverters.seqAsJavaList(scan.output()));
    List<Expression> columns = new ArrayList<>();
    if (projection == null) {
      scanOutput.forEach(a -> columns.add((Expression) a));
    } else {
      for (NamedExpression e : projection) {
        columns.add((Expression) e);
      }
    }
    if (columns.size() != features.length) {
      return null;
    }
    int[] ordinals = new int[columns.size()];
    DataType[] sourceTypes = new DataType[columns.size()];
    for (int i = 0; i < columns.size(); i++) {
      Expression e = columns.get(i);
      if (e instanceof Alias alias) {
        e = alias.child();
      }
      if (features[i] && e instanceof Cast cast && cast.dataType() instanceof DoubleType && numeric(cast.child().dataType())) {
        e = cast.child();
      }
      if (!(e instanceof AttributeReference ref)) {
        return null;
      }
      int ordinal = indexOf(scanOutput, ref);
      if (ordinal < 0) {
        return null;
      }
      ordinals[i] = ordinal;
      sourceTypes[i] = ref.dataType();
    }
    return new ColumnarInput(scan, scanOutput, condition, ordinals, sourceTypes);
  }

  /** The scan's batches (the plan's subqueries and metrics are prepared by the scan itself). */
  RDD<ColumnarBatch> batches() {
    return scan.executeColumnar();
  }

  int[] ordinals() {
    return ordinals.clone();
  }

  DataType[] sourceTypes() {
    return sourceTypes.clone();
  }

  /** The plan's filter, ready to evaluate on the batches' rows in this task; null when the plan has none. */
  BasePredicate predicate() {
    if (condition == null) {
      return null;
    }
    BasePredicate predicate = Predicate$.MODULE$.create(condition, JavaConverters.asScalaBuffer(scanOutput).toSeq());
    TaskContext task = TaskContext.get();
    predicate.initialize(task == null ? 0 : task.partitionId());
    return predicate;
  }

  private static SparkPlan unwrap(SparkPlan plan) {
    SparkPlan p = plan;
    while (p instanceof WholeStageCodegenExec || p instanceof InputAdapter) {
      p = p instanceof WholeStageCodegenExec w ? w.child() : ((InputAdapter) p).child();
    }
    return p;
  }

  private static boolean hasSubquery(Expression e) {
    if (e instanceof ExecSubqueryExpression) {
      return true;
    }
    for (Expression child : JavaConverters.seqAsJavaList(e.children())) {
      if (hasSubquery(child)) {
        return true;
      }
    }
    return false;
  }

  private static boolean numeric(DataType t) {
    return t instanceof DoubleType || t instanceof FloatType || t instanceof IntegerType || t instanceof LongType
        || t instanceof ShortType || t instanceof ByteType;
  }

  private static int indexOf(List<Attribute> output, AttributeReference ref) {
    for (int i = 0; i < output.size(); i++) {
      if (output.get(i).exprId().equals(ref.exprId())) {
        return i;
      }
    }
    return -1;
  }
}
