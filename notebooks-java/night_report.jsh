// A JShell notebook over one night's outputs. Run: notebooks-java/run.sh notebooks-java/night_report.jsh
// Settings: NIGHTSHIFT_WAREHOUSE (default .nightshift/warehouse), NIGHT (default: the newest scored night).
import org.apache.spark.sql.*;
import static org.apache.spark.sql.functions.*;
import io.nightshift.core.Warehouse;
import io.nightshift.core.UseCase;

var spark = io.nightshift.jobs.SparkSessions.create("nightshift-notebook", "local[2]");
spark.sparkContext().setLogLevel("ERROR");
var warehouse = new Warehouse(System.getenv().getOrDefault("NIGHTSHIFT_WAREHOUSE", ".nightshift/warehouse"));
Dataset<Row> demand = spark.read().format("delta").load(warehouse.predictions(UseCase.DEMAND));
String night = System.getenv().getOrDefault("NIGHT", demand.agg(max("score_date")).head().get(0).toString());
System.out.println("Night " + night + " in " + warehouse.root());

System.out.println("\n== Forecast per day (all stores and items)");
demand.where(col("score_date").equalTo(lit(night))).groupBy("target_date").agg(round(sum("prediction"), 0).as("units")).
    orderBy("target_date").show(60); // up to the night's horizon (score --horizon-days, at most 56)

System.out.println("== Largest replenishment orders");
spark.read().format("delta").load(warehouse.replenishmentOrders()).where(col("decision_date").equalTo(lit(night))).
    orderBy(col("order_qty").desc()).select("store", "item", "forecast_lead_time", "safety_stock", "on_hand", "order_qty").
    show(10);

System.out.println("== Machines by failure risk");
spark.read().format("delta").load(warehouse.predictions(UseCase.MAINTENANCE)).where(col("score_date").equalTo(lit(night))).
    orderBy(col("prediction").desc()).select("machine_id", "prediction", "model_version").show(10);

System.out.println("== Which model scored, on which feature table version");
spark.read().format("delta").load(warehouse.monitoring("scoring_manifest")).where(col("score_date").equalTo(lit(night))).show(false);

spark.stop();
/exit
