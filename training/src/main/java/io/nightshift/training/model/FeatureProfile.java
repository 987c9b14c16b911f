package io.nightshift.training.model;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The distribution of one column, binned at the baseline's deciles: {@code edges} are the inner bin edges (bins are
 * {@code (-inf, e0], (e0, e1], ..., (e_last, +inf)}) and {@code fractions} holds one share per bin plus a last one for
 * missing values. Stored with each model version so monitoring can compare a night's data with what the model was
 * trained on (population stability index and Kolmogorov-Smirnov distance).
 */
public record FeatureProfile(List<Double> edges, List<Double> fractions) {
  static final double EPSILON = 1e-4;

  /** Profiles of {@code columns} in two passes: approximate deciles, then all bin counts in one aggregation. */
  public static Map<String, FeatureProfile> baseline(Dataset<Row> df, List<String> columns) {
    double[] probs = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
    Dataset<Row> clean = df;
    for (String c : columns) {
      clean = clean.withColumn(c, when(isnan(col(c)), lit(null)).otherwise(col(c).cast("double")));
    }
    double[][] q = clean.stat().approxQuantile(columns.toArray(new String[0]), probs, 0.001);
    Map<String, List<Double>> edges = new LinkedHashMap<>();
    for (int i = 0; i < columns.size(); i++) {
      List<Double> e = new ArrayList<>();
      for (double v : q[i]) {
        if (e.isEmpty() || v > e.get(e.size() - 1)) {
          e.add(v);
        }
      }
      edges.put(columns.get(i), e);
    }
    return profile(clean, edges);
  }

  /** Profiles of the columns of {@code df} at the given edges (one aggregation pass). */
  public static Map<String, FeatureProfile> profile(Dataset<Row> df, Map<String, List<Double>> edges) {
    List<Column> aggs = new ArrayList<>();
    aggs.add(count(lit(1)));
    for (Map.Entry<String, List<Double>> e : edges.entrySet()) {
      Column v = col(e.getKey()).cast("double");
      Column missing = v.isNull().or(isnan(v));
      List<Double> ed = e.getValue();
      for (int b = 0; b <= ed.size(); b++) {
        Column in = lit(true);
        if (b > 0) {
          in = in.and(v.gt(ed.get(b - 1)));
        }
        if (b < ed.size()) {
          in = in.and(v.leq(ed.get(b)));
        }
        aggs.add(sum(when(missing.unary_$bang().and(in), 1).otherwise(0)));
      }
      aggs.add(sum(when(missing, 1).otherwise(0)));
    }
    Row r = df.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).head();
    long n = r.getLong(0);
    Map<String, FeatureProfile> out = new LinkedHashMap<>();
    int i = 1;
    for (Map.Entry<String, List<Double>> e : edges.entrySet()) {
      List<Double> fractions = new ArrayList<>();
      for (int b = 0; b <= e.getValue().size() + 1; b++) {
        Object v = r.get(i++);
        long c = v == null ? 0 : ((Number) v).longValue();
        fractions.add(n == 0 ? 0.0 : (double) c / n);
      }
      out.put(e.getKey(), new FeatureProfile(List.copyOf(e.getValue()), fractions));
    }
    return out;
  }

  /**
   * Whether this profiles no rows at all: every row falls in one bin or the missing share, so all are then 0. (Not
   * named as a bean property: profiles are stored as JSON with the model.)
   */
  public boolean noRows() {
    return fractions.stream().allMatch(f -> f == 0.0);
  }

  /** Population stability index of {@code actual} against this baseline (same edges). */
  public double psi(FeatureProfile actual) {
    double psi = 0;
    for (int b = 0; b < fractions.size(); b++) {
      double e = Math.max(fractions.get(b), EPSILON);
      double a = Math.max(actual.fractions().get(b), EPSILON);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  /** Kolmogorov-Smirnov distance between the binned distributions of non-missing values. */
  public double ks(FeatureProfile actual) {
    int bins = fractions.size() - 1;
    double eTotal = 0;
    double aTotal = 0;
    for (int b = 0; b < bins; b++) {
      eTotal += fractions.get(b);
      aTotal += actual.fractions().get(b);
    }
    double eCum = 0;
    double aCum = 0;
    double ks = 0;
    for (int b = 0; b < bins; b++) {
      eCum += eTotal == 0 ? 0 : fractions.get(b) / eTotal;
      aCum += aTotal == 0 ? 0 : actual.fractions().get(b) / aTotal;
      ks = Math.max(ks, Math.abs(eCum - aCum));
    }
    return ks;
  }
}
