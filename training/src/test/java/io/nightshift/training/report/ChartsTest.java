package io.nightshift.training.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {
  @TempDir Path dir;

  static BufferedImage read(Path png) throws IOException {
    byte[] bytes = Files.readAllBytes(png);
    assertThat(bytes).startsWith(0x89, 'P', 'N', 'G');
    return ImageIO.read(png.toFile());
  }

  static boolean hasPixel(BufferedImage img, java.util.function.IntPredicate rgb) {
    for (int x = 0; x < img.getWidth(); x++) {
      for (int y = 0; y < img.getHeight(); y++) {
        if (rgb.test(img.getRGB(x, y) & 0xFFFFFF)) {
          return true;
        }
      }
    }
    return false;
  }

  @Test
  void barChartWithThresholdDrawsTheRedAlertLine() throws IOException {
    Map<String, Double> psi = new LinkedHashMap<>();
    psi.put("lag_7", 0.02);
    psi.put("rmean_28", 0.31);
    psi.put("price", Double.NaN); // no baseline: drawn as zero, not an exception
    BufferedImage img = read(Charts.bars(dir.resolve("drift.png"), "PSI per feature", "feature", "PSI", psi, 0.2));
    assertThat(img.getWidth()).isEqualTo(Charts.WIDTH);
    assertThat(img.getHeight()).isEqualTo(Charts.HEIGHT);
    assertThat(hasPixel(img, c -> c == 0xFF0000)).as("threshold line in red").isTrue();
    assertThat(hasPixel(img, c -> c != 0xFFFFFF)).isTrue();
  }

  @Test
  void barChartWithoutThresholdHasNoRedLine() throws IOException {
    BufferedImage img =
        read(Charts.bars(dir.resolve("importance.png"), "gain", "feature", "share", Map.of("lag_7", 0.6, "x", 0.4), null));
    assertThat(hasPixel(img, c -> c == 0xFF0000)).isFalse();
  }

  @Test
  void scatterAndDailyChartsRender() throws IOException {
    BufferedImage scatter =
        read(Charts.predictedVsActual(dir.resolve("pva.png"), "validation", new double[] {1, 2, 3}, new double[] {1.2, 1.9, 3.4}));
    assertThat(scatter.getWidth()).isEqualTo(Charts.WIDTH);
    List<LocalDate> days = new ArrayList<>();
    List<Double> actual = new ArrayList<>();
    List<Double> forecast = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      days.add(LocalDate.of(2024, 1, 1).plusDays(i));
      actual.add(10.0 + i);
      forecast.add(i == 4 ? null : 11.0 + i);
    }
    Map<String, List<Double>> series = new LinkedHashMap<>();
    series.put("actual", actual);
    series.put("forecast", forecast);
    Path png = Charts.daily(dir.resolve("nested/forecast_vs_actual.png"), "demand", "units", days, series);
    assertThat(png).exists();
    assertThat(read(png).getHeight()).isEqualTo(Charts.HEIGHT);
  }

  @Test
  void dailyDatesAreLabelledAsTheirDayWhateverTheDefaultTimeZone() {
    java.util.TimeZone before = java.util.TimeZone.getDefault();
    java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("America/New_York")); // UTC-5: midnight UTC is the day before
    try {
      List<LocalDate> days = List.of(LocalDate.of(2024, 3, 10), LocalDate.of(2024, 3, 11));
      org.knowm.xchart.XYChart chart =
          Charts.dailyChart("demand", "units", days, Map.of("actual", java.util.Arrays.asList(1.0, 2.0)));
      org.knowm.xchart.style.XYStyler styler = chart.getStyler();
      // the date axis formats its ticks as XChart 3.8.8 does: the styler's pattern and locale, in its time zone
      java.text.SimpleDateFormat ticks = new java.text.SimpleDateFormat(styler.getDatePattern(), styler.getLocale());
      ticks.setTimeZone(styler.getTimezone());
      List<String> labels = new ArrayList<>();
      for (Object x : chart.getSeriesMap().get("actual").getXData()) {
        labels.add(ticks.format(new java.util.Date(((Number) x).longValue())));
      }
      assertThat(labels).containsExactly("2024-03-10", "2024-03-11");
      assertThat(styler.getTimezone().getID()).isEqualTo("UTC");
    } finally {
      java.util.TimeZone.setDefault(before);
    }
  }

  @Test
  void emptyInputsStillGiveAChart() throws IOException {
    assertThat(read(Charts.bars(dir.resolve("e1.png"), "t", "x", "y", Map.of(), 0.2)).getWidth()).isEqualTo(Charts.WIDTH);
    assertThat(read(Charts.daily(dir.resolve("e2.png"), "t", "y", List.of(), Map.of("a", List.of()))).getWidth())
        .isEqualTo(Charts.WIDTH);
  }
}
