package io.nightshift.training.tracking;

/**
 * Metric names as MLflow accepts them: letters, digits, {@code _ - . space / :}. XGBoost's metric names may hold
 * other characters ({@code error@0.3}, {@code tweedie-nloglik@1.5}, {@code ndcg@3}); MLflow's server rejects the
 * whole log-batch for one such name.
 */
public final class MetricKeys {
  private MetricKeys() {}

  /**
   * {@code name} as a valid MLflow metric key: {@code @} becomes {@code _at_}, as MLflow's own xgboost autologging
   * writes it ({@code error@0.3} is logged as {@code error_at_0.3}), and any other character MLflow refuses becomes
   * {@code _}. A slash also becomes {@code _}: MLflow refuses names that are not plain relative paths.
   */
  public static String of(String name) {
    String at = name.replace("@", "_at_");
    StringBuilder key = new StringBuilder(at.length());
    for (int i = 0; i < at.length(); i++) {
      char c = at.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '_' || c == '-' || c == '.' || c == ' ' || c == ':';
      key.append(ok ? c : '_');
    }
    return key.toString();
  }
}
