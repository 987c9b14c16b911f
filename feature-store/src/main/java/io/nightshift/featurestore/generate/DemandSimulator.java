package io.nightshift.featurestore.generate;

import io.nightshift.featurestore.Holidays;
import java.sql.Date;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Simulates one store-item series: daily unit sales with trend, weekly and yearly seasonality, holidays, promotions
 * with price discounts and price elasticity, over-dispersed Poisson noise (intermittent for slow movers), and the
 * store's stock on hand under an (s, S) replenishment policy.
 *
 * <p>Rows: date, store, item, sales, price, on_promo, on_hand, on_order. Sales and stock are null after
 * {@code end} (only the price/promotion plan is known for the future).
 */
final class DemandSimulator {
  /** Demand by day of week, Monday first. */
  private static final double[] WEEKLY = {0.86, 0.9, 0.94, 1.0, 1.14, 1.3, 1.12};

  private DemandSimulator() {}

  static Item item(long seed, int item) {
    SplittableRandom r = Randoms.forSeries(seed, 1, item);
    boolean slowMover = r.nextDouble() < 0.2;
    double base = slowMover ? Randoms.uniform(r, 0.3, 2.0) : Math.exp(Math.log(18) + 0.6 * Randoms.normal(r));
    String category = new String[] {"grocery", "household", "personal-care", "beverages"}[r.nextInt(4)];
    int pack = new int[] {1, 6, 12, 24}[slowMover ? 0 : 1 + r.nextInt(3)];
    int leadTime = 3 + r.nextInt(5);
    double price = Math.round(Randoms.uniform(r, 1.0, 20.0) * 100) / 100.0;
    return new Item(item, category, pack, leadTime, price, base, slowMover);
  }

  record Item(
      int item,
      String category,
      int packSize,
      int leadTimeDays,
      double basePrice,
      double baseDemand,
      boolean slowMover) {}

  static List<Row> simulate(GeneratorConfig cfg, int store, int itemId) {
    Item item = item(cfg.seed(), itemId);
    SplittableRandom storeR = Randoms.forSeries(cfg.seed(), 2, store);
    double storeFactor = Randoms.uniform(storeR, 0.6, 1.4);
    SplittableRandom r = Randoms.forSeries(cfg.seed(), 3, store, itemId);
    double growth = 0.05 + 0.05 * Randoms.normal(r);
    double yearlyAmp = Randoms.uniform(r, 0.0, 0.3);
    double yearlyPhase = Randoms.uniform(r, 0, 365);
    double elasticity = Randoms.uniform(r, 1.0, 2.5);
    double weeklyStrength = Randoms.uniform(r, 0.5, 1.2);

    double meanDemand = item.baseDemand() * storeFactor;
    int reorderPoint = (int) Math.ceil(meanDemand * (item.leadTimeDays() + 2));
    int orderUpTo = reorderPoint + (int) Math.ceil(meanDemand * 7) + item.packSize();
    int onHand = orderUpTo;
    int[] arrivals = new int[(int) ChronoUnit.DAYS.between(cfg.start(), cfg.end()) + 16];

    List<Row> rows = new ArrayList<>();
    int promoLeft = 0;
    double discount = 0;
    LocalDate last = cfg.end().plusDays(cfg.planDays());
    int t = 0;
    for (LocalDate d = cfg.start(); !d.isAfter(last); d = d.plusDays(1), t++) {
      if (promoLeft == 0 && r.nextDouble() < 1.0 / 40) {
        promoLeft = 3 + r.nextInt(5);
        discount = Randoms.uniform(r, 0.1, 0.3);
      }
      boolean onPromo = promoLeft > 0;
      if (promoLeft > 0) {
        promoLeft--;
      }
      double price = Math.round(item.basePrice() * (onPromo ? 1 - discount : 1.0) * 100) / 100.0;
      Date date = Date.valueOf(d);
      if (d.isAfter(cfg.end())) {
        rows.add(RowFactory.create(date, store, itemId, null, price, onPromo ? 1 : 0, null, null));
        continue;
      }
      double years = t / 365.25;
      double mean =
          meanDemand
              * (1 + growth * years)
              * (1 + weeklyStrength * (WEEKLY[d.getDayOfWeek().getValue() - 1] - 1))
              * (1 + yearlyAmp * Math.sin(2 * Math.PI * (d.getDayOfYear() - yearlyPhase) / 365.25))
              * Holidays.demandMultiplier(d)
              * Math.pow(price / item.basePrice(), -elasticity);
      double shape = item.slowMover() ? 2.0 : 6.0;
      int sales = Randoms.poisson(r, Math.max(0, mean) * Randoms.gamma(r, shape) / shape);

      onHand += arrivals[t];
      onHand = Math.max(0, onHand - sales);
      int onOrder = 0;
      for (int k = t + 1; k < arrivals.length; k++) {
        onOrder += arrivals[k];
      }
      if (onHand + onOrder < reorderPoint) {
        int need = orderUpTo - onHand - onOrder;
        int qty = (int) Math.ceil((double) need / item.packSize()) * item.packSize();
        int arrive = Math.min(arrivals.length - 1, t + item.leadTimeDays());
        arrivals[arrive] += qty;
        onOrder += qty;
      }
      rows.add(RowFactory.create(date, store, itemId, sales, price, onPromo ? 1 : 0, onHand, onOrder));
    }
    return rows;
  }
}
