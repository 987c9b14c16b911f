package io.nightshift.featurestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.NightshiftException;
import io.nightshift.core.Warehouse;
import io.nightshift.testing.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** The raw landing zone's CSV reads: a value that does not parse is an input error naming the file, row and column. */
class RawDataTest {
  static final String SALES_HEADER = "date,store,item,sales\n";
  static final String ITEMS = "item,category,pack_size,lead_time_days,unit_cost\n1,food,6,3,1.5\n";

  static Warehouse warehouseWith(String name, String secondSalesFile) throws Exception {
    Path root = SparkTestSession.tempDir(name);
    Warehouse w = new Warehouse(root.toString());
    Path sales = Path.of(w.rawSales());
    Files.createDirectories(sales);
    Files.writeString(sales.resolve("part-0.csv"), SALES_HEADER + "2024-01-01,1,1,3\n2024-01-02,1,1,5\n");
    Files.writeString(sales.resolve("part-1.csv"), SALES_HEADER + secondSalesFile);
    Path items = Path.of(w.rawItems());
    Files.createDirectories(items);
    Files.writeString(items.resolve("part-0.csv"), ITEMS);
    return w;
  }

  @Test
  void aValueThatDoesNotParseFailsTheReadAndIsExplainedWithFileRowAndColumn() throws Exception {
    // the bad row is the second of its file: Spark's own message names neither the file nor the column
    Warehouse w = warehouseWith("raw-malformed", "2024-01-03,1,1,7\n2024-01-04,1,1,4.5\n2024-01-05,1,1,2\n");
    SparkSession spark = SparkTestSession.get();
    Throwable failure =
        catchThrowable(() -> RawData.read(spark, w.rawSales(), "raw/sales", RawData.SALES).collectAsList());
    assertThat(failure).isNotNull();
    assertThat(MalformedRows.isMalformedRecord(failure)).isTrue();

    Optional<InvalidInputException> explained = RawData.explainMalformed(spark, w, failure);
    assertThat(explained).isPresent();
    assertThat(explained.get())
        .hasMessage(
            "Malformed row in raw/sales (" + w.rawSales() + "): file " + Path.of(w.rawSales(), "part-1.csv").toUri()
                + ", row '2024-01-04,1,1,4.5': column sales (int) cannot be '4.5'. Fix: correct or remove the row and"
                + " run the job again (raw/sales has the columns date date, store int, item int, sales int).")
        .hasCause(failure);
  }

  @Test
  void otherFailuresAndCleanDataAreNotExplainedAsMalformedRows() throws Exception {
    Warehouse clean = warehouseWith("raw-clean", "2024-01-03,1,1,7\n");
    SparkSession spark = SparkTestSession.get();
    assertThat(RawData.read(spark, clean.rawSales(), "raw/sales", RawData.SALES).count()).isEqualTo(3);
    // not a parse failure: nothing to explain
    assertThat(RawData.explainMalformed(spark, clean, new NightshiftException("disk full"))).isEmpty();
    // a parse failure, but no raw row is to blame (e.g. it came from another source): the original failure stands
    Throwable elsewhere = new NightshiftException("Job aborted: [MALFORMED_RECORD_IN_PARSING] in some other file");
    assertThat(RawData.explainMalformed(spark, clean, elsewhere)).isEmpty();
  }
}
