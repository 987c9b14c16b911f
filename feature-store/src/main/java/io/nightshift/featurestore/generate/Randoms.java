package io.nightshift.featurestore.generate;

import java.util.SplittableRandom;

/** Small sampling helpers over {@link SplittableRandom}; one stream per series keeps output partition-independent. */
final class Randoms {
  private Randoms() {}

  /** A stream determined by the seed and the series' identity only. */
  static SplittableRandom forSeries(long seed, long... ids) {
    long h = seed * 0x9E3779B97F4A7C15L;
    for (long id : ids) {
      h = (h ^ id) * 0xBF58476D1CE4E5B9L;
      h ^= h >>> 31;
    }
    return new SplittableRandom(h);
  }

  static double normal(SplittableRandom r) {
    double u1 = Math.max(r.nextDouble(), 1e-12);
    double u2 = r.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }

  static double uniform(SplittableRandom r, double lo, double hi) {
    return lo + (hi - lo) * r.nextDouble();
  }

  /** Gamma(shape k >= 1, scale 1) by Marsaglia-Tsang. */
  static double gamma(SplittableRandom r, double k) {
    double d = k - 1.0 / 3.0;
    double c = 1.0 / Math.sqrt(9.0 * d);
    while (true) {
      double x = normal(r);
      double v = 1.0 + c * x;
      if (v <= 0) {
        continue;
      }
      v = v * v * v;
      double u = r.nextDouble();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
        return d * v;
      }
    }
  }

  static int poisson(SplittableRandom r, double lambda) {
    if (lambda <= 0) {
      return 0;
    }
    if (lambda > 40) {
      return (int) Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(r)));
    }
    double l = Math.exp(-lambda);
    int k = 0;
    double p = 1.0;
    do {
      k++;
      p *= r.nextDouble();
    } while (p > l);
    return k - 1;
  }
}
