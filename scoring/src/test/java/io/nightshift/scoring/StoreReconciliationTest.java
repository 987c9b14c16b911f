package io.nightshift.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The store base forecast and the variance-weighted combination, on numbers worked out by hand (no Spark). */
class StoreReconciliationTest {
  private static double sum(double[] v) {
    return Arrays.stream(v).sum();
  }

  @Test
  void itemsSumToTheVarianceWeightedTotalAndTakeTheDifferenceInProportionToTheirVariances() {
    // items 10 + 20 = 30 (variances 1 and 3: V = 4), store base 38 with variance 4: total 30 + 8 * 4/8 = 34
    StoreReconciliation.Reconciled r =
        StoreReconciliation.reconcile(new double[] {10, 20}, new double[] {1, 3}, 38, 4);
    assertThat(r.total()).isCloseTo(34.0, within(1e-12));
    assertThat(r.items()[0]).isCloseTo(11.0, within(1e-12)); // + 4 * 1/4
    assertThat(r.items()[1]).isCloseTo(23.0, within(1e-12)); // + 4 * 3/4
    assertThat(sum(r.items())).isCloseTo(r.total(), within(1e-12));
  }

  @Test
  void theMoreCertainForecastOfTheTotalWins() {
    double[] items = {10, 20};
    double[] variances = {1, 3};
    double sure = StoreReconciliation.reconcile(items, variances, 38, 0.1).total();
    double unsure = StoreReconciliation.reconcile(items, variances, 38, 100).total();
    assertThat(sure).isStrictlyBetween(37.5, 38.0); // a precise store forecast: the total moves almost all the way
    assertThat(unsure).isStrictlyBetween(30.0, 30.5); // a vague one: the items' sum stays almost as it is
    // uncertain items move more: with the store forecast fixed, the item of larger variance takes more of the change
    StoreReconciliation.Reconciled r = StoreReconciliation.reconcile(new double[] {10, 10}, new double[] {1, 9}, 30, 1e-9);
    assertThat(r.items()[1] - 10).isCloseTo(9 * (r.items()[0] - 10), within(1e-6));
  }

  @Test
  void itemsThatAlreadyMatchTheStoreForecastStayExactlyAsTheyAre() {
    double[] items = {3.25, 7.5, 0.0, 9.25};
    StoreReconciliation.Reconciled r =
        StoreReconciliation.reconcile(items, new double[] {2, 4, 0.5, 6}, 20.0, 5);
    assertThat(r.items()).containsExactly(items);
    assertThat(r.total()).isEqualTo(20.0);
    // no store forecast (a store without history): nothing changes either
    assertThat(StoreReconciliation.reconcile(items, new double[] {2, 4, 0.5, 6}, Double.NaN, Double.NaN).items())
        .containsExactly(items);
  }

  @Test
  void aLargeCutNeverMakesAnItemNegativeAndStillSumsToTheTotal() {
    // items 5 + 0.5 + 20 against a far more certain store forecast of 12: the proportional cut (lambda = -0.96 per
    // unit of variance) would push the 0.5 item below 0; it stops at 0 and the others take the rest of the cut
    double[] items = {5, 0.5, 20};
    double[] variances = {4, 1, 9};
    StoreReconciliation.Reconciled r = StoreReconciliation.reconcile(items, variances, 12, 0.01);
    assertThat(Arrays.stream(r.items()).min().getAsDouble()).isGreaterThanOrEqualTo(0.0);
    assertThat(sum(r.items())).isCloseTo(r.total(), within(1e-9));
    assertThat(r.total()).isCloseTo(25.5 + (12 - 25.5) * 14 / 14.01, within(1e-9));
    assertThat(r.items()[1]).isEqualTo(0.0);
    assertThat(r.items()[0]).isCloseTo(5 - 4 * (25 - r.total()) / 13, within(1e-9));
    // the items left share the cut in proportion to their variances (4 : 9)
    assertThat((items[2] - r.items()[2]) / (items[0] - r.items()[0])).isCloseTo(9.0 / 4, within(1e-9));
    // cutting to a total of 0 puts every item at 0
    assertThat(StoreReconciliation.distribute(items, variances, 0.0)).containsExactly(0.0, 0.0, 0.0);
    assertThat(sum(StoreReconciliation.distribute(items, variances, 1.0))).isCloseTo(1.0, within(1e-12));
  }

  @Test
  void theStoreBaseIsTheWeekdayProfileAtLastWeeksLevel() {
    // 28 days of totals: 10 on every day except the weekday of day 27 (the origin) at 24; last week all +7
    double[] totals = new double[28];
    for (int d = 0; d < 28; d++) {
      totals[d] = (27 - d) % 7 == 0 ? 24 : 10;
      if (d >= 21) {
        totals[d] += 7;
      }
    }
    // the origin's weekday: profile (24 * 3 + 31) / 4 = 25.75; four-week mean (10*18 + 24*3 + 17*6 + 31) / 28;
    // last week's mean (17 * 6 + 31) / 7
    double window = (10.0 * 18 + 24 * 3 + 17 * 6 + 31) / 28;
    double level = (17.0 * 6 + 31) / 7;
    assertThat(StoreReconciliation.seasonal(totals, 27, 34)).isCloseTo(25.75 * level / window, within(1e-9));
    // any other weekday: (10 * 3 + 17) / 4
    assertThat(StoreReconciliation.seasonal(totals, 27, 29)).isCloseTo(11.75 * level / window, within(1e-9));
    // unknown days are left out of the means (day 20: a week before the origin, its weekday)
    totals[20] = Double.NaN;
    assertThat(StoreReconciliation.seasonal(totals, 27, 34))
        .isCloseTo(((24.0 * 2 + 31) / 3) * level / ((10.0 * 18 + 24 * 2 + 17 * 6 + 31) / 27), within(1e-9));
  }

  @Test
  void theStoreErrorComesFromTheMethodsOwnWeekAheadForecasts() {
    double[] flat = new double[62];
    Arrays.fill(flat, 20);
    assertThat(StoreReconciliation.errorVariance(flat, 61)).isEqualTo(0.0);
    flat[61] = 50; // the last day jumps: its week-ahead forecast was 20
    assertThat(StoreReconciliation.errorVariance(flat, 61)).isCloseTo(900.0 / 28, within(1e-12));
    // too little history: no variance, so the store is not reconciled
    assertThat(StoreReconciliation.errorVariance(new double[10], 9)).isNaN();
    // the variance grows with the horizon beyond a week, and never drops below the forecast (a count's Poisson floor)
    assertThat(StoreReconciliation.storeVariance(50, 20, 14)).isEqualTo(100.0);
    assertThat(StoreReconciliation.storeVariance(50, 20, 3)).isEqualTo(50.0);
    assertThat(StoreReconciliation.storeVariance(0, 20, 3)).isEqualTo(20.0);
  }
}
