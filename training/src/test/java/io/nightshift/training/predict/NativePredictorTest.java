package io.nightshift.training.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.UseCase;
import io.nightshift.training.ModelSpec;
import io.nightshift.training.ModelSpecs;
import io.nightshift.training.TrainedModel;
import io.nightshift.training.TrainingFixturesAccess;
import io.nightshift.training.XGBoostTrainer;
import io.nightshift.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class NativePredictorTest {
  @Test
  void shapContributionsPlusBiasSumToTheMarginAndExplainTheProbability() {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> table = spark.read().format("delta").load(TrainingFixturesAccess.warehouse().features(UseCase.MAINTENANCE));
    ModelSpec spec = TrainingFixturesAccess.quick(ModelSpecs.maintenance(), 20);
    TrainedModel model = XGBoostTrainer.train(spark, table, spec, TrainingFixturesAccess.AS_OF);
    List<String> features = spec.view().features();
    List<Column> cols = new ArrayList<>(List.of(table.col("machine_id")));
    features.forEach(f -> cols.add(table.col(f).cast("double")));
    Dataset<Row> input = table.where("date >= '2023-12-01'").select(cols.toArray(new Column[0]));

    List<Row> all =
        NativePredictor.predictWithContributions(input, 1, features, model.booster(), features.size()).collectAsList();
    List<Row> plain = NativePredictor.predict(input, 1, features.size(), model.booster()).collectAsList();
    assertThat(all).hasSize(plain.size()).isNotEmpty();
    for (int i = 0; i < all.size(); i++) {
      Row r = all.get(i);
      double margin = r.getAs("margin");
      double sum = r.<Double>getAs("bias");
      List<Row> contributions = r.getList(r.fieldIndex("contributions"));
      assertThat(contributions).hasSize(features.size());
      for (Row c : contributions) {
        sum += c.getDouble(1);
      }
      assertThat(sum).isCloseTo(margin, within(1e-3));
      assertThat(r.<Double>getAs("prediction")).isCloseTo(1 / (1 + Math.exp(-margin)), within(1e-5));
      assertThat(r.<Double>getAs("prediction")).isEqualTo(plain.get(i).<Double>getAs("prediction"));
      // largest absolute contribution first
      assertThat(Math.abs(contributions.get(0).getDouble(1))).isGreaterThanOrEqualTo(Math.abs(contributions.get(1).getDouble(1)));
    }
    List<Row> top3 = NativePredictor.predictWithContributions(input, 1, features, model.booster(), 3).collectAsList();
    assertThat(top3.get(0).getList(top3.get(0).fieldIndex("contributions"))).hasSize(3);
  }
}
