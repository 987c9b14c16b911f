package io.nightshift.training.report;

import io.nightshift.core.NightshiftException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG charts for run reports: MLflow artifacts at training (feature importance, predicted vs actual) and monitoring
 * reports after scoring (forecast vs actual, drift per feature). Rendered headless with XChart; each method writes
 * one file and returns its path.
 */
public final class Charts {
  static final int WIDTH = 900;
  static final int HEIGHT = 520;

  static {
    System.setProperty("java.awt.headless", "true");
  }

  private Charts() {}

  /**
   * A bar per category (in the map's order), optionally with a horizontal threshold line (e.g. the PSI alert
   * level).
   */
  public static Path bars(
      Path png, String title, String xTitle, String yTitle, Map<String, Double> values, Double threshold) {
    CategoryChart chart =
        new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    style(chart.getStyler());
    chart.getStyler().setXAxisLabelRotation(60);
    chart.getStyler().setLegendVisible(threshold != null);
    chart.getStyler().setOverlapped(true);
    List<String> names = new ArrayList<>(values.keySet());
    List<Double> ys = names.stream().map(n -> finite(values.get(n))).toList();
    if (names.isEmpty()) {
      names = List.of("(none)");
      ys = List.of(0.0);
    }
    chart.addSeries(yTitle, names, ys);
    if (threshold != null) {
      List<Double> line = names.stream().map(n -> threshold).toList();
      chart.addSeries("alert threshold " + threshold, names, line)
          .setChartCategorySeriesRenderStyle(org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle.Line)
          .setMarker(SeriesMarkers.NONE)
          .setLineColor(Color.RED);
    }
    return write(png, chart);
  }

  /** A scatter of predicted against actual values with the identity line. */
  public static Path predictedVsActual(Path png, String title, double[] actual, double[] predicted) {
    XYChart chart =
        new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("actual").yAxisTitle("predicted").build();
    style(chart.getStyler());
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    chart.getStyler().setMarkerSize(4);
    double[] x = actual.length == 0 ? new double[] {0} : actual;
    double[] y = predicted.length == 0 ? new double[] {0} : predicted;
    chart.addSeries("validation rows", x, y);
    double hi = 0;
    for (int i = 0; i < x.length; i++) {
      hi = Math.max(hi, Math.max(x[i], y[i]));
    }
    XYSeries identity = chart.addSeries("predicted = actual", new double[] {0, hi}, new double[] {0, hi});
    identity.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    identity.setMarker(SeriesMarkers.NONE);
    identity.setLineColor(Color.GRAY);
    identity.setLineStyle(new BasicStroke(1.5f));
    return write(png, chart);
  }

  /**
   * Daily series over dates, e.g. actual sales against the forecast and its P10-P90 band. Series are drawn as lines
   * in the map's order; a null value leaves a gap.
   */
  public static Path daily(Path png, String title, String yTitle, List<LocalDate> days, Map<String, List<Double>> series) {
    return write(png, dailyChart(title, yTitle, days, series));
  }

  /**
   * The chart of {@link #daily}. Days are UTC midnights, so the date axis formats them in UTC (XChart's default is the
   * JVM's time zone, which west of Greenwich labels each day as the one before).
   */
  static XYChart dailyChart(String title, String yTitle, List<LocalDate> days, Map<String, List<Double>> series) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("date").yAxisTitle(yTitle).build();
    style(chart.getStyler());
    chart.getStyler().setDatePattern("yyyy-MM-dd");
    chart.getStyler().setTimezone(java.util.TimeZone.getTimeZone("UTC"));
    chart.getStyler().setXAxisLabelRotation(45);
    List<Date> xs =
        days.isEmpty()
            ? List.of(new Date(0))
            : days.stream().map(d -> Date.from(d.atStartOfDay().toInstant(ZoneOffset.UTC))).toList();
    for (Map.Entry<String, List<Double>> e : series.entrySet()) {
      List<Double> ys = days.isEmpty() ? List.of(0.0) : e.getValue();
      XYSeries s = chart.addSeries(e.getKey(), xs, ys);
      s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
      s.setMarker(SeriesMarkers.CIRCLE);
    }
    return chart;
  }

  private static void style(Styler styler) {
    styler.setChartBackgroundColor(Color.WHITE);
    styler.setLegendPosition(Styler.LegendPosition.InsideNW);
    styler.setAntiAlias(true);
  }

  private static double finite(Double v) {
    return v == null || v.isNaN() || v.isInfinite() ? 0.0 : v;
  }

  private static Path write(Path png, Chart<?, ?> chart) {
    try {
      if (png.getParent() != null) {
        Files.createDirectories(png.getParent());
      }
      Files.write(png, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
      return png;
    } catch (IOException | RuntimeException | LinkageError | java.awt.AWTError e) {
      throw new NightshiftException(
          "Cannot render chart " + png + ": " + e
              + ". Headless Java needs fontconfig and a font package (e.g. Debian's fontconfig and fonts-dejavu-core).",
          e);
    }
  }
}
