package io.nightshift.featurestore.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nightshift.core.InvalidInputException;
import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.DeltaTables;
import io.nightshift.featurestore.views.ViewDefinition.Format;
import io.nightshift.featurestore.views.ViewDefinition.Function;
import io.nightshift.featurestore.views.ViewDefinition.TimeType;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class ViewRegistryTest {
  static ViewDefinition view(int window) {
    Map<String, String> cols = new LinkedHashMap<>();
    cols.put("day", "date");
    cols.put("machine", "int");
    cols.put("temp", "double");
    return ViewDefinition.builder("machine_temps")
        .description("temperatures")
        .owner("maintenance")
        .entities("machine")
        .eventTime("day", TimeType.DATE)
        .source(Format.DELTA, "raw/temps", Map.of(), cols)
        .aggregate("temp", List.of(Function.MEAN), List.of(window))
        .build();
  }

  @Test
  void buildsRecordLineageAndAChangedDefinitionNeedsAnExplicitBackfill() {
    SparkSession spark = SparkTestSession.get();
    Warehouse wh = new Warehouse(SparkTestSession.tempDir("registry").toString());
    spark.sql("SELECT DATE'2024-01-01' + CAST(id % 5 AS INT) AS day, CAST(id / 5 AS INT) AS machine, id * 1.5 AS temp"
            + " FROM range(20)")
        .write().format("delta").save(wh.path("raw/temps"));
    LocalDate asOf = LocalDate.of(2024, 1, 5);

    ViewRegistry.Build first = ViewRegistry.build(spark, wh, view(3), "conf/features/machine_temps.yaml", Optional.of(asOf), false);
    assertThat(first.rows()).isEqualTo(20L);
    assertThat(first.tableVersion()).isZero();
    assertThat(first.sourceVersion()).contains(0L);
    assertThat(first.tablePath()).isEqualTo(wh.featureView("machine_temps"));

    // same definition again: the table is replaced in one commit, same rows (collected before the second build)
    List<Row> firstRows =
        spark.read().format("delta").load(first.tablePath()).orderBy("machine", "day").collectAsList();
    assertThat(firstRows).hasSize(20);
    ViewRegistry.Build again = ViewRegistry.build(spark, wh, view(3), "conf/features/machine_temps.yaml", Optional.of(asOf), false);
    assertThat(again.tableVersion()).isEqualTo(1L);
    assertThat(again.hash()).isEqualTo(first.hash());
    assertThat(spark.read().format("delta").load(first.tablePath()).orderBy("machine", "day").collectAsList())
        .isEqualTo(firstRows);

    List<Row> history = ViewRegistry.history(spark, wh, "machine_temps").collectAsList();
    assertThat(history).hasSize(2);
    Row r = history.get(0);
    assertThat((String) r.getAs("definition_hash")).isEqualTo(first.hash());
    assertThat((String) r.getAs("owner")).isEqualTo("maintenance");
    assertThat((String) r.getAs("description")).isEqualTo("temperatures");
    assertThat((String) r.getAs("source_format")).isEqualTo("delta");
    assertThat((String) r.getAs("source_path")).isEqualTo(wh.path("raw/temps"));
    assertThat((Long) r.getAs("source_version")).isZero();
    assertThat((Long) r.getAs("table_version")).isZero();
    assertThat((Long) history.get(1).getAs("table_version")).isEqualTo(1L);
    assertThat(r.getList(r.fieldIndex("features"))).containsExactly("temp_mean_3");
    assertThat(r.getList(r.fieldIndex("entities"))).containsExactly("machine");
    assertThat((String) r.getAs("table_schema")).contains("\"temp_mean_3\"").contains("\"machine\"");
    assertThat(r.getAs("as_of").toString()).isEqualTo("2024-01-05");

    // a changed window: refused with the file, both hashes and the fix; the table is untouched
    assertThatThrownBy(() -> ViewRegistry.build(spark, wh, view(4), "conf/features/machine_temps.yaml", Optional.of(asOf), false))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("conf/features/machine_temps.yaml")
        .hasMessageContaining(first.hash())
        .hasMessageContaining(ViewDefinitions.definitionHash(view(4)))
        .hasMessageContaining("--backfill");
    assertThat(DeltaTables.version(spark, first.tablePath())).isEqualTo(1L);

    ViewRegistry.Build backfilled = ViewRegistry.build(spark, wh, view(4), "conf/features/machine_temps.yaml", Optional.of(asOf), true);
    assertThat(backfilled.hash()).isNotEqualTo(first.hash());
    assertThat(ViewRegistry.latestHash(spark, wh, "machine_temps")).contains(backfilled.hash());
    assertThat(spark.read().format("delta").load(first.tablePath()).columns()).contains("temp_mean_4").doesNotContain("temp_mean_3");
  }
}
