package io.nightshift.scoring.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.core.UseCase;
import io.nightshift.training.model.LoadedModel;
import io.nightshift.training.model.ModelMetadata;
import io.nightshift.training.tracking.ModelVersion;
import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The accuracy signals from realized WAPE by horizon and realized recall, worked out by hand. */
class RetrainingSignalsTest {
  static final LocalDate D = LocalDate.of(2024, 12, 26);
  static final StructType ACCURACY =
      new StructType().add("model_version", "string").add("horizon_days", "int").add("n", "long").add("wape", "double");

  private static LoadedModel model(double validWape) {
    ModelMetadata meta = new ModelMetadata("nightshift-demand", "demand", "REGRESSION", "sales", List.of("store", "item"),
        "date", "sales", List.of("price"), "2024-12-01", "", 0, null, null, null, null, 5.0,
        Map.of("valid_wape", validWape), Map.of(), "split");
    return new LoadedModel(new ModelVersion("nightshift-demand", "3", "run-3", "runs:/run-3/model", Map.of(), List.of()),
        meta, new byte[0]);
  }

  /** A horizon's realized accuracy of the forecasts made by version 3, the model monitored tonight. */
  private static Row horizon(int h, long n, Double wape) {
    return horizon("3", h, n, wape);
  }

  private static Row horizon(String version, int h, long n, Double wape) {
    return new GenericRowWithSchema(new Object[] {version, h, n, wape}, ACCURACY);
  }

  @Test
  void aHorizonWhoseActualsWereAllZeroHasNoWapeAndCarriesNoEvidence() {
    // stores closed on the 25th: horizon 1's outcomes are all zero sales, so its WAPE is null (0 / 0)
    List<Row> closed = List.of(horizon(1, 500, null));
    assertThat(Monitor.signals(UseCase.DEMAND, D, model(0.3), List.of(), closed)).isEmpty();

    // beside a horizon with outcomes: only that one counts (0.5 > 1.25 x 0.3 over 200 forecasts)
    List<Row> signals =
        Monitor.signals(UseCase.DEMAND, D, model(0.3), List.of(), List.of(horizon(1, 500, null), horizon(2, 200, 0.5)));
    assertThat(signals).singleElement().satisfies(s -> {
      assertThat(s.<String>getAs("kind")).isEqualTo("accuracy");
      assertThat(s.<Date>getAs("signal_date").toLocalDate()).isEqualTo(D);
      assertThat(s.<Double>getAs("value")).isCloseTo(0.5, within(1e-12));
    });
  }

  @Test
  void realizedWapeWithinTheDegradationAllowanceRaisesNothing() {
    // 150 forecasts at 0.35 and 150 at 0.40: 0.375, at most 1.25 x 0.3
    List<Row> acc = List.of(horizon(1, 150, 0.35), horizon(2, 150, 0.40));
    assertThat(Monitor.signals(UseCase.DEMAND, D, model(0.3), List.of(), acc)).isEmpty();
    // the same above the allowance: 0.45 and 0.40 weigh in at 0.425 > 0.375
    List<Row> worse = List.of(horizon(1, 150, 0.45), horizon(2, 150, 0.40));
    assertThat(Monitor.signals(UseCase.DEMAND, D, model(0.3), List.of(), worse)).singleElement()
        .satisfies(s -> assertThat(s.<Double>getAs("value")).isCloseTo(0.425, within(1e-12)));
  }

  @Test
  void onlyTheForecastsOfTonightsModelVersionCountTowardsItsAccuracySignal() {
    // version 2, replaced by 3, made large errors before the retrain; 3's own forecasts are as good as validation
    List<Row> oldWorse = List.of(horizon("2", 1, 500, 0.9), horizon("2", 2, 500, 0.8), horizon("3", 1, 200, 0.3),
        horizon("3", 2, 100, 0.33));
    assertThat(Monitor.signals(UseCase.DEMAND, D, model(0.3), List.of(), oldWorse)).isEmpty();

    // the reverse: version 3 degrades, the old version's good forecasts do not dilute it; the signal names version 3
    List<Row> newWorse = List.of(horizon("2", 1, 500, 0.3), horizon("2", 2, 500, 0.3), horizon("3", 1, 200, 0.5),
        horizon("3", 2, 100, 0.8));
    assertThat(Monitor.signals(UseCase.DEMAND, D, model(0.3), List.of(), newWorse)).singleElement().satisfies(s -> {
      assertThat(s.<String>getAs("kind")).isEqualTo("accuracy");
      assertThat(s.<String>getAs("model_version")).isEqualTo("3");
      assertThat(s.<Double>getAs("value")).isCloseTo((0.5 * 200 + 0.8 * 100) / 300, within(1e-12)); // 0.6
      assertThat(s.<Double>getAs("threshold")).isCloseTo(0.375, within(1e-12));
    });

    // fewer than 100 outcomes of version 3 are not evidence enough, however many the old version has
    assertThat(Monitor.signals(UseCase.DEMAND, D, model(0.3), List.of(),
        List.of(horizon("2", 1, 5000, 0.9), horizon("3", 1, 99, 0.9)))).isEmpty();
  }

  static final StructType MAINTENANCE_ACCURACY =
      new StructType().add("model_version", "string").add("horizon_days", "int").add("n", "long")
          .add("recall", "double").add("positives", "long");

  private static LoadedModel maintenanceModel(double validRecall) {
    ModelMetadata meta = new ModelMetadata("nightshift-maintenance", "maintenance", "BINARY_CLASSIFICATION", "machines",
        List.of("machine_id"), "date", "failure_within_7d", List.of("vibration"), "2024-12-01", "", 0, null, null, null,
        null, Double.NaN, Map.of("valid_recall_at_0_5", validRecall), Map.of(), "split");
    return new LoadedModel(
        new ModelVersion("nightshift-maintenance", "3", "run-3", "runs:/run-3/model", Map.of(), List.of()), meta,
        new byte[0]);
  }

  private static Row recall(String version, long positives, Double recall) {
    return new GenericRowWithSchema(new Object[] {version, 7, 1000L, recall, positives}, MAINTENANCE_ACCURACY);
  }

  @Test
  void maintenanceRecallWellBelowValidationRaisesASignalOnceEnoughFailuresFollowed() {
    // validation caught 80% of failures; the floor is 0.8 / 1.25 = 0.64. Version 3 caught 15 of 30: 0.5
    List<Row> signals =
        Monitor.signals(UseCase.MAINTENANCE, D, maintenanceModel(0.8), List.of(), List.of(recall("3", 30, 0.5)));
    assertThat(signals).singleElement().satisfies(s -> {
      assertThat(s.<String>getAs("kind")).isEqualTo("accuracy");
      assertThat(s.<String>getAs("subject")).isEqualTo("realized_recall");
      assertThat(s.<Double>getAs("value")).isCloseTo(0.5, within(1e-12));
      assertThat(s.<Double>getAs("threshold")).isCloseTo(0.64, within(1e-12));
      assertThat(s.<String>getAs("model_version")).isEqualTo("3");
    });
    // 21 of 30 (0.7) is within the allowance
    assertThat(Monitor.signals(UseCase.MAINTENANCE, D, maintenanceModel(0.8), List.of(), List.of(recall("3", 30, 0.7))))
        .isEmpty();
    // 5 of 10 is as poor, but ten failures are too few to tell (at least 20)
    assertThat(Monitor.signals(UseCase.MAINTENANCE, D, maintenanceModel(0.8), List.of(), List.of(recall("3", 10, 0.5))))
        .isEmpty();
    // the replaced version 2 missed most failures: not evidence against version 3, which caught 24 of 30
    assertThat(Monitor.signals(UseCase.MAINTENANCE, D, maintenanceModel(0.8), List.of(),
            List.of(recall("2", 50, 0.2), recall("3", 30, 0.8))))
        .isEmpty();
    // a model without a validation recall (no failures in its validation window) raises none
    assertThat(Monitor.signals(UseCase.MAINTENANCE, D, maintenanceModel(Double.NaN), List.of(), List.of(recall("3", 30, 0.1))))
        .isEmpty();
  }
}
