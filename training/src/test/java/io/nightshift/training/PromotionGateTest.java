package io.nightshift.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.LocalDate;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The bootstrap decision on per-entity loss sums {challenger, champion, normalizer}. */
class PromotionGateTest {
  static final LocalDate D = LocalDate.of(2024, 1, 31);

  private static PromotionGate.Decision decide(double[][] blocks, double margin) {
    return PromotionGate.decide(blocks, blocks.length * 10L, "wape", "3", D.minusDays(27), D, margin, 42);
  }

  @Test
  void consistentlyBetterChallengerIsPromoted() {
    double[][] blocks = new double[50][];
    for (int i = 0; i < blocks.length; i++) {
      double champion = 10 + i % 7;
      blocks[i] = new double[] {0.8 * champion, champion, 40};
    }
    PromotionGate.Decision d = decide(blocks, 0.0);
    assertThat(d.promote()).isTrue();
    assertThat(d.improvement()).isCloseTo(0.2, within(1e-12));
    assertThat(d.ciLow()).isCloseTo(0.2, within(1e-9)); // every block improves by exactly 20%
    assertThat(d.reason()).contains("improvement 20.00%").contains("clears margin 0.00%");
  }

  @Test
  void identicalModelsAreNotPromoted() {
    double[][] blocks = new double[12][];
    for (int i = 0; i < blocks.length; i++) {
      double loss = 1 + 2 * (i % 4);
      blocks[i] = new double[] {loss, loss, 4 * loss};
    }
    PromotionGate.Decision d = decide(blocks, 0.0);
    assertThat(d.promote()).isFalse();
    assertThat(d.improvement()).isZero();
    assertThat(d.reason()).contains("does not clear");
  }

  @Test
  void improvementWithinNoiseIsNotPromoted() {
    SplittableRandom r = new SplittableRandom(1);
    double[][] blocks = new double[40][];
    for (int i = 0; i < blocks.length; i++) {
      double champion = 10;
      double challenger = champion * (i % 2 == 0 ? 0.7 : 1.28); // better on half the entities, worse on the rest
      blocks[i] = new double[] {challenger + r.nextDouble() * 0.01, champion, 40};
    }
    PromotionGate.Decision d = decide(blocks, 0.0);
    assertThat(d.improvement()).isCloseTo(0.01, within(0.01));
    assertThat(d.ciLow()).isNegative();
    assertThat(d.ciHigh()).isPositive();
    assertThat(d.promote()).isFalse();
  }

  @Test
  void marginMustBeClearedByTheLowerBound() {
    double[][] blocks = new double[30][];
    for (int i = 0; i < blocks.length; i++) {
      // 20% better on half the entities, 2% on the rest: 11% better overall, less in some bootstrap samples
      blocks[i] = new double[] {i % 2 == 0 ? 8 : 9.8, 10, 40};
    }
    assertThat(decide(blocks, 0.05).promote()).isTrue();
    // the point improvement clears a 10% margin, its lower bound does not: not promoted
    PromotionGate.Decision d = decide(blocks, 0.10);
    assertThat(d.improvement()).isCloseTo(0.11, within(1e-12)).isGreaterThan(0.10);
    assertThat(d.ciLow()).isLessThan(0.10);
    assertThat(d.promote()).isFalse();
    assertThat(d.reason()).contains("improvement 11.00%").contains("does not clear margin 10.00%");
    assertThat(decide(blocks, 0.15).promote()).isFalse();
  }

  @Test
  void decisionIsAnAuditableRecord() {
    double[][] blocks = new double[PromotionGate.MIN_BLOCKS][];
    for (int i = 0; i < blocks.length; i++) {
      blocks[i] = new double[] {4 + 0.1 * i, 5 + 0.1 * i, 10};
    }
    PromotionGate.Decision d = decide(blocks, 0.0);
    assertThat(d.asRecord())
        .containsEntry("decision", "PROMOTED")
        .containsEntry("metric", "wape")
        .containsEntry("champion_version", "3")
        .containsEntry("window_end", "2024-01-31")
        .containsEntry("bootstrap_blocks", PromotionGate.MIN_BLOCKS)
        .containsEntry("bootstrap_min_blocks", PromotionGate.MIN_BLOCKS)
        .containsKeys("ci90_low", "ci90_high", "bootstrap_samples", "reason");
  }

  @Test
  void tooFewBlocksAreNotPromotedWhateverTheImprovement() {
    // one block: every resample is that block, so the interval would collapse to the point estimate and a 20%
    // improvement would "clear" any margin below it; a few blocks give an interval as narrow as it is unreliable
    for (int n : new int[] {1, 2, PromotionGate.MIN_BLOCKS - 1}) {
      double[][] blocks = new double[n][];
      for (int i = 0; i < n; i++) {
        blocks[i] = new double[] {4, 5, 10};
      }
      PromotionGate.Decision d = decide(blocks, 0.0);
      assertThat(d.promote()).as("%d blocks", n).isFalse();
      assertThat(d.blocks()).isEqualTo(n);
      assertThat(d.improvement()).isCloseTo(0.2, within(1e-12)); // the point estimates stay on the record
      assertThat(d.challengerMetric()).isCloseTo(0.4, within(1e-12));
      assertThat(d.ciLow()).isNaN(); // no interval: it would mean nothing
      assertThat(d.reason())
          .contains("improvement 20.00%")
          .contains(n + " " + (n == 1 ? "entity" : "entities"))
          .contains("fewer than the " + PromotionGate.MIN_BLOCKS)
          .contains("--force-promote");
      assertThat(d.asRecord())
          .containsEntry("decision", "REJECTED")
          .containsEntry("bootstrap_blocks", n)
          .containsEntry("bootstrap_min_blocks", PromotionGate.MIN_BLOCKS)
          .containsEntry("ci90_low", null);
    }
  }
}
