package io.nightshift.scoring.monitoring;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * A monitoring run's metrics in the Prometheus text exposition format (version 0.0.4), for a Pushgateway: batch jobs
 * do not live long enough to be scraped, so each run pushes its last values, grouped by job and use case (realized
 * accuracy by horizon and model version), and an
 * alert rule on {@code nightshift_monitor_last_success_timestamp_seconds} catches nights that did not run.
 */
public final class PrometheusMetrics {
  private PrometheusMetrics() {}

  public static String render(Monitor.Result r, Instant finishedAt) {
    StringBuilder out = new StringBuilder();
    Row s = r.stats();
    gauge(out, "nightshift_monitor_date_seconds", "The scored night, as a Unix timestamp (UTC midnight).",
        epoch(r.date()));
    gauge(out, "nightshift_monitor_last_success_timestamp_seconds", "When this monitoring run finished.",
        finishedAt.getEpochSecond());
    gauge(out, "nightshift_predictions", "Predictions written for the night.", s.<Long>getAs("rows"));
    gauge(out, "nightshift_prediction_mean", "Mean prediction of the night.", s.<Double>getAs("mean"));
    gauge(out, "nightshift_retraining_signals", "Retraining signals raised by this run.", r.signals().size());
    header(out, "nightshift_feature_psi", "Population stability index of a column against the training baseline.");
    for (Row d : r.drift()) {
      sample(out, "nightshift_feature_psi", label("column", d.getAs("column")), d.<Double>getAs("psi"));
    }
    header(out, "nightshift_feature_ks", "Kolmogorov-Smirnov distance of a column against the training baseline.");
    for (Row d : r.drift()) {
      sample(out, "nightshift_feature_ks", label("column", d.getAs("column")), d.<Double>getAs("ks"));
    }
    List<String> metrics = List.of("wape", "bias", "coverage_p10_p90", "pinball", "precision", "recall");
    for (String m : metrics) {
      String name = "nightshift_realized_" + m;
      boolean any = r.accuracy().stream().anyMatch(a -> a.schema().getFieldIndex(m).isDefined() && !a.isNullAt(a.fieldIndex(m)));
      if (!any) {
        continue;
      }
      header(out, name, "Realized " + m.replace('_', ' ') + " of forecasts whose outcome is known, by horizon.");
      for (Row a : r.accuracy()) {
        if (a.schema().getFieldIndex(m).isDefined() && !a.isNullAt(a.fieldIndex(m))) {
          String labels = label("horizon_days", String.valueOf(a.<Integer>getAs("horizon_days")));
          if (a.schema().getFieldIndex("model_version").isDefined() && !a.isNullAt(a.fieldIndex("model_version"))) {
            labels += "," + label("model_version", a.getAs("model_version")); // one series per version and horizon
          }
          sample(out, name, labels, a.<Double>getAs(m));
        }
      }
    }
    return out.toString();
  }

  private static long epoch(LocalDate d) {
    return d.atStartOfDay().toEpochSecond(ZoneOffset.UTC);
  }

  private static void header(StringBuilder out, String name, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" gauge\n");
  }

  private static void gauge(StringBuilder out, String name, String help, Number value) {
    header(out, name, help);
    out.append(name).append(' ').append(format(value)).append('\n');
  }

  private static String label(String label, String value) {
    return label + "=\"" + escape(value) + "\"";
  }

  private static void sample(StringBuilder out, String name, String labels, Number value) {
    out.append(name).append('{').append(labels).append("} ").append(format(value)).append('\n');
  }

  static String format(Number v) {
    if (v == null) {
      return "NaN";
    }
    double d = v.doubleValue();
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "+Inf" : "-Inf";
    }
    if (v instanceof Long || v instanceof Integer) {
      return Long.toString(v.longValue());
    }
    return Double.toString(d); // e.g. 0.25 or 1.0E-5, both valid for Prometheus' float parser
  }

  /** Label values escape backslash, double quote and newline. */
  static String escape(String v) {
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
