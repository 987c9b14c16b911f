package io.nightshift.featurestore.pit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.nightshift.testing.SparkTestSession;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Point-in-time join on small hand-made tables whose expected values are worked out by hand. */
class PointInTimeJoinTest {
  static SparkSession spark;

  static final StructType SPINE =
      new StructType()
          .add("id", DataTypes.IntegerType)
          .add("ts", DataTypes.TimestampType)
          .add("label", DataTypes.StringType);
  static final StructType FEATURES =
      new StructType()
          .add("id", DataTypes.IntegerType)
          .add("event_time", DataTypes.TimestampType)
          .add("x", DataTypes.DoubleType)
          .add("y", DataTypes.StringType);

  @BeforeAll
  static void session() {
    spark = SparkTestSession.get();
  }

  static Timestamp ts(String instant) {
    return Timestamp.from(Instant.parse(instant));
  }

  static Date date(String d) {
    return Date.valueOf(LocalDate.parse(d));
  }

  static Dataset<Row> df(StructType schema, Object[]... rows) {
    return spark.createDataFrame(Arrays.stream(rows).map(RowFactory::create).toList(), schema);
  }

  /** Output rows as tuples of the named columns, in a fixed order. */
  static List<Tuple> rows(Dataset<Row> out, String... columns) {
    return out.collectAsList().stream()
        .map(r -> new Tuple(Arrays.stream(columns).map(c -> r.get(r.fieldIndex(c))).toArray()))
        .sorted((a, b) -> Arrays.toString(a.toArray()).compareTo(Arrays.toString(b.toArray())))
        .toList();
  }

  @Test
  void takesTheLatestRowAtOrBeforeTheSpineTimeAsAWhole() {
    Dataset<Row> spine =
        df(
            SPINE,
            new Object[] {1, ts("2024-01-10T12:00:00Z"), "a"},
            new Object[] {1, ts("2024-01-10T12:00:00Z"), "a"}, // duplicate spine row: kept twice
            new Object[] {1, ts("2024-01-05T00:00:00Z"), "b"},
            new Object[] {2, ts("2024-01-10T00:00:00Z"), "c"},
            new Object[] {3, ts("2024-01-10T00:00:00Z"), "d"}); // no feature rows at all
    Dataset<Row> features =
        df(
            FEATURES,
            new Object[] {1, ts("2024-01-01T00:00:00Z"), 1.0, "p"},
            new Object[] {1, ts("2024-01-05T00:00:00Z"), 2.0, null}, // exactly at b's time: used by b
            new Object[] {1, ts("2024-01-08T00:00:00Z"), null, "q"}, // latest for a: x stays null, no fallback to 2.0
            new Object[] {1, ts("2024-01-10T12:00:01Z"), 999.0, "future"},
            new Object[] {2, ts("2024-01-09T00:00:00Z"), 5.0, "r"},
            new Object[] {2, ts("2024-01-11T00:00:00Z"), 999.0, "future"});

    Dataset<Row> out =
        PointInTimeJoin.spine(spine, List.of("id"), "ts")
            .with(FeatureTable.of("f", features, "event_time", List.of("x", "y")))
            .result();

    assertThat(out.columns()).containsExactly("id", "ts", "label", "x", "y");
    assertThat(rows(out, "label", "x", "y"))
        .containsExactly(
            tuple("a", null, "q"), tuple("a", null, "q"), tuple("b", 2.0, null), tuple("c", 5.0, "r"), tuple("d", null, null));
    assertThat(rows(out, "label", "id", "ts"))
        .containsExactlyInAnyOrderElementsOf(rows(spine, "label", "id", "ts"));
  }

  @Test
  void neverUsesRowsAfterTheSpineTime() {
    Dataset<Row> spine = df(SPINE, new Object[] {1, ts("2024-03-01T10:00:00Z"), "s"});
    Dataset<Row> features =
        df(
            FEATURES,
            new Object[] {1, ts("2024-03-01T09:59:59Z"), 1.0, "before"},
            new Object[] {1, ts("2024-03-01T10:00:00.000001Z"), 999.0, "1us after"},
            new Object[] {1, ts("2024-03-01T10:00:01Z"), 999.0, "1s after"},
            new Object[] {1, ts("2024-03-02T10:00:00Z"), 999.0, "1 day after"});
    FeatureTable table = FeatureTable.of("f", features, "event_time", List.of("x", "y"));
    assertThat(rows(PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(table)), "x", "y"))
        .containsExactly(tuple(1.0, "before"));

    // A row exactly at the spine time is known at that time and is used.
    Dataset<Row> withExact =
        features.union(df(FEATURES, new Object[] {1, ts("2024-03-01T10:00:00Z"), 2.0, "exact"}));
    FeatureTable exact = FeatureTable.of("f", withExact, "event_time", List.of("x", "y"));
    assertThat(rows(PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(exact)), "x", "y"))
        .containsExactly(tuple(2.0, "exact"));
  }

  @Test
  void neverUsesFutureDatesAndTreatsDatesAsMidnight() {
    StructType dailySpine = new StructType().add("id", DataTypes.IntegerType).add("day", DataTypes.DateType);
    StructType daily =
        new StructType().add("id", DataTypes.IntegerType).add("day", DataTypes.DateType).add("x", DataTypes.DoubleType);
    Dataset<Row> spine = df(dailySpine, new Object[] {1, date("2024-03-10")}, new Object[] {2, date("2024-03-10")});
    Dataset<Row> features =
        df(
            daily,
            new Object[] {1, date("2024-03-09"), 1.0},
            new Object[] {1, date("2024-03-10"), 2.0}, // same day: used
            new Object[] {1, date("2024-03-11"), 999.0},
            new Object[] {2, date("2024-03-09"), 3.0},
            new Object[] {2, date("2024-03-11"), 999.0},
            new Object[] {2, date("2024-04-10"), 999.0});
    Dataset<Row> out =
        PointInTimeJoin.join(spine, List.of("id"), "day", List.of(FeatureTable.of("daily", features, "day", List.of("x"))));
    assertThat(rows(out, "id", "x")).containsExactly(tuple(1, 2.0), tuple(2, 3.0));

    // Timestamped features against a date spine: the spine date is midnight, so 00:00:01 that day is the future.
    Dataset<Row> timed =
        df(
            FEATURES,
            new Object[] {1, ts("2024-03-09T23:59:59Z"), 1.0, "day before"},
            new Object[] {1, ts("2024-03-10T00:00:01Z"), 999.0, "1s after midnight"},
            new Object[] {2, ts("2024-03-10T00:00:00Z"), 4.0, "midnight"});
    Dataset<Row> mixed =
        PointInTimeJoin.join(spine, List.of("id"), "day", List.of(FeatureTable.of("timed", timed, "event_time", List.of("x", "y"))));
    assertThat(rows(mixed, "id", "x", "y")).containsExactly(tuple(1, 1.0, "day before"), tuple(2, 4.0, "midnight"));
  }

  @Test
  void staleRowsGiveNulls() {
    Dataset<Row> spine =
        df(
            SPINE,
            new Object[] {1, ts("2024-01-10T12:00:00Z"), "exactly 2h old"},
            new Object[] {2, ts("2024-01-10T12:00:00Z"), "2h 1s old"},
            new Object[] {3, ts("2024-01-10T12:00:00Z"), "fresh"});
    Dataset<Row> features =
        df(
            FEATURES,
            new Object[] {1, ts("2024-01-10T10:00:00Z"), 1.0, "a"},
            new Object[] {2, ts("2024-01-10T09:59:59Z"), 2.0, "b"},
            new Object[] {3, ts("2024-01-01T00:00:00Z"), 8.0, "old"},
            new Object[] {3, ts("2024-01-10T11:30:00Z"), 3.0, "c"});
    FeatureTable table = FeatureTable.of("f", features, "event_time", List.of("x", "y")).withMaxStaleness(Duration.ofHours(2));
    assertThat(rows(PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(table)), "label", "x", "y"))
        .containsExactly(tuple("2h 1s old", null, null), tuple("exactly 2h old", 1.0, "a"), tuple("fresh", 3.0, "c"));

    StructType dailySpine = new StructType().add("id", DataTypes.IntegerType).add("day", DataTypes.DateType);
    StructType daily =
        new StructType().add("id", DataTypes.IntegerType).add("day", DataTypes.DateType).add("x", DataTypes.DoubleType);
    Dataset<Row> days = df(dailySpine, new Object[] {1, date("2024-03-10")}, new Object[] {2, date("2024-03-10")});
    Dataset<Row> dailyFeatures =
        df(daily, new Object[] {1, date("2024-03-07"), 1.0}, new Object[] {2, date("2024-03-06"), 2.0});
    FeatureTable threeDays = FeatureTable.of("daily", dailyFeatures, "day", List.of("x")).withMaxStalenessDays(3);
    assertThat(rows(PointInTimeJoin.join(days, List.of("id"), "day", List.of(threeDays)), "id", "x"))
        .containsExactly(tuple(1, 1.0), tuple(2, null));
  }

  @Test
  void spineRowsWithoutMatchOrWithNullKeyOrTimeKeepNulls() {
    Dataset<Row> spine =
        df(
            SPINE,
            new Object[] {1, ts("2024-01-01T00:00:00Z"), "before any feature"},
            new Object[] {9, ts("2024-01-10T00:00:00Z"), "unknown entity"},
            new Object[] {null, ts("2024-01-10T00:00:00Z"), "null key"},
            new Object[] {1, null, "null time"});
    Dataset<Row> features =
        df(
            FEATURES,
            new Object[] {1, ts("2024-01-02T00:00:00Z"), 1.0, "a"},
            new Object[] {null, ts("2024-01-02T00:00:00Z"), 7.0, "null key"},
            new Object[] {1, null, 7.0, "null time"});
    Dataset<Row> out =
        PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(FeatureTable.of("f", features, "event_time", List.of("x", "y"))));
    assertThat(out.count()).isEqualTo(4);
    assertThat(rows(out, "label", "x", "y"))
        .containsExactly(
            tuple("before any feature", null, null),
            tuple("null key", null, null),
            tuple("null time", null, null),
            tuple("unknown entity", null, null));
  }

  @Test
  void joinsSeveralTablesWithPrefixesAndKeyMapping() {
    StructType spineSchema =
        new StructType()
            .add("store", DataTypes.IntegerType)
            .add("item", DataTypes.StringType)
            .add("ts", DataTypes.TimestampType)
            .add("label", DataTypes.DoubleType);
    Dataset<Row> spine =
        df(
            spineSchema,
            new Object[] {1, "A", ts("2024-01-10T00:00:00Z"), 10.0},
            new Object[] {1, "B", ts("2024-01-10T00:00:00Z"), 20.0},
            new Object[] {2, "A", ts("2024-01-05T00:00:00Z"), 30.0});
    StructType salesSchema =
        new StructType()
            .add("store_id", DataTypes.IntegerType)
            .add("item", DataTypes.StringType)
            .add("updated", DataTypes.TimestampType)
            .add("value", DataTypes.DoubleType);
    Dataset<Row> sales =
        df(
            salesSchema,
            new Object[] {1, "A", ts("2024-01-09T00:00:00Z"), 1.5},
            new Object[] {1, "B", ts("2024-01-03T00:00:00Z"), 2.5},
            new Object[] {2, "A", ts("2024-01-04T00:00:00Z"), 3.5},
            new Object[] {2, "A", ts("2024-01-06T00:00:00Z"), 999.0});
    StructType priceSchema =
        new StructType()
            .add("store", DataTypes.IntegerType)
            .add("item", DataTypes.StringType)
            .add("day", DataTypes.DateType)
            .add("value", DataTypes.DoubleType);
    Dataset<Row> prices =
        df(
            priceSchema,
            new Object[] {1, "A", date("2024-01-01"), 9.0},
            new Object[] {1, "A", date("2024-01-10"), 9.5},
            new Object[] {1, "B", date("2024-01-11"), 999.0},
            new Object[] {2, "A", date("2024-01-02"), 7.0});
    Dataset<Row> out =
        PointInTimeJoin.spine(spine, List.of("store", "item"), "ts")
            .with(
                FeatureTable.of("sales", sales, "updated", List.of("value", "updated"))
                    .withPrefix("sales_")
                    .withKeyMapping(Map.of("store", "store_id")))
            .with(FeatureTable.of("prices", prices, "day", List.of("value")).withPrefix("price_"))
            .partitions(3)
            .result();
    assertThat(out.columns())
        .containsExactly("store", "item", "ts", "label", "sales_value", "sales_updated", "price_value");
    assertThat(rows(out, "store", "item", "label", "sales_value", "sales_updated", "price_value"))
        .containsExactly(
            tuple(1, "A", 10.0, 1.5, ts("2024-01-09T00:00:00Z"), 9.5),
            tuple(1, "B", 20.0, 2.5, ts("2024-01-03T00:00:00Z"), null),
            tuple(2, "A", 30.0, 3.5, ts("2024-01-04T00:00:00Z"), 7.0));
  }

  @Test
  void tiesNeedATiebreakOrFailNamingTheTable() {
    StructType schema = FEATURES.add("version", DataTypes.IntegerType);
    Dataset<Row> spine = df(SPINE, new Object[] {1, ts("2024-01-10T00:00:00Z"), "s"});
    Dataset<Row> tied =
        df(
            schema,
            new Object[] {1, ts("2024-01-02T00:00:00Z"), 1.0, "old tie", 1},
            new Object[] {1, ts("2024-01-02T00:00:00Z"), 1.5, "old tie", 2},
            new Object[] {1, ts("2024-01-05T00:00:00Z"), 2.0, "v1", 1},
            new Object[] {1, ts("2024-01-05T00:00:00Z"), 3.0, "v2", 2});
    FeatureTable table = FeatureTable.of("tied_table", tied, "event_time", List.of("x", "y"));
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(table)).collectAsList())
        .hasStackTraceContaining("feature table 'tied_table': several rows have the same keys [id]")
        .hasStackTraceContaining("withTiebreak");

    assertThat(rows(PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(table.withTiebreak("version"))), "x", "y"))
        .containsExactly(tuple(3.0, "v2"));

    // A tie that no spine row takes (superseded by a later row) is harmless.
    Dataset<Row> later = tied.where("x < 2").union(df(schema, new Object[] {1, ts("2024-01-03T00:00:00Z"), 4.0, "later", 1}));
    assertThat(rows(PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(FeatureTable.of("t", later, "event_time", List.of("x")))), "x"))
        .containsExactly(tuple(4.0));
  }

  @Test
  void rejectsBadInputNamingTableAndColumn() {
    Dataset<Row> spine = df(SPINE, new Object[] {1, ts("2024-01-10T00:00:00Z"), "s"});
    Dataset<Row> features = df(FEATURES, new Object[] {1, ts("2024-01-02T00:00:00Z"), 1.0, "a"});
    FeatureTable ok = FeatureTable.of("feats", features, "event_time", List.of("x", "y"));

    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(FeatureTable.of("feats", features, "event_time", List.of("x", "nope")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("feature table 'feats'")
        .hasMessageContaining("no feature column 'nope'");
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(FeatureTable.of("feats", features, "when", List.of("x")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("feature table 'feats'")
        .hasMessageContaining("no event time column 'when'");
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(FeatureTable.of("feats", features, "y", List.of("x")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("time column 'y' has type string");
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(ok.withKeyMapping(Map.of("id", "entity")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("feature table 'feats'")
        .hasMessageContaining("no key column 'entity' for spine key 'id'");
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(ok.withKeyMapping(Map.of("store", "id")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'store', which is not a spine key");
    Dataset<Row> longKeys = features.withColumn("id", features.col("id").cast("long"));
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(FeatureTable.of("long_keys", longKeys, "event_time", List.of("x")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("feature table 'long_keys'")
        .hasMessageContaining("key column 'id' has type bigint but spine key 'id' has type int");
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(FeatureTable.of("feats", features, "event_time", List.of("label")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no feature column 'label'");
    Dataset<Row> labelled = features.withColumn("label", features.col("y"));
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(FeatureTable.of("labelled", labelled, "event_time", List.of("label")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("feature table 'labelled'")
        .hasMessageContaining("output column 'label'")
        .hasMessageContaining("clashes with a column of the spine");
    assertThatThrownBy(() -> PointInTimeJoin.spine(spine, List.of("id"), "ts").with(ok).with(FeatureTable.of("again", features, "event_time", List.of("x"))).result())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("feature table 'again'")
        .hasMessageContaining("output column 'x'")
        .hasMessageContaining("clashes with a column of feature table 'feats'");
    assertThat(PointInTimeJoin.spine(spine, List.of("id"), "ts").with(ok).with(FeatureTable.of("again", features, "event_time", List.of("x")).withPrefix("again_")).result().columns())
        .containsExactly("id", "ts", "label", "x", "y", "again_x");
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("entity"), "ts", List.of(ok)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("spine has no key column 'entity'");
    assertThatThrownBy(() -> PointInTimeJoin.join(spine, List.of("id"), "label", List.of(ok)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("spine: time column 'label' has type string");
    assertThatThrownBy(() -> FeatureTable.of("empty", features, "event_time", List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("feature table 'empty'");
    assertThatThrownBy(() -> ok.withMaxStaleness(Duration.ofHours(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max staleness");
    StructType dailySpine = new StructType().add("id", DataTypes.IntegerType).add("day", DataTypes.DateType);
    StructType daily =
        new StructType().add("id", DataTypes.IntegerType).add("day", DataTypes.DateType).add("x", DataTypes.DoubleType);
    FeatureTable hours = FeatureTable.of("daily", df(daily), "day", List.of("x")).withMaxStaleness(Duration.ofHours(36));
    assertThatThrownBy(() -> PointInTimeJoin.join(df(dailySpine), List.of("id"), "day", List.of(hours)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("feature table 'daily'")
        .hasMessageContaining("not whole days");
  }

  @Test
  void handlesColumnNamesWithDots() {
    StructType spineSchema =
        new StructType().add("entity.id", DataTypes.IntegerType).add("ts", DataTypes.TimestampType).add("label.v1", DataTypes.StringType);
    StructType featureSchema =
        new StructType().add("entity.id", DataTypes.IntegerType).add("event.time", DataTypes.TimestampType).add("x.y", DataTypes.DoubleType);
    Dataset<Row> spine = df(spineSchema, new Object[] {1, ts("2024-01-10T00:00:00Z"), "s"});
    Dataset<Row> features =
        df(featureSchema, new Object[] {1, ts("2024-01-02T00:00:00Z"), 1.0}, new Object[] {1, ts("2024-01-11T00:00:00Z"), 999.0});
    Dataset<Row> out =
        PointInTimeJoin.join(spine, List.of("entity.id"), "ts", List.of(FeatureTable.of("dotted", features, "event.time", List.of("x.y")).withPrefix("f.")));
    assertThat(out.columns()).containsExactly("entity.id", "ts", "label.v1", "f.x.y");
    assertThat(rows(out, "entity.id", "label.v1", "f.x.y")).containsExactly(tuple(1, "s", 1.0));
  }

  @Test
  void usesOneShuffleAndNoJoinPerTable() {
    Dataset<Row> spine = df(SPINE, new Object[] {1, ts("2024-01-10T00:00:00Z"), "s"});
    Dataset<Row> features = df(FEATURES, new Object[] {1, ts("2024-01-02T00:00:00Z"), 1.0, "a"});
    Dataset<Row> out =
        PointInTimeJoin.join(spine, List.of("id"), "ts", List.of(FeatureTable.of("f", features, "event_time", List.of("x"))));
    String plan = out.queryExecution().executedPlan().toString();
    assertThat(plan).doesNotContain("Join");
    assertThat(plan.split("Exchange hashpartitioning", -1)).hasSize(2);
    assertThat(plan.split("Sort \\[", -1)).hasSize(2);
  }
}
