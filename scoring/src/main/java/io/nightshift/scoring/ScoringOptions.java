package io.nightshift.scoring;

import io.nightshift.core.Errors;
import io.nightshift.featurestore.demand.DemandFeatures;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a demand night is forecast: how many days after the scored night, and whether item forecasts are reconciled
 * with store totals. The defaults (7 days, no reconciliation) are what one night's feature rows forecast directly.
 *
 * @param horizonDays the last forecast day, counted from the scored night: 1 to {@link #MAX_HORIZON_DAYS}; beyond
 *     {@link DemandFeatures#HORIZON_DAYS} the forecast is recursive (see {@link RecursiveForecast})
 * @param reconciliation {@link Reconciliation#NONE} or {@link Reconciliation#STORE}
 */
public record ScoringOptions(int horizonDays, Reconciliation reconciliation) {
  /** Forecast days per night by default: the days one feature build covers directly. */
  public static final int DEFAULT_HORIZON_DAYS = DemandFeatures.HORIZON_DAYS;

  /**
   * The longest horizon: eight recursive weeks. Beyond that a daily item forecast that feeds on its own forecasts is
   * mostly the seasonal level, and each extra week costs another feature computation and prediction pass.
   */
  public static final int MAX_HORIZON_DAYS = 56;

  public static final ScoringOptions DEFAULT = new ScoringOptions(DEFAULT_HORIZON_DAYS, Reconciliation.NONE);

  /** Reconciliation of item forecasts with an independent forecast of their store's total. */
  public enum Reconciliation {
    /** Item forecasts as the model made them. */
    NONE,
    /** Item forecasts adjusted to sum to a reconciled store total (see {@link StoreReconciliation}). */
    STORE;

    /** {@code none} or {@code store}, as the CLI and the manifest spell it. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Reconciliation parse(String option, String value) {
      for (Reconciliation r : values()) {
        if (r.id().equalsIgnoreCase(value == null ? "" : value.trim())) {
          return r;
        }
      }
      throw Errors.invalidOption(
          option, String.valueOf(value),
          "use " + Arrays.stream(values()).map(Reconciliation::id).collect(Collectors.joining(" or "))
              + " (none, the default, keeps the model's item forecasts; store makes them sum to a reconciled store"
              + " total)");
    }
  }

  public ScoringOptions {
    if (reconciliation == null) {
      throw new IllegalArgumentException("reconciliation is null");
    }
    if (horizonDays < 1 || horizonDays > MAX_HORIZON_DAYS) {
      throw Errors.invalidOption(
          "--horizon-days", Integer.toString(horizonDays),
          "use a whole number of days from 1 to " + MAX_HORIZON_DAYS + ", e.g. --horizon-days 28 (the default "
              + DEFAULT_HORIZON_DAYS + " forecasts the days one feature build covers directly; longer horizons are"
              + " forecast recursively in " + DemandFeatures.HORIZON_DAYS + "-day blocks)");
    }
  }

  /** Parses the CLI's values ({@code --horizon-days}, {@code --reconcile}). */
  public static ScoringOptions of(int horizonDays, String reconcile) {
    Reconciliation r = Reconciliation.parse("--reconcile", reconcile);
    return new ScoringOptions(horizonDays, r);
  }

  public boolean isDefault() {
    return equals(DEFAULT);
  }

  /** {@code direct} when one night's feature rows cover the horizon, else {@code recursive}. */
  public String strategy() {
    return horizonDays <= DemandFeatures.HORIZON_DAYS ? "direct" : "recursive";
  }

  /** Forecast blocks of {@link DemandFeatures#HORIZON_DAYS} days; the first is direct, the others recursive. */
  public int blocks() {
    return (horizonDays + DemandFeatures.HORIZON_DAYS - 1) / DemandFeatures.HORIZON_DAYS;
  }

  /** For messages: {@code 28 days, recursive, reconciled to store totals}. */
  public String describe() {
    return horizonDays + " days, " + strategy()
        + (reconciliation == Reconciliation.STORE ? ", reconciled to store totals" : "");
  }
}
