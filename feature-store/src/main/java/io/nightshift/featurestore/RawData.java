package io.nightshift.featurestore;

import io.nightshift.core.Errors;
import io.nightshift.core.NightshiftException;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The raw landing zone: CSV files with a header, one directory per dataset, read with a declared schema. A missing
 * directory or column is an input error naming the dataset; malformed values fail the read instead of becoming nulls.
 */
public final class RawData {
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

  private RawData() {}

  /** Reads one raw dataset; {@code name} is how errors refer to it (e.g. "raw/sales"). */
  public static Dataset<Row> read(SparkSession spark, String path, String name, StructType schema) {
    if (!pathExists(spark, path)) {
      throw Errors.missingTable(
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
