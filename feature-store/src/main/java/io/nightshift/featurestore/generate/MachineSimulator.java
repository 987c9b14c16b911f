package io.nightshift.featurestore.generate;

import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Simulates one machine: a hidden health state that degrades with load (faster for high-duty types), sensors that
 * drift as it degrades (temperature and vibration up, pressure and speed down), failures when health crosses the
 * machine's threshold (plus rare random failures), repairs with downtime, and preventive maintenance that restores
 * part of the health.
 */
final class MachineSimulator {
  private static final String[] TYPES = {"L", "M", "H"};
  private static final String[] COMPONENTS = {"bearing", "motor", "pump", "seal"};

  private MachineSimulator() {}

  static String type(long seed, int machine) {
    double u = Randoms.forSeries(seed, 4, machine).nextDouble();
    return u < 0.5 ? TYPES[0] : u < 0.8 ? TYPES[1] : TYPES[2];
  }

  /** Adds telemetry rows and maintenance-log rows of one machine to the two lists. */
  static void simulate(GeneratorConfig cfg, int machine, List<Row> telemetry, List<Row> events) {
    String type = type(cfg.seed(), machine);
    SplittableRandom r = Randoms.forSeries(cfg.seed(), 5, machine);
    // days from new to failure at average load; high-duty machines wear fastest
    double meanLifeDays = (type.equals("L") ? 100 : type.equals("M") ? 80 : 60) * Randoms.uniform(r, 0.8, 1.2);
    double threshold = Randoms.uniform(r, 0.9, 1.1);
    double health = Randoms.uniform(r, 0.0, 0.6);
    double hours = Randoms.uniform(r, 1000, 20000);
    int downtime = 0;
    int nextPreventive = 30 + r.nextInt(120);
    int day = 0;
    for (LocalDate d = cfg.start(); !d.isAfter(cfg.end()); d = d.plusDays(1), day++) {
      Date date = Date.valueOf(d);
      if (downtime > 0) {
        downtime--;
        continue;
      }
      double load = Randoms.uniform(r, 0.6, 1.0);
      health += Math.max(0, (load / (0.8 * meanLifeDays)) * (1 + 0.5 * Randoms.normal(r)));
      hours += 24 * load;
      double h2 = health * health;
      telemetry.add(
          RowFactory.create(
              date,
              machine,
              type,
              round(70 + 10 * load + 15 * h2 + 2 * Randoms.normal(r)),
              round(2 + 0.5 * load + 4 * h2 + 0.3 * Randoms.normal(r)),
              round(100 - 8 * health + 2 * Randoms.normal(r)),
              round(1500 + 100 * load - 150 * health + 20 * Randoms.normal(r)),
              round(40 + 10 * load + 5 * health + 3 * Randoms.normal(r)),
              round(hours)));
      boolean failed = health > threshold || r.nextDouble() < 0.0005;
      if (failed) {
        events.add(RowFactory.create(date, machine, "failure", COMPONENTS[r.nextInt(COMPONENTS.length)]));
        health = Randoms.uniform(r, 0.0, 0.1);
        threshold = Randoms.uniform(r, 0.9, 1.1);
        downtime = 1 + r.nextInt(2);
        nextPreventive = day + 90 + r.nextInt(60);
      } else if (day >= nextPreventive) {
        events.add(RowFactory.create(date, machine, "preventive", "inspection"));
        health *= 0.7;
        nextPreventive = day + 90 + r.nextInt(60);
      }
    }
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
