package io.nightshift.featurestore.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.Warehouse;
import io.nightshift.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The shipped YAML views over the real public datasets in {@code ../shared/data} (Store Item Demand, NASA C-MAPSS
 * FD001), built through configuration only: land the file under the warehouse, build the view. Skipped, with the
 * reason, when {@code ../shared/data} is absent.
 */
class PublicDatasetsAcceptanceTest {
  static final Path ROOT = Path.of(System.getProperty("nightshift.root", ".."));
  static final Path SHARED = ROOT.resolve("../shared/data").normalize();

  static Path dataset(String relative) {
    Path p = SHARED.resolve(relative);
    Assumptions.assumeTrue(
        Files.isRegularFile(p),
        "skipped: " + p + " is absent (the public datasets live in ../shared/data next to the repository)");
    return p;
  }

  static Warehouse land(Path file, String rawDir) throws IOException {
    Warehouse wh = new Warehouse(SparkTestSession.tempDir("public-data").toString());
    Path dir = Path.of(wh.path(rawDir));
    Files.createDirectories(dir);
    Files.copy(file, dir.resolve(file.getFileName()));
    return wh;
  }

  static Row row(Dataset<Row> df, String where) {
    List<Row> rows = df.where(where).collectAsList();
    assertThat(rows).as(where).hasSize(1);
    return rows.get(0);
  }

  @Test
  void storeItemDemandThroughYamlOnly() throws IOException {
    Path csv = dataset("store-item-demand/train_2013_2016.csv");
    SparkSession spark = SparkTestSession.get();
    Warehouse wh = land(csv, "raw/store-item-demand");
    ViewDefinition d = ViewDefinitions.load(ROOT.resolve("conf/features/store_item_demand.yaml"));

    ViewRegistry.Build b =
        ViewRegistry.build(spark, wh, d, "conf/features/store_item_demand.yaml", Optional.of(LocalDate.of(2013, 3, 31)), false);

    assertThat(b.rows()).isEqualTo(45_000L); // 10 stores x 50 items x 90 days of 2013-Q1
    Dataset<Row> t = spark.read().format("delta").load(b.tablePath());
    assertThat(t.selectExpr("max(date)").head().get(0).toString()).isEqualTo("2013-03-31");
    // store 1, item 1 sold 13, 11, 14 on 2013-01-01..03 (first lines of the file)
    Row jan4 = row(t, "store = 1 AND item = 1 AND date = DATE'2013-01-04'");
    assertThat((Double) jan4.getAs("sales_lag_1")).isEqualTo(14.0);
    assertThat((Double) jan4.getAs("sales_mean_7")).isCloseTo((13 + 11 + 14) / 3.0, within(1e-9));
    assertThat((Double) jan4.getAs("sales_max_7")).isEqualTo(14.0);
    assertThat((Double) jan4.getAs("day_of_week")).isEqualTo(5.0); // a Friday
    Row jan1 = row(t, "store = 1 AND item = 1 AND date = DATE'2013-01-01'");
    assertThat((Double) jan1.getAs("sales")).isEqualTo(13.0);
    assertThat((Object) jan1.getAs("sales_mean_7")).isNull();
  }

  @Test
  void cmapssRemainingUsefulLifeThroughYamlOnly() throws IOException {
    Path txt = dataset("cmapss/train_FD001.txt");
    SparkSession spark = SparkTestSession.get();
    Warehouse wh = land(txt, "raw/cmapss");
    ViewDefinition d = ViewDefinitions.load(ROOT.resolve("conf/features/cmapss_fd001.yaml"));

    ViewRegistry.Build b = ViewRegistry.build(spark, wh, d, "conf/features/cmapss_fd001.yaml", Optional.empty(), false);

    assertThat(b.rows()).isEqualTo(20_631L);
    Dataset<Row> t = spark.read().format("delta").load(b.tablePath());
    assertThat(t.select("unit").distinct().count()).isEqualTo(100L);
    // engine 1 ran 192 cycles: RUL counts down to 0 at its failure, capped at 125
    assertThat((Double) row(t, "unit = 1 AND cycle = 1").getAs("rul")).isEqualTo(125.0);
    assertThat((Double) row(t, "unit = 1 AND cycle = 100").getAs("rul")).isEqualTo(92.0);
    assertThat((Double) row(t, "unit = 1 AND cycle = 192").getAs("rul")).isEqualTo(0.0);
    assertThat(t.where("rul = 0").count()).isEqualTo(100L); // every training engine runs to failure
    // sensor 3 of engine 1 read 1589.70 and 1591.82 on cycles 1 and 2 (the window includes the current cycle)
    Row c2 = row(t, "unit = 1 AND cycle = 2");
    assertThat((Double) c2.getAs("s3_mean_10")).isCloseTo((1589.70 + 1591.82) / 2, within(1e-9));
    assertThat((Double) c2.getAs("s3")).isEqualTo(1591.82);
    assertThat((Double) c2.getAs("cycles_run")).isEqualTo(2.0);
    assertThat(t.where("s2 IS NULL OR s21 IS NULL").count()).isZero();
  }
}
