package io.nightshift.featurestore;

import io.nightshift.core.Errors;
import io.nightshift.core.InvalidInputException;
import io.nightshift.core.NightshiftException;
import io.nightshift.core.Warehouse;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The raw landing zone: CSV files with a header, one directory per dataset, read with a declared schema. A missing
 * directory or column is an input error naming the dataset; malformed values fail the read instead of becoming nulls.
 */
public final class RawData {
  private static final Logger LOG = LoggerFactory.getLogger(RawData.class);
  public static final StructType SALES =
      schema("date:date", "store:int", "item:int", "sales:int");
  public static final StructType PRICE_PLAN =
      schema("date:date", "store:int", "item:int", "price:double", "on_promo:int");
  public static final StructType INVENTORY =
      schema("date:date", "store:int", "item:int", "on_hand:int", "on_order:int");
  public static final StructType ITEMS =
      schema("item:int", "category:string", "pack_size:int", "lead_time_days:int", "unit_cost:double");
  public static final StructType TELEMETRY =
      schema(
          "date:date",
          "machine_id:int",
          "machine_type:string",
          "temperature:double",
          "vibration:double",
          "pressure:double",
          "rpm:double",
          "torque:double",
          "operating_hours:double");
  public static final StructType MAINTENANCE_LOG =
      schema("date:date", "machine_id:int", "event_type:string", "component:string");

  /** The raw datasets of a warehouse: how errors name them, where they live, their columns. */
  public record Source(String name, Function<Warehouse, String> path, StructType schema) {}

  public static final List<Source> SOURCES =
      List.of(
          new Source("raw/sales", Warehouse::rawSales, SALES),
          new Source("raw/price_plan", Warehouse::rawPricePlan, PRICE_PLAN),
          new Source("raw/inventory", Warehouse::rawInventory, INVENTORY),
          new Source("raw/items", Warehouse::rawItems, ITEMS),
          new Source("raw/telemetry", Warehouse::rawTelemetry, TELEMETRY),
          new Source("raw/maintenance_log", Warehouse::rawMaintenanceLog, MAINTENANCE_LOG));

  private RawData() {}

  /** Reads one raw dataset; {@code name} is how errors refer to it (e.g. "raw/sales"). */
  public static Dataset<Row> read(SparkSession spark, String path, String name, StructType schema) {
    if (!pathExists(spark, path)) {
      throw Errors.missingFiles(
          name, path, "run 'nightshift generate' for demo data, or land the " + name + " CSV files there");
    }
    Dataset<Row> header =
        spark.read().option("header", "true").option("inferSchema", "false").csv(path);
    DeltaTables.requireColumns(header, name + " (" + path + ")", Arrays.asList(schema.fieldNames()));
    return spark
        .read()
        .option("header", "true")
        .option("mode", "FAILFAST")
        .option("enforceSchema", "false")
        .schema(schema)
        .csv(path);
  }

  /**
   * When {@code failure} is Spark's failure on a raw CSV row that does not parse as its declared type (reads are
   * FAILFAST, and the failure comes from whichever job reads the data), the input error that names the dataset, the
   * file, the row and the column: the warehouse's raw datasets are read again leniently, only after such a failure,
   * to find the first bad row. Empty for any other failure, or when no raw row is to blame.
   */
  public static Optional<InvalidInputException> explainMalformed(
      SparkSession spark, Warehouse warehouse, Throwable failure) {
    if (!MalformedRows.isMalformedRecord(failure)) {
      return Optional.empty();
    }
    String problem = MalformedRows.parserProblem(failure);
    for (Source source : SOURCES) {
      String path = source.path().apply(warehouse);
      Map<String, String> columns = new LinkedHashMap<>();
      for (StructField f : source.schema().fields()) {
        columns.put(f.name(), f.dataType().simpleString());
      }
      try {
        if (!pathExists(spark, path)) {
          continue;
        }
        Optional<String> row = MalformedRows.first(spark, path, Map.of("header", "true"), columns, problem);
        if (row.isPresent()) {
          return Optional.of(
              Errors.malformedRow(
                  source.name(), path, row.get(),
                  "correct or remove the row and run the job again (" + source.name() + " has the columns "
                      + MalformedRows.ddl(columns).replace("`", "") + ")",
                  failure));
        }
      } catch (RuntimeException diagnosis) { // keep looking; the original failure stands if nothing is found
        LOG.debug("Could not check {} for malformed rows", path, diagnosis);
      }
    }
    return Optional.empty();
  }

  /** Writes one raw dataset as CSV with a header, replacing what was there. */
  public static void write(Dataset<Row> df, String path) {
    try {
      df.write().mode("overwrite").option("header", "true").csv(path);
    } catch (RuntimeException e) {
      throw new NightshiftException("Cannot write raw data to " + path + ": " + e.getMessage(), e);
    }
  }

  static boolean pathExists(SparkSession spark, String path) {
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(spark.sessionState().newHadoopConf());
      return fs.exists(p);
    } catch (java.io.IOException e) {
      throw new NightshiftException("Cannot check " + path + ": " + e.getMessage(), e);
    }
  }

  private static StructType schema(String... fields) {
    List<StructField> list =
        Arrays.stream(fields)
            .<StructField>map(
                f -> {
                  String[] nt = f.split(":");
                  return DataTypes.createStructField(nt[0], DataType.fromDDL(nt[1]), true);
                })
            .toList();
    return DataTypes.createStructType(list);
  }
}
