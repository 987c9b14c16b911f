package io.nightshift.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.nightshift.core.Errors;
import io.nightshift.core.InvalidInputException;
import io.nightshift.core.UseCase;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.quality.QualityGate;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Model specs from YAML ({@code conf/models/*.yaml}, shipped in the jar under {@code nightshift/models/}). Every key
 * is checked before any Spark work: unknown keys, unknown features, a task that does not fit the objective, and
 * out-of-range numbers are input errors naming the file, the key and the fix.
 */
public final class ModelSpecs {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> TOP_LEVEL =
      Set.of("name", "use_case", "task", "feature_view", "features", "booster", "num_round", "validation", "seed",
          "backtest", "alert", "search");

  private ModelSpecs() {}

  /** The shipped spec of a use case. */
  public static ModelSpec forUseCase(UseCase useCase) {
    String resource = "nightshift/models/" + useCase.id() + ".yaml";
    try (InputStream in = ModelSpecs.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("The jar has no " + resource + "; rebuild with mvn package");
      }
      return parse(YAML.readTree(in), "classpath:" + resource, null);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + resource + ": " + e.getMessage(), e);
    }
  }

  public static ModelSpec demand() {
    return forUseCase(UseCase.DEMAND);
  }

  public static ModelSpec maintenance() {
    return forUseCase(UseCase.MAINTENANCE);
  }

  /** A spec from a YAML file. */
  public static ModelSpec load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw Errors.invalidOption("--spec", file.toString(), "pass an existing model spec YAML file (see conf/models/)");
    }
    try {
      return parse(YAML.readTree(file.toFile()), file.toString(), file.toAbsolutePath().getParent());
    } catch (IOException e) {
      throw Errors.invalidOption("--spec", file.toString(), "fix the YAML syntax: " + e.getMessage());
    }
  }

  static ModelSpec parse(JsonNode root, String source) {
    return parse(root, source, null);
  }

  /**
   * @param specDir the directory of the spec file, against which a {@code feature_view} path or name is resolved
   *     (null for specs read from the classpath)
   */
  static ModelSpec parse(JsonNode root, String source, Path specDir) {
    if (root == null || !root.isObject()) {
      throw bad(source, "(root)", "is not a mapping", "write the spec as in conf/models/demand.yaml");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!TOP_LEVEL.contains(key)) {
        throw bad(source, key, "is not a spec key", "use only " + new java.util.TreeSet<>(TOP_LEVEL));
      }
    }
    String name = text(root, "name", source);
    UseCase useCase = useCase(text(root, "use_case", source), source);
    Task task = task(text(root, "task", source), source);
    FeatureView view = root.has("feature_view")
        ? FeatureViews.resolve(text(root, "feature_view", source), specDir, source, useCase)
        : QualityGate.view(useCase);
    List<String> features = features(root.path("features"), view, source);
    Map<String, Object> booster = booster(root.get("booster"), task, source);
    String objective = String.valueOf(booster.get("objective"));
    boolean classifier = objective.startsWith("binary:");
    if (classifier != (task == Task.BINARY_CLASSIFICATION)) {
      throw bad(source, "booster.objective", "'" + objective + "' does not fit task " + task.name().toLowerCase(Locale.ROOT),
          task == Task.BINARY_CLASSIFICATION ? "use binary:logistic" : "use a reg: objective (reg:tweedie, reg:squarederror, ...)");
    }
    if (task == Task.BINARY_CLASSIFICATION && useCase == UseCase.DEMAND && !root.has("feature_view")) {
      throw bad(source, "task", "binary_classification does not fit use case demand (label sales)", "use regression");
    }
    int numRound = positiveInt(root, "num_round", source);
    JsonNode validation = root.path("validation");
    if (!validation.isObject()) {
      throw bad(source, "validation", "is missing", "add validation: {days: 28} or validation: {split_by: KEY, fraction: 0.2}");
    }
    onlyKeys(validation, "validation", source, Set.of("days", "purge_days", "split_by", "fraction"));
    ModelSpec.EntitySplit split = null;
    int days;
    int purge;
    if (validation.has("split_by")) {
      if (validation.has("days") || validation.has("purge_days")) {
        throw bad(source, "validation", "has both split_by and days", "validate either on held-out entities "
            + "(split_by, fraction) or on the last days (days, purge_days)");
      }
      String key = validation.get("split_by").asText();
      if (!view.keys().contains(key)) {
        throw bad(source, "validation.split_by", "'" + key + "' is not an entity key of " + view.name(), "use one of " + view.keys());
      }
      JsonNode f = validation.get("fraction");
      if (f == null || !f.isNumber() || !(f.asDouble() > 0 && f.asDouble() < 1)) {
        throw bad(source, "validation.fraction", "must be a share of the entities between 0 and 1 (found "
            + (f == null ? "nothing" : f) + ")", "e.g. fraction: 0.2 holds out a fifth of the " + key + "s");
      }
      split = new ModelSpec.EntitySplit(key, f.asDouble());
      days = 1;
      purge = 0;
    } else {
      if (!view.datedEvents()) {
        throw bad(source, "validation.days", "needs a date event time, but " + view.name() + " counts "
            + view.dateColumn() + " in integer steps", "hold out whole entities: validation: {split_by: "
            + view.keys().get(0) + ", fraction: 0.2}");
      }
      days = positiveInt(validation, "days", source + " validation");
      purge = validation.has("purge_days") ? validation.get("purge_days").asInt(-1) : 0;
      if (purge < 0) {
        throw bad(source, "validation.purge_days", "must be 0 or more", "set the days dropped between training and validation");
      }
    }
    long seed = root.has("seed") ? root.get("seed").asLong() : 42;
    FeatureView selected = view.withFeatures(features);
    Evaluation evaluation = evaluation(root, source, task, view, days, seed);
    if (split != null && evaluation.backtestFolds() > 1) {
      throw bad(source, "backtest.folds", "rolls the cutoff over time, which a split_by validation does not use",
          "remove the backtest section (or set folds: 1)");
    }
    return new ModelSpec(name, task, selected, booster, numRound, days, purge, seed, evaluation, split);
  }

  private static void onlyKeys(JsonNode node, String section, String source, Set<String> allowed) {
    if (!node.isObject()) {
      throw bad(source, section, "is not a mapping", "write " + section + " as in conf/models/demand.yaml");
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!allowed.contains(key)) {
        throw bad(source, section + "." + key, "is not a " + section + " key", "use only " + new java.util.TreeSet<>(allowed));
      }
    }
  }

  private static Evaluation evaluation(
      JsonNode root, String source, Task task, FeatureView view, int validationDays, long seed) {
    Evaluation d = Evaluation.DEFAULT;
    int folds = d.backtestFolds();
    int step = validationDays;
    String segment = null;
    JsonNode bt = root.get("backtest");
    if (bt != null) {
      onlyKeys(bt, "backtest", source, Set.of("folds", "step_days", "segment_by"));
      folds = bt.has("folds") ? positiveInt(bt, "folds", source + " backtest") : d.backtestFolds();
      step = bt.has("step_days") ? positiveInt(bt, "step_days", source + " backtest") : validationDays;
      if (bt.has("segment_by")) {
        segment = bt.get("segment_by").asText();
        if (!view.keys().contains(segment)) {
          throw bad(source, "backtest.segment_by", "'" + segment + "' is not a key of " + view.name(),
              "use one of " + view.keys());
        }
      }
    }
    double threshold = d.alertThreshold();
    double costFn = d.costFalseNegative();
    double costFp = d.costFalsePositive();
    JsonNode alert = root.get("alert");
    if (alert != null) {
      if (task != Task.BINARY_CLASSIFICATION) {
        throw bad(source, "alert", "only applies to binary_classification", "remove the alert section");
      }
      onlyKeys(alert, "alert", source, Set.of("threshold", "cost_false_negative", "cost_false_positive"));
      threshold = number(alert, "alert", "threshold", threshold, source);
      if (!(threshold > 0 && threshold < 1)) {
        throw bad(source, "alert.threshold", "must be between 0 and 1 (found " + threshold + ")", "e.g. 0.5");
      }
      costFn = number(alert, "alert", "cost_false_negative", costFn, source);
      costFp = number(alert, "alert", "cost_false_positive", costFp, source);
      if (costFn < 0 || costFp < 0) {
        throw bad(source, "alert", "costs must be 0 or more", "give the cost of a missed failure and of a needless visit");
      }
    }
    Evaluation.Search search = null;
    JsonNode sn = root.get("search");
    if (sn != null) {
      onlyKeys(sn, "search", source, Set.of("trials", "metric", "space"));
      int trials = positiveInt(sn, "trials", source + " search");
      String metric = sn.has("metric") ? sn.get("metric").asText()
          : task.numeric() ? "valid_rmse" : "valid_logloss";
      if (!metric.startsWith("valid_")) {
        throw bad(source, "search.metric", "'" + metric + "' is not a validation metric",
            task == Task.REGRESSION ? "use valid_wape, valid_rmse, valid_pinball, ..."
                : task == Task.RUL_REGRESSION ? "use valid_rmse, valid_mae, valid_phm08_score"
                : "use valid_logloss, valid_pr_auc, ...");
      }
      JsonNode space = sn.get("space");
      if (space == null || !space.isObject() || space.isEmpty()) {
        throw bad(source, "search.space", "is missing or empty", "map booster parameters to [choices] or {min, max}");
      }
      Map<String, List<Object>> choices = new LinkedHashMap<>();
      Map<String, double[]> ranges = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = space.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String key = "search.space." + e.getKey();
        refuseEarlyStopping(e.getKey(), key, source);
        requireXgboostParam(e.getKey(), key, task, source);
        JsonNode v = e.getValue();
        Class<?> wholeType = XGBoostTrainer.wholeNumberType(e.getKey());
        if (v.isArray() && !v.isEmpty()) {
          List<Object> values = new ArrayList<>();
          v.forEach(x -> values.add(x.isInt() ? (Object) x.asInt() : x.isNumber() ? (Object) x.asDouble() : x.asText()));
          if (wholeType != null && !values.stream().allMatch(x -> x instanceof Integer)) {
            throw bad(source, key, "takes whole numbers, as XGBoost types " + e.getKey() + " (found " + v + ")",
                "list whole numbers, e.g. " + e.getKey() + ": [3, 5, 7]");
          }
          choices.put(e.getKey(), values);
        } else if (v.isObject() && v.has("min") && v.has("max") && v.get("min").isNumber() && v.get("max").isNumber()
            && v.get("min").asDouble() <= v.get("max").asDouble()) {
          double min = v.get("min").asDouble();
          double max = v.get("max").asDouble();
          if (wholeType != null && !(whole(min) && whole(max))) {
            // [ceil(min), floor(max)] would silently narrow the range, or hold no whole number at all
            long lo = (long) Math.ceil(min);
            long hi = (long) Math.floor(max);
            String example = lo <= hi ? "{min: " + lo + ", max: " + hi + "}"
                : "{min: " + (long) Math.floor(min) + ", max: " + (long) Math.ceil(max) + "}";
            throw bad(source, key, "takes whole numbers, as XGBoost types " + e.getKey() + " (found {min: "
                    + v.get("min") + ", max: " + v.get("max") + "})",
                "give whole-number bounds, e.g. " + e.getKey() + ": " + example + " (trials draw the whole numbers"
                    + " from min to max, both included)");
          }
          if (wholeType == Integer.class && (min < Integer.MIN_VALUE || max > Integer.MAX_VALUE)) {
            throw bad(source, key, "exceeds the int XGBoost takes for " + e.getKey(), "narrow the range");
          }
          ranges.put(e.getKey(), new double[] {min, max});
        } else {
          throw bad(source, key, "is neither a non-empty list of choices nor {min, max} with min <= max",
              "e.g. max_depth: [4, 6, 8] or eta: {min: 0.03, max: 0.2}");
        }
      }
      search = new Evaluation.Search(trials, metric, choices, ranges, seed);
    }
    return new Evaluation(folds, step, segment, threshold, costFn, costFp, search);
  }

  /** A finite number without a fractional part, within the range of a long. */
  private static boolean whole(double v) {
    return Double.isFinite(v) && Math.rint(v) == v && Math.abs(v) < 1e15;
  }

  private static double number(JsonNode node, String section, String key, double dflt, String source) {
    JsonNode v = node.get(key);
    if (v == null) {
      return dflt;
    }
    if (!v.isNumber()) {
      throw bad(source, section + "." + key, "must be a number (found " + v + ")", "give a number");
    }
    return v.asDouble();
  }

  private static List<String> features(JsonNode node, FeatureView view, String source) {
    if (node.isMissingNode() || node.isNull()) {
      return view.features();
    }
    onlyKeys(node, "features", source, Set.of("include", "exclude"));
    if (node.has("include") && node.has("exclude")) {
      throw bad(source, "features", "has both include and exclude", "use one of them");
    }
    if (node.isEmpty()) {
      throw bad(source, "features", "is empty", "give features.include or features.exclude a list, or remove features");
    }
    String which = node.has("include") ? "include" : "exclude";
    JsonNode list = node.get(which);
    if (!list.isArray()) {
      throw bad(source, "features." + which, "is not a list (found " + list + ")", "write it as a list, e.g. [lag_7, lag_14]");
    }
    List<String> listed = new ArrayList<>();
    list.forEach(n -> listed.add(n.asText()));
    for (String f : listed) {
      if (!view.features().contains(f)) {
        throw bad(source, "features", "names unknown feature '" + f + "'",
            "use features of " + view.name() + ": " + view.features());
      }
    }
    List<String> out =
        node.has("include") ? listed : view.features().stream().filter(f -> !listed.contains(f)).toList();
    if (out.isEmpty()) {
      throw bad(source, "features", "leaves no features", "keep at least one feature");
    }
    return out;
  }

  private static Map<String, Object> booster(JsonNode node, Task task, String source) {
    if (node == null || !node.isObject() || !node.has("objective")) {
      throw bad(source, "booster", "needs an objective", "add booster.objective (e.g. reg:tweedie)");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      refuseEarlyStopping(e.getKey(), "booster." + e.getKey(), source);
      requireXgboostParam(e.getKey(), "booster." + e.getKey(), task, source);
      JsonNode v = e.getValue();
      if (!v.isValueNode()) {
        throw bad(source, "booster." + e.getKey(), "is not a single value", "give a number or a string");
      }
      out.put(e.getKey(), v.isInt() ? (Object) v.asInt() : v.isNumber() ? (Object) v.asDouble() : v.isBoolean() ? (Object) v.asBoolean() : v.asText());
    }
    Object metric = out.get("eval_metric");
    if (metric != null && !XGBoostTrainer.acceptsEvalMetric(String.valueOf(metric), task)) {
      throw bad(source, "booster.eval_metric",
          "'" + metric + "' is not an evaluation metric XGBoost4J-Spark takes (it takes names from a fixed list,"
              + " without an @ argument)",
          "use one of its names (e.g. rmse, mae, logloss, auc, aucpr, error), or leave booster.eval_metric out to"
              + " evaluate the objective's default metric (for reg:tweedie that is tweedie-nloglik at the"
              + " tweedie_variance_power)");
    }
    return out;
  }

  /**
   * Early stopping ({@code num_early_stopping_rounds}, XGBoost's {@code early_stopping_rounds}) stops adding trees
   * when the evaluation set stops improving; the trainer's evaluation set is the validation window, the same rows the
   * reported metrics and the promotion gate judge the model on, so those would choose the number of trees and then
   * flatter the model.
   */
  static boolean isEarlyStopping(String name) {
    return XGBoostTrainer.toSparkParam(name).toLowerCase(Locale.ROOT).contains("earlystopping");
  }

  private static void refuseEarlyStopping(String name, String key, String source) {
    if (isEarlyStopping(name)) {
      throw bad(source, key, "would stop adding trees when the validation window stops improving, but that window is"
              + " also where the validation metrics and the promotion gate judge the model (early stopping would"
              + " pick the number of trees on the evaluation rows)",
          key.startsWith("search.")
              ? "remove it and search the number of trees instead, e.g. search.space.num_round: {min: 100, max: 400}"
                  + " (trials validate on rows before the final validation window)"
              : "remove it and set num_round, or search it with search.space.num_round: {min: 100, max: 400} and"
                  + " nightshift train --tune");
    }
  }

  /**
   * A misspelled parameter (max_dept) would otherwise surface only when training configures the booster, after the
   * quality gate ran and the MLflow run started; XGBoost4J-Spark knows each native name, or its camelCase form.
   */
  private static void requireXgboostParam(String name, String key, Task task, String source) {
    if (!XGBoostTrainer.knowsParam(name, task)) {
      throw bad(source, key, "is not an XGBoost parameter",
          "check the spelling against XGBoost's parameters (e.g. max_depth, eta, subsample, min_child_weight,"
              + " tweedie_variance_power)");
    }
  }

  private static String text(JsonNode root, String key, String source) {
    JsonNode v = root.get(key);
    if (v == null || !v.isValueNode() || v.asText().isBlank()) {
      throw bad(source, key, "is missing", "add " + key + " (see conf/models/demand.yaml)");
    }
    return v.asText();
  }

  private static int positiveInt(JsonNode node, String key, String source) {
    JsonNode v = node.get(key);
    if (v == null || !v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
      throw bad(source, key, "must be a whole number of at least 1 (found " + (v == null ? "nothing" : v) + ")",
          "set " + key + " to a positive integer");
    }
    return v.asInt();
  }

  private static UseCase useCase(String value, String source) {
    try {
      return UseCase.parseSelection("use_case", value).stream().filter(u -> u.id().equals(value)).findFirst()
          .orElseThrow(() -> Errors.invalidOption("use_case", value, "use demand or maintenance"));
    } catch (InvalidInputException e) {
      throw bad(source, "use_case", "'" + value + "' is not a use case", "use demand or maintenance");
    }
  }

  private static Task task(String value, String source) {
    try {
      return Task.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw bad(source, "task", "'" + value + "' is not a task", "use regression, binary_classification or rul_regression");
    }
  }

  private static InvalidInputException bad(String source, String key, String problem, String fix) {
    return Errors.invalidOption("model spec " + source + " key " + key, problem, fix);
  }
}
