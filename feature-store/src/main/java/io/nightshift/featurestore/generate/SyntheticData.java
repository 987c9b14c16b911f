package io.nightshift.featurestore.generate;

import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.RawData;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nightshift's own realistic data generator, for demos and scale tests. Series are simulated in parallel on the
 * executors (one deterministic random stream per series), so any scale works and the output does not depend on the
 * number of partitions.
 *
 * <p>Writes the raw landing zone: {@code raw/sales}, {@code raw/price_plan} (extends {@code planDays} into the future),
 * {@code raw/inventory}, {@code raw/items}, {@code raw/telemetry} and {@code raw/maintenance_log}.
 */
public final class SyntheticData {
  private static final Logger LOG = LoggerFactory.getLogger(SyntheticData.class);

  private static final StructType DEMAND_ROW =
      new StructType()
          .add("date", DataTypes.DateType)
          .add("store", DataTypes.IntegerType)
          .add("item", DataTypes.IntegerType)
          .add("sales", DataTypes.IntegerType)
          .add("price", DataTypes.DoubleType)
          .add("on_promo", DataTypes.IntegerType)
          .add("on_hand", DataTypes.IntegerType)
          .add("on_order", DataTypes.IntegerType);

  private static final StructType MACHINE_ROW =
      new StructType()
          .add("kind", DataTypes.StringType)
          .add("telemetry", RawData.TELEMETRY)
          .add("event", RawData.MAINTENANCE_LOG);

  private SyntheticData() {}

  /** Counts of what was written. */
  public record Summary(long salesRows, long telemetryRows, long failures, long preventive) {}

  public static Summary generate(SparkSession spark, Warehouse warehouse, GeneratorConfig cfg) {
    int partitions = Math.max(2, spark.sparkContext().defaultParallelism());
    List<Integer> seriesIds =
        IntStream.range(0, cfg.stores() * cfg.items()).boxed().toList();
    Dataset<Row> demand =
        spark
            .createDataset(seriesIds, Encoders.INT())
            .repartition(partitions)
            .flatMap(
                (FlatMapFunction<Integer, Row>)
                    id ->
                        DemandSimulator.simulate(cfg, 1 + id / cfg.items(), 1 + id % cfg.items())
                            .iterator(),
                Encoders.row(DEMAND_ROW))
            .cache();
    try {
      String end = cfg.end().toString();
      RawData.write(
          demand.where("date <= '" + end + "'").select("date", "store", "item", "sales").orderBy("date", "store", "item"),
          warehouse.rawSales());
      RawData.write(
          demand.select("date", "store", "item", "price", "on_promo").orderBy("date", "store", "item"),
          warehouse.rawPricePlan());
      RawData.write(
          demand.where("date <= '" + end + "'").select("date", "store", "item", "on_hand", "on_order").orderBy("date", "store", "item"),
          warehouse.rawInventory());
      long salesRows = demand.where("date <= '" + end + "'").count();

      List<Row> items = new ArrayList<>();
      for (int i = 1; i <= cfg.items(); i++) {
        DemandSimulator.Item it = DemandSimulator.item(cfg.seed(), i);
        items.add(RowFactory.create(i, it.category(), it.packSize(), it.leadTimeDays(), it.basePrice()));
      }
      RawData.write(spark.createDataFrame(items, RawData.ITEMS).coalesce(1), warehouse.rawItems());

      List<Integer> machineIds = IntStream.rangeClosed(1, cfg.machines()).boxed().toList();
      Dataset<Row> machines =
          spark
              .createDataset(machineIds, Encoders.INT())
              .repartition(partitions)
              .flatMap(
                  (FlatMapFunction<Integer, Row>)
                      id -> {
                        List<Row> telemetry = new ArrayList<>();
                        List<Row> events = new ArrayList<>();
                        MachineSimulator.simulate(cfg, id, telemetry, events);
                        List<Row> out = new ArrayList<>(telemetry.size() + events.size());
                        telemetry.forEach(t -> out.add(RowFactory.create("telemetry", t, null)));
                        events.forEach(e -> out.add(RowFactory.create("event", null, e)));
                        return out.iterator();
                      },
                  Encoders.row(MACHINE_ROW))
              .cache();
      try {
        Dataset<Row> telemetry =
            machines.where("kind = 'telemetry'").select("telemetry.*").orderBy("date", "machine_id");
        Dataset<Row> events =
            machines.where("kind = 'event'").select("event.*").orderBy("date", "machine_id");
        RawData.write(telemetry, warehouse.rawTelemetry());
        RawData.write(events.coalesce(1), warehouse.rawMaintenanceLog());
        long telemetryRows = telemetry.count();
        long failures = events.where("event_type = 'failure'").count();
        long preventive = events.where("event_type = 'preventive'").count();
        Summary s = new Summary(salesRows, telemetryRows, failures, preventive);
        LOG.info(
            "Generated {} sales rows ({} stores x {} items, {}..{}), {} telemetry rows for {} machines with {} "
                + "failures and {} preventive maintenances under {}",
            salesRows, cfg.stores(), cfg.items(), cfg.start(), cfg.end(), telemetryRows, cfg.machines(),
            failures, preventive, warehouse.path("raw"));
        return s;
      } finally {
        machines.unpersist();
      }
    } finally {
      demand.unpersist();
    }
  }
}
