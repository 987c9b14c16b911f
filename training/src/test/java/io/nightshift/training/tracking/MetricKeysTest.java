package io.nightshift.training.tracking;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MetricKeysTest {
  @Test
  void xgboostMetricNamesBecomeKeysMlflowAccepts() {
    assertThat(MetricKeys.of("valid-tweedie-nloglik@1.3")).isEqualTo("valid-tweedie-nloglik_at_1.3");
    assertThat(MetricKeys.of("train-error@0.3")).isEqualTo("train-error_at_0.3");
    assertThat(MetricKeys.of("valid-ndcg@3-")).isEqualTo("valid-ndcg_at_3-");
    assertThat(MetricKeys.of("valid-rmse")).isEqualTo("valid-rmse");
    assertThat(MetricKeys.of("valid-a/b (c)+é")).isEqualTo("valid-a_b _c___");
    assertThat(MetricKeys.of("train-default_metric_of_reg:tweedie")).isEqualTo("train-default_metric_of_reg:tweedie");
  }
}
