package io.nightshift.training;

import io.nightshift.core.Warehouse;
import io.nightshift.featurestore.demand.DemandFeatures;
import io.nightshift.featurestore.generate.GeneratorConfig;
import io.nightshift.featurestore.generate.SyntheticData;
import io.nightshift.featurestore.maintenance.MachineFeatures;
import io.nightshift.testing.SparkTestSession;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** Small generated warehouses with features built, shared by the training tests of one JVM. */
final class TrainingFixtures {
  static final LocalDate AS_OF = LocalDate.of(2023, 12, 31);
  private static Warehouse warehouse;

  private TrainingFixtures() {}

  static synchronized Warehouse warehouse() {
    if (warehouse == null) {
      SparkSession spark = SparkTestSession.get();
      warehouse = new Warehouse(SparkTestSession.tempDir("training").toString());
      SyntheticData.generate(
          spark, warehouse, new GeneratorConfig(11, LocalDate.of(2023, 1, 1), AS_OF, 3, 5, 12, 14));
      DemandFeatures.build(spark, warehouse, AS_OF);
      MachineFeatures.build(spark, warehouse, AS_OF);
    }
    return warehouse;
  }

  /** The shipped spec with fewer rounds, to keep tests fast. */
  static ModelSpec quick(ModelSpec spec, int rounds) {
    Map<String, Object> params = new HashMap<>(spec.boosterParams());
    return new ModelSpec(
        spec.modelName(), spec.task(), spec.view(), params, rounds, spec.validationDays(), spec.purgeDays(),
        spec.seed());
  }
}
