package io.nightshift.featurestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.tables.DeltaTable;
import io.nightshift.core.InvalidInputException;
import io.nightshift.core.UseCase;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class HousekeepingTest {
  @Test
  void compactsZOrdersVacuumsAndKeepsTheData() {
    SparkSession spark = SparkTestSession.get();
    Warehouse w = new Warehouse(SparkTestSession.tempDir("housekeeping").toString());
    LocalDate asOf = LocalDate.of(2023, 4, 30);
    SyntheticData.generate(spark, w, new GeneratorConfig(1, LocalDate.of(2023, 1, 1), asOf, 2, 2, 2, 7));
    String path = w.features(UseCase.DEMAND);
    DeltaTables.overwrite(DemandFeatures.compute(spark, w, asOf).repartition(6), path);
    long rows = spark.read().format("delta").load(path).count();

    List<Housekeeping.TableReport> reports = Housekeeping.run(spark, w, Housekeeping.MIN_RETENTION_HOURS);
    Housekeeping.TableReport r = reports.get(0);
    assertThat(r.table()).isEqualTo(path);
    assertThat(r.zOrderBy()).isEqualTo("store,item");
    assertThat(r.filesBefore()).isEqualTo(6);
    assertThat(r.filesAfter()).isEqualTo(1);
    assertThat(spark.read().format("delta").load(path).count()).isEqualTo(rows);
    List<String> operations =
        DeltaTable.forPath(spark, path).history().select("operation").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertThat(operations).contains("OPTIMIZE", "SET TBLPROPERTIES", "VACUUM END");
    Row props = spark.sql("SHOW TBLPROPERTIES delta.`" + path + "` ('delta.deletedFileRetentionDuration')").head();
    assertThat(props.getString(1)).isEqualTo("interval 168 hours");
  }

  @Test
  void refusesUnsafeRetention() {
    Warehouse w = new Warehouse(SparkTestSession.tempDir("housekeeping2").toString());
    assertThatThrownBy(() -> Housekeeping.run(SparkTestSession.get(), w, 1))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--retention-hours")
        .hasMessageContaining("at least 168 hours");
  }
}
