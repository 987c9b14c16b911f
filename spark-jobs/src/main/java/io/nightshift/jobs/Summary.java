package io.nightshift.jobs;

import io.nightshift.training.TrainingPipeline;
import java.util.Map;

/** One-line renderings of results for the console. */
final class Summary {
  private Summary() {}

  static String headline(TrainingPipeline.Outcome o) {
    Map<String, Double> m = o.model().metrics();
    if (m.containsKey("valid_auc")) {
      return String.format(
          "AUC %.3f, PR-AUC %.3f, recall@0.5 %.2f", m.get("valid_auc"), m.get("valid_pr_auc"), m.get("valid_recall_at_0_5"));
    }
    if (m.containsKey("valid_phm08_score")) {
      return String.format(
          "RMSE %.2f, MAE %.2f, bias %+.2f, PHM08 score %.2f per row", m.get("valid_rmse"), m.get("valid_mae"),
          m.get("valid_bias"), m.get("valid_phm08_score"));
    }
    if (!m.containsKey("baseline_wape_lag7")) {
      return String.format("WAPE %.3f, RMSE %.2f", m.get("valid_wape"), m.get("valid_rmse"));
    }
    return String.format(
        "WAPE %.3f (seasonal naive %.3f), RMSE %.2f",
        m.get("valid_wape"), m.get("baseline_wape_lag7"), m.get("valid_rmse"));
  }

}
