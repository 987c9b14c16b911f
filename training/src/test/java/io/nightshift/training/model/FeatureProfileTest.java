package io.nightshift.training.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.nightshift.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Drift measures on hand-made profiles, every expected value worked out by hand. */
class FeatureProfileTest {
  /** Bins (-inf, 1], (1, 2], (2, +inf) and the missing share. */
  static FeatureProfile profile(double... fractions) {
    return new FeatureProfile(List.of(1.0, 2.0), Arrays.stream(fractions).boxed().toList());
  }

  @Test
  void psiSumsTheShiftOfEachBinWeightedByItsLogRatio() {
    FeatureProfile baseline = profile(0.5, 0.5, 0.0, 0.0);
    // (0.9 - 0.5) ln(0.9 / 0.5) + (0.1 - 0.5) ln(0.1 / 0.5) = 0.2351 + 0.6438; the two empty bins add nothing
    assertThat(baseline.psi(profile(0.9, 0.1, 0.0, 0.0))).isCloseTo(0.878890, within(1e-6));
    assertThat(baseline.psi(baseline)).isZero();
    // a share appearing where the baseline had none counts against an epsilon of 1e-4, not 0 (which would be infinite):
    // 2 x (0.5 - 0.25) ln 2 + 2 x (1e-4 - 0.25) ln(1e-4 / 0.25)
    assertThat(profile(0.25, 0.25, 0.25, 0.25).psi(profile(0.5, 0.5, 0.0, 0.0))).isCloseTo(4.257032, within(1e-6));
  }

  @Test
  void ksComparesTheCumulativeSharesOfTheValuesPresent() {
    FeatureProfile baseline = profile(0.5, 0.5, 0.0, 0.0);
    assertThat(baseline.ks(profile(0.9, 0.1, 0.0, 0.0))).isCloseTo(0.4, within(1e-12));
    // missing values are left out of both sides: 1/3, 1/3, 1/3 against 1/2, 1/2, 0 -> largest gap 1 - 2/3
    assertThat(profile(0.25, 0.25, 0.25, 0.25).ks(profile(0.5, 0.5, 0.0, 0.0))).isCloseTo(1.0 / 3, within(1e-12));
    // only the missing share moved: the values present are distributed alike
    assertThat(profile(0.2, 0.4, 0.2, 0.2).ks(profile(0.1, 0.2, 0.1, 0.6))).isCloseTo(0.0, within(1e-12));
  }

  @Test
  void profilesPutAValueOnAnEdgeInTheBinBelowAndNullsAndNaNsInTheMissingShare() {
    SparkSession spark = SparkTestSession.get();
    StructType schema = new StructType().add("x", "double");
    List<Row> rows = new ArrayList<>();
    for (Double v : new Double[] {0.5, 1.0, 1.5, 2.0, 2.5, 3.0, null, Double.NaN}) {
      rows.add(RowFactory.create(v));
    }
    Map<String, FeatureProfile> p =
        FeatureProfile.profile(spark.createDataFrame(rows, schema), Map.of("x", List.of(1.0, 2.0)));
    assertThat(p.get("x").edges()).containsExactly(1.0, 2.0);
    assertThat(p.get("x").fractions()).containsExactly(0.25, 0.25, 0.25, 0.25);
    assertThat(p.get("x").noRows()).isFalse();

    FeatureProfile none = FeatureProfile.profile(spark.createDataFrame(List.of(), schema), Map.of("x", List.of(1.0, 2.0))).get("x");
    assertThat(none.fractions()).containsExactly(0.0, 0.0, 0.0, 0.0);
    assertThat(none.noRows()).isTrue();
  }
}
