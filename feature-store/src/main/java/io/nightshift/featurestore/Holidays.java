package io.nightshift.featurestore;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.MonthDay;
import java.time.temporal.TemporalAdjusters;

/**
 * The retail holiday calendar shared by the data generator and the calendar features: closed days, and days with a
 * demand uplift.
 */
public final class Holidays {
  private static final MonthDay NEW_YEAR = MonthDay.of(1, 1);
  private static final MonthDay INDEPENDENCE_DAY = MonthDay.of(7, 4);
  private static final MonthDay CHRISTMAS_EVE = MonthDay.of(12, 24);
  private static final MonthDay CHRISTMAS = MonthDay.of(12, 25);
  private static final MonthDay NEW_YEARS_EVE = MonthDay.of(12, 31);

  private Holidays() {}

  /** Stores are closed: no sales. */
  public static boolean isClosed(LocalDate d) {
    MonthDay md = MonthDay.from(d);
    return md.equals(NEW_YEAR) || md.equals(CHRISTMAS);
  }

  /** Whether the date is a holiday or holiday-shopping peak (including closed days). */
  public static boolean isHoliday(LocalDate d) {
    return demandMultiplier(d) != 1.0;
  }

  /** Multiplier on expected demand: 0 on closed days, above 1 on shopping peaks. */
  public static double demandMultiplier(LocalDate d) {
    if (isClosed(d)) {
      return 0.0;
    }
    MonthDay md = MonthDay.from(d);
    if (md.equals(CHRISTMAS_EVE)) {
      return 1.6;
    }
    if (md.equals(NEW_YEARS_EVE)) {
      return 1.3;
    }
    if (md.equals(INDEPENDENCE_DAY)) {
      return 1.25;
    }
    if (d.equals(blackFriday(d.getYear()))) {
      return 1.8;
    }
    return 1.0;
  }

  /** The day after the fourth Thursday of November. */
  public static LocalDate blackFriday(int year) {
    LocalDate thanksgiving =
        LocalDate.of(year, 11, 1)
            .with(TemporalAdjusters.dayOfWeekInMonth(4, DayOfWeek.THURSDAY));
    return thanksgiving.plusDays(1);
  }
}
