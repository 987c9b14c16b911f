package io.nightshift.training;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.nightshift.core.Errors;
import io.nightshift.core.NightshiftException;
import io.nightshift.featurestore.FeatureView;
import io.nightshift.featurestore.SparkColumns;
import io.nightshift.training.model.FeatureProfile;
import io.nightshift.training.model.ForecastQuantiles;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import ml.dmlc.xgboost4j.java.XGBoostError;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import ml.dmlc.xgboost4j.scala.spark.XGBoostModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressionModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressor;
import ml.dmlc.xgboost4j.scala.spark.XGBoostTrainingSummary;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Trains a {@link ModelSpec} with XGBoost4J-Spark on a feature table, using the days before the as-of date:
 * validation is the last {@code validationDays} labeled days, training everything before them (less the purge gap).
 * One XGBoost worker per Spark task slot; XGBoost threads never exceed {@code spark.task.cpus}.
 */
public final class XGBoostTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(XGBoostTrainer.class);
  static final String SCORE = "nightshift_score";
  static final String FEATURES = "nightshift_features";

  private XGBoostTrainer() {}

  public static TrainedModel train(SparkSession spark, Dataset<Row> table, ModelSpec spec, LocalDate asOf) {
    FeatureView view = spec.view();
    Column date = col(view.dateColumn());
    Dataset<Row> labeled = table.where(col(view.labelColumn()).isNotNull());
    if (view.datedEvents()) {
      labeled = labeled.where(date.leq(lit(Date.valueOf(asOf))));
    }
    Dataset<Row> train;
    Dataset<Row> valid;
    String trainWindow;
    String validWindow;
    if (spec.entitySplit() != null) {
      Column held = heldOut(spec);
      train = prepare(labeled.where(not(held)), view);
      valid = prepare(labeled.where(held), view);
      trainWindow = "the other entities";
      validWindow = spec.validationScheme();
    } else {
      LocalDate validationStart = asOf.minusDays(spec.validationDays() - 1L);
      LocalDate trainEndExclusive = validationStart.minusDays(spec.purgeDays());
      train = prepare(labeled.where(date.lt(lit(Date.valueOf(trainEndExclusive)))), view);
      valid = prepare(labeled.where(date.geq(lit(Date.valueOf(validationStart)))), view);
      trainWindow = "before " + trainEndExclusive;
      validWindow = validationStart + ".." + asOf;
    }
    int taskCpus = Integer.parseInt(spark.conf().get("spark.task.cpus", "1"));
    int workers = workers(spark, spec, taskCpus);
    train = canonical(train, view, workers).cache();
    valid = canonical(valid, view, workers).cache();
    try {
      Row trainInfo = train.agg(count(lit(1)), min(view.dateColumn()), max(view.dateColumn())).head();
      Row validInfo = valid.agg(count(lit(1)), min(view.dateColumn()), max(view.dateColumn())).head();
      if (trainInfo.getLong(0) == 0 || validInfo.getLong(0) == 0) {
        throw Errors.invalidOption(
            spec.entitySplit() != null ? "validation.split_by of " + spec.modelName() : "--as-of",
            spec.entitySplit() != null ? spec.entitySplit().key() : asOf.toString(),
            String.format(
                "%s: %s has %d labeled training rows (%s) and %d validation rows (%s); %s",
                spec.modelName(), view.name(), trainInfo.getLong(0), trainWindow, validInfo.getLong(0), validWindow,
                spec.entitySplit() != null
                    ? "build the view with more entities or change validation.fraction"
                    : "pick a date with labeled history both before and inside the validation window"));
      }
      String[] features = view.features().toArray(new String[0]);
      LOG.info(
          "Training {} ({}) on {} rows {}..{}, validating on {} rows {}..{} ({}), {} workers",
          spec.modelName(), spec.objective(), trainInfo.getLong(0), String.valueOf(trainInfo.get(1)),
          String.valueOf(trainInfo.get(2)), validInfo.getLong(0), String.valueOf(validInfo.get(1)),
          String.valueOf(validInfo.get(2)), validWindow, workers); // strings: log4j cannot format java.sql.Date

      Map<String, Object> params = new LinkedHashMap<>(spec.boosterParams());
      if (spec.task().numeric() && !params.containsKey("base_score")) {
        // start boosting from the mean label; log-link objectives (tweedie, poisson) converge slowly otherwise
        // averaged as a decimal: a sum of doubles depends on the order of its terms (as doubles only if that overflows)
        Column label = col(view.labelColumn());
        Row mean = train.agg(avg(label.cast("decimal(38,12)")).cast("double"), avg(label)).head();
        params.put("base_score", mean.isNullAt(0) ? mean.getDouble(1) : mean.getDouble(0));
      }
      OpenMpPools.releaseWhenIdle(spark); // local mode: no idle OpenMP pool may throttle this fit's threads
      XGBoostModel<?> model;
      Dataset<Row> scored;
      if (spec.task().numeric()) {
        XGBoostRegressor est = new XGBoostRegressor();
        configure(est, spec, params, features, workers, taskCpus);
        est.setLabelCol(view.labelColumn());
        est.setEvalDataset(valid);
        XGBoostRegressionModel m = est.fit(train);
        model = m;
        scored = m.transform(valid).withColumn(SCORE, col(m.getPredictionCol()));
      } else {
        XGBoostClassifier est = new XGBoostClassifier();
        configure(est, spec, params, features, workers, taskCpus);
        est.setLabelCol(view.labelColumn());
        est.setEvalDataset(valid);
        XGBoostClassificationModel m = est.fit(train);
        model = m;
        scored =
            m.transform(valid)
                .withColumn(SCORE, functions.vector_to_array(col(m.getProbabilityCol()), "float64").getItem(1));
      }
      Map<String, Double> metrics =
          switch (spec.task()) {
            case REGRESSION -> regressionMetrics(scored, view.labelColumn(), view.datedEvents() ? view.dateColumn() : null);
            case RUL_REGRESSION -> rulMetrics(scored, view.labelColumn());
            case BINARY_CLASSIFICATION -> classificationMetrics(scored, view.labelColumn(), spec.evaluation());
          };
      XGBoostTrainingSummary summary = model.summary().get();
      float[] validationCurve = new float[0];
      scala.collection.Iterator<Tuple2<String, float[]>> it = summary.validationObjectiveHistory().iterator();
      if (it.hasNext()) {
        validationCurve = it.next()._2();
      }
      Map<String, FeatureProfile> baseline = new LinkedHashMap<>(FeatureProfile.baseline(train, view.features()));
      baseline.putAll(FeatureProfile.baseline(scored.select(col(SCORE).as("prediction")), List.of("prediction")));
      ml.dmlc.xgboost4j.java.Booster booster = model.nativeBooster().booster();
      return new TrainedModel(
          booster.toByteArray("ubj"),
          List.of(features),
          metrics,
          evalMetric(spec, booster, features),
          summary.trainObjectiveHistory(),
          validationCurve,
          importance(booster, features),
          localDate(trainInfo, 1),
          localDate(trainInfo, 2),
          localDate(validInfo, 1),
          localDate(validInfo, 2),
          trainInfo.getLong(0),
          validInfo.getLong(0),
          metrics.getOrDefault("valid_residual_std", Double.NaN),
          baseline,
          predictedVsActual(scored, view.labelColumn(), spec.task(), validInfo.getLong(0), spec.seed()),
          spec.evaluation().segmentBy() == null
              ? List.of()
              : segmentMetrics(scored, view.labelColumn(), spec.evaluation().segmentBy(), spec.task(),
                  spec.evaluation()));
    } catch (XGBoostError e) {
      throw new NightshiftException("XGBoost failed to train " + spec.modelName() + ": " + e.getMessage(), e);
    } finally {
      train.unpersist();
      valid.unpersist();
    }
  }

  /**
   * The name of the metric XGBoost evaluated each round (the per-round curves): the spec's {@code eval_metric}, or
   * without one the default metric of the objective as XGBoost names it ({@code rmse}, {@code logloss},
   * {@code tweedie-nloglik@1.3}). XGBoost4J has no config read-out, so the trained booster evaluates one row and its
   * evaluation line ({@code [0]\tx-rmse:0.5}) says the name; if it cannot, the name says it is the objective's default.
   */
  static String evalMetric(ModelSpec spec, ml.dmlc.xgboost4j.java.Booster booster, String[] features) {
    Object configured = spec.boosterParams().get("eval_metric");
    if (configured != null && !String.valueOf(configured).isBlank()) {
      return String.valueOf(configured);
    }
    String fallback = "default_metric_of_" + spec.objective();
    try {
      float[] row = new float[features.length];
      java.util.Arrays.fill(row, Float.NaN);
      ml.dmlc.xgboost4j.java.DMatrix one = new ml.dmlc.xgboost4j.java.DMatrix(row, 1, features.length, Float.NaN);
      try {
        one.setFeatureNames(features);
        one.setLabel(new float[] {1f}); // valid for every objective a spec may use (logistic, tweedie, gamma, ...)
        String line = booster.evalSet(new ml.dmlc.xgboost4j.java.DMatrix[] {one}, new String[] {"x"}, 0);
        int start = line.indexOf("\tx-");
        int end = start < 0 ? -1 : line.indexOf(':', start);
        return end > start + 3 ? line.substring(start + 3, end) : fallback;
      } finally {
        one.dispose();
      }
    } catch (XGBoostError | RuntimeException e) {
      LOG.warn("Could not ask XGBoost for the default metric of {}: {}", spec.objective(), e.toString());
      return fallback;
    }
  }

  /** The event time as a date, or null for integer event times (engine cycles). */
  private static LocalDate localDate(Row r, int i) {
    return r.get(i) instanceof Date d ? d.toLocalDate() : null;
  }

  /** True for the rows of held-out entities (see {@link ModelSpec.EntitySplit}). */
  static Column heldOut(ModelSpec spec) {
    ModelSpec.EntitySplit s = spec.entitySplit();
    long cut = Math.round(s.fraction() * ModelSpec.EntitySplit.BUCKETS);
    return org.apache.spark.sql.functions.pmod(
            org.apache.spark.sql.functions.xxhash64(col(s.key()).cast("string"), lit(spec.seed())),
            lit((long) ModelSpec.EntitySplit.BUCKETS))
        .lt(cut);
  }

  /**
   * Label, date, the feature columns with missing values as NaN (XGBoost's missing marker), and {@link #FEATURES}: the
   * same values as a dense vector. Dense matters: XGBoost reads entries absent from a sparse vector as missing, not
   * zero, which would disagree with scoring on dense rows.
   */
  static Dataset<Row> prepare(Dataset<Row> df, FeatureView view) {
    List<Column> cols = new ArrayList<>();
    cols.add(col(view.dateColumn()));
    for (String k : view.keys()) { // for per-segment metrics
      if (!view.features().contains(k) && !k.equals(view.dateColumn())) {
        cols.add(col(k));
      }
    }
    cols.add(col(view.labelColumn()).cast("double").as(view.labelColumn()));
    List<Column> values = new ArrayList<>();
    for (String f : view.features()) {
      Column v = coalesce(col(f).cast("double"), lit(Double.NaN));
      cols.add(v.as(f));
      values.add(v);
    }
    cols.add(functions.array_to_vector(array(values.toArray(new Column[0]))).as(FEATURES));
    return df.select(cols.toArray(new Column[0]));
  }

  /**
   * The prepared rows in {@code workers} partitions chosen by a hash of each row's keys and date, each sorted by keys,
   * date, label and features: the layout XGBoost4J-Spark trains on (one partition per worker, as it comes) then depends
   * on the rows alone, not on the files they were read from. Workers sketch their own rows' quantiles and sum their own
   * gradients, so a model trained on the same rows in another layout would differ.
   */
  static Dataset<Row> canonical(Dataset<Row> prepared, FeatureView view, int workers) {
    List<String> key = new ArrayList<>(view.keys());
    if (!key.contains(view.dateColumn())) {
      key.add(view.dateColumn());
    }
    List<String> order = new ArrayList<>(key);
    order.add(view.labelColumn());
    view.features().stream().filter(f -> !key.contains(f)).forEach(order::add);
    return prepared.repartition(workers, SparkColumns.cols(key)).sortWithinPartitions(SparkColumns.cols(order));
  }

  /**
   * XGBoost workers for {@code spec} in this application: one per task slot ({@link #workers(int, int)}), and on
   * {@code device: cuda} at most one per GPU slot ({@link Device#gpuSlots}): Spark counts cores (at least 2 on a
   * cluster), while XGBoost needs a GPU for each worker at once.
   */
  static int workers(SparkSession spark, ModelSpec spec, int taskCpus) {
    int workers = workers(spark.sparkContext().defaultParallelism(), taskCpus);
    if (String.valueOf(spec.boosterParams().get("device")).startsWith("cuda")) {
      workers = Math.max(1, Math.min(workers, Device.gpuSlots(spark)));
    }
    return workers;
  }

  /**
   * XGBoost workers for {@code cores} task slots of {@code taskCpus} cores each: one worker per slot (barrier mode
   * needs them all at once), each with {@code taskCpus} threads; at most 8.
   */
  static int workers(int cores, int taskCpus) {
    if (taskCpus < 1) {
      throw Errors.invalidOption("spark.task.cpus", Integer.toString(taskCpus), "use 1 or more cores per task");
    }
    return Math.max(1, Math.min(cores / taskCpus, 8));
  }

  private static void configure(
      Params est, ModelSpec spec, Map<String, Object> params, String[] features, int workers, int taskCpus) {
    if (est instanceof XGBoostRegressor r) {
      r.setFeaturesCol(FEATURES);
      r.setFeatureNames(features);
      r.setNumWorkers(workers);
      r.setNthread(taskCpus);
      r.setNumRound(spec.numRound());
      r.setSeed(spec.seed());
      r.setMissing(Float.NaN);
      r.setVerbosity(0);
    } else if (est instanceof XGBoostClassifier c) {
      c.setFeaturesCol(FEATURES);
      c.setFeatureNames(features);
      c.setNumWorkers(workers);
      c.setNthread(taskCpus);
      c.setNumRound(spec.numRound());
      c.setSeed(spec.seed());
      c.setMissing(Float.NaN);
      c.setVerbosity(0);
    }
    for (Map.Entry<String, Object> p : params.entrySet()) {
      if (ModelSpecs.isEarlyStopping(p.getKey())) { // the eval dataset is the validation window (see ModelSpecs)
        throw new IllegalArgumentException("Early stopping (" + p.getKey() + ") in spec " + spec.modelName()
            + " would pick the number of trees on the validation window; set num_round instead");
      }
      String name = paramName(est, p.getKey());
      if (name == null) {
        throw new IllegalArgumentException(
            "Unknown XGBoost parameter '" + p.getKey() + "' in spec " + spec.modelName());
      }
      est.set(est.getParam(name), p.getValue());
    }
  }

  /**
   * Whether the estimator that trains {@code task} takes parameter {@code name}, as {@link #configure} will set it
   * (ModelSpecs checks a spec's parameters with it before any Spark work).
   */
  static boolean knowsParam(String name, Task task) {
    return paramName(task.numeric() ? new XGBoostRegressor() : new XGBoostClassifier(), name) != null;
  }

  /**
   * The type XGBoost4J-Spark gives parameter {@code name} when that is a whole number ({@code Integer.class} for its
   * IntParams: max_depth, max_leaves, max_bin, num_parallel_tree, num_round, ...; {@code Long.class} for its
   * LongParams), or null for any other parameter (eta, min_child_weight, ...) and for names it does not know. A decimal
   * value for such a parameter fails only when {@link #configure} sets it, mid-search. The regressor and the classifier
   * type their parameters alike.
   */
  static Class<?> wholeNumberType(String name) {
    String typed = WholeNumberParams.TYPES.containsKey(name) ? name : toSparkParam(name);
    return WholeNumberParams.TYPES.get(typed);
  }

  /** Parameter name to Integer.class or Long.class, read once from the estimators' declared params. */
  private static final class WholeNumberParams {
    static final Map<String, Class<?>> TYPES = read();

    private static Map<String, Class<?>> read() {
      Map<String, Class<?>> types = new java.util.HashMap<>();
      for (Params est : new Params[] {new XGBoostRegressor(), new XGBoostClassifier()}) {
        for (org.apache.spark.ml.param.Param<?> p : est.params()) {
          if (p instanceof org.apache.spark.ml.param.IntParam) {
            types.put(p.name(), Integer.class);
          } else if (p instanceof org.apache.spark.ml.param.LongParam) {
            types.put(p.name(), Long.class);
          }
        }
      }
      return Map.copyOf(types);
    }
  }

  /**
   * Whether the estimator that trains {@code task} takes {@code metric} as its {@code eval_metric}: XGBoost4J-Spark
   * checks the value against its own list of metric names when {@link #configure} sets it, which is after the MLflow
   * run started (ModelSpecs checks it before any Spark work).
   */
  static boolean acceptsEvalMetric(String metric, Task task) {
    Params est = task.numeric() ? new XGBoostRegressor() : new XGBoostClassifier();
    String name = paramName(est, "eval_metric");
    return name != null && Boolean.TRUE.equals(est.getParam(name).isValid().apply(metric));
  }

  /**
   * The name under which {@code est} takes parameter {@code name}: XGBoost's native name, or the camelCase form of
   * one of XGBoost4J-Spark's own settings; null when it takes neither.
   */
  private static String paramName(Params est, String name) {
    if (est.hasParam(name)) {
      return name;
    }
    String camel = toSparkParam(name);
    return est.hasParam(camel) ? camel : null;
  }

  /** Rows of the predicted-vs-actual plot (regression) or the calibration table (classification). */
  static final int PLOT_ROWS = 2000;

  static TrainedModel.PredictedVsActual predictedVsActual(
      Dataset<Row> scored, String label, Task task, long validRows, long seed) {
    Dataset<Row> rows =
        scored.where(col(label).isNotNull()).select(col(label).cast("double").as("y"), col(SCORE).cast("double").as("p"));
    List<Row> points;
    if (task.numeric()) {
      double fraction = validRows <= PLOT_ROWS ? 1.0 : Math.min(1.0, 1.2 * PLOT_ROWS / validRows);
      points = rows.sample(false, fraction, seed).limit(PLOT_ROWS).collectAsList();
    } else {
      points =
          rows.withColumn("decile", org.apache.spark.sql.functions.least(
                  org.apache.spark.sql.functions.floor(col("p").multiply(10)), lit(9)))
              .groupBy("decile").agg(avg("y").as("y"), avg("p").as("p")).orderBy("decile").select("y", "p")
              .collectAsList();
    }
    double[] y = new double[points.size()];
    double[] p = new double[points.size()];
    for (int i = 0; i < points.size(); i++) {
      y[i] = points.get(i).getDouble(0);
      p[i] = points.get(i).getDouble(1);
    }
    return new TrainedModel.PredictedVsActual(y, p);
  }

  /** Older XGBoost4J-Spark versions name params in camelCase (max_depth becomes maxDepth); 3.x uses native names. */
  static String toSparkParam(String nativeName) {
    StringBuilder sb = new StringBuilder();
    boolean upper = false;
    for (char ch : nativeName.toCharArray()) {
      if (ch == '_') {
        upper = true;
      } else {
        sb.append(upper ? Character.toUpperCase(ch) : ch);
        upper = false;
      }
    }
    return sb.toString();
  }

  static Map<String, Double> regressionMetrics(Dataset<Row> scored, String label, String dateColumn) {
    Column y = col(label);
    Column p = col(SCORE);
    Column e = p.minus(y);
    Row r =
        scored
            .agg(
                avg(pow(e, 2)),
                avg(abs(e)),
                sum(abs(e)),
                sum(abs(y)),
                sum(e),
                avg(when(abs(y).plus(abs(p)).gt(0), abs(e).multiply(2).divide(abs(y).plus(abs(p)))).otherwise(0.0)),
                avg(e),
                count(lit(1)))
            .head();
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("valid_rmse", Math.sqrt(r.getDouble(0)));
    m.put("valid_mae", r.getDouble(1));
    m.put("valid_wape", r.getDouble(3) == 0 ? Double.NaN : r.getDouble(2) / r.getDouble(3));
    m.put("valid_bias", r.getDouble(3) == 0 ? Double.NaN : r.getDouble(4) / r.getDouble(3));
    m.put("valid_smape", 100 * r.getDouble(5));
    m.put("valid_residual_std", Math.sqrt(Math.max(0, r.getDouble(0) - r.getDouble(6) * r.getDouble(6))));
    m.put("valid_rows", (double) r.getLong(7));
    m.put("valid_mean_label", r.getDouble(3) / r.getLong(7));
    if (java.util.Arrays.asList(scored.columns()).contains("lag_7")) { // demand: seasonal-naive baseline
      Row b =
          scored
              .where(org.apache.spark.sql.functions.not(col("lag_7").isNaN()))
              .agg(sum(abs(col("lag_7").minus(y))), sum(abs(y)))
              .head();
      if (!b.isNullAt(1) && b.getDouble(1) > 0) {
        m.put("baseline_wape_lag7", b.getDouble(0) / b.getDouble(1));
      }
    }
    if (dateColumn != null) {
      m.putAll(ForecastQuantiles.validationMetrics(scored, SCORE, label, col(dateColumn)));
    }
    return m;
  }

  /**
   * Remaining-useful-life metrics: RMSE, MAE, bias (mean of predicted minus actual life) and the PHM08 challenge
   * score per row, {@code exp(-d/13) - 1} for early predictions (d = predicted - actual < 0) and {@code exp(d/10) - 1}
   * for late ones, which predict more life than was left and so miss a failure.
   */
  static Map<String, Double> rulMetrics(Dataset<Row> scored, String label) {
    Column e = col(SCORE).minus(col(label));
    Column phm =
        when(e.lt(0), org.apache.spark.sql.functions.exp(e.divide(-13.0)).minus(1))
            .otherwise(org.apache.spark.sql.functions.exp(e.divide(10.0)).minus(1));
    Row r =
        scored.agg(avg(pow(e, 2)), avg(abs(e)), avg(e), avg(phm), sum(when(e.gt(0), 1).otherwise(0)), count(lit(1)),
            avg(col(label))).head();
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("valid_rmse", Math.sqrt(r.getDouble(0)));
    m.put("valid_mae", r.getDouble(1));
    m.put("valid_bias", r.getDouble(2));
    m.put("valid_phm08_score", r.getDouble(3));
    m.put("valid_late_share", (double) r.getLong(4) / r.getLong(5));
    m.put("valid_residual_std", Math.sqrt(Math.max(0, r.getDouble(0) - r.getDouble(2) * r.getDouble(2))));
    m.put("valid_rows", (double) r.getLong(5));
    m.put("valid_mean_label", r.getDouble(6));
    return m;
  }

  static Map<String, Double> classificationMetrics(Dataset<Row> scored, String label) {
    return classificationMetrics(scored, label, Evaluation.DEFAULT);
  }

  /**
   * Log loss, ROC and PR AUC, precision and recall at 0.5 and at the spec's alert threshold, and the expected cost
   * per scored row at the alert threshold: {@code (cost_fn * missed failures + cost_fp * needless alerts) / rows}.
   */
  static Map<String, Double> classificationMetrics(Dataset<Row> scored, String label, Evaluation evaluation) {
    Column y = col(label);
    Column p = col(SCORE);
    Column predicted = p.geq(0.5);
    Column clipped = when(p.lt(1e-15), 1e-15).when(p.gt(1 - 1e-15), 1 - 1e-15).otherwise(p);
    Row r =
        scored
            .agg(
                sum(when(predicted.and(y.equalTo(1)), 1).otherwise(0)),
                sum(when(predicted, 1).otherwise(0)),
                sum(when(y.equalTo(1), 1).otherwise(0)),
                count(lit(1)),
                avg(
                    y.multiply(org.apache.spark.sql.functions.log(clipped))
                        .plus(lit(1).minus(y).multiply(org.apache.spark.sql.functions.log(lit(1).minus(clipped))))
                        .multiply(-1)))
            .head();
    long tp = r.getLong(0);
    long flagged = r.getLong(1);
    long positives = r.getLong(2);
    long negatives = r.getLong(3) - positives;
    Map<String, Double> m = new LinkedHashMap<>();
    BinaryClassificationEvaluator eval =
        new BinaryClassificationEvaluator().setLabelCol(label).setRawPredictionCol(SCORE);
    // undefined (NaN, which MLflow logging skips and a search never picks) where a class is absent: Spark would
    // report 0 for both curves of a window without failures, the worst possible score rather than none
    m.put("valid_auc",
        positives == 0 || negatives == 0 ? Double.NaN : eval.setMetricName("areaUnderROC").evaluate(scored));
    m.put("valid_pr_auc", positives == 0 ? Double.NaN : eval.setMetricName("areaUnderPR").evaluate(scored));
    m.put("valid_logloss", r.getDouble(4));
    m.put("valid_precision_at_0_5", flagged == 0 ? Double.NaN : (double) tp / flagged);
    m.put("valid_recall_at_0_5", positives == 0 ? Double.NaN : (double) tp / positives);
    m.put("valid_positive_rate", (double) positives / r.getLong(3));
    m.put("valid_rows", (double) r.getLong(3));
    Column alert = p.geq(evaluation.alertThreshold());
    Row a =
        scored
            .agg(
                sum(when(alert.and(y.equalTo(1)), 1).otherwise(0)),
                sum(when(alert, 1).otherwise(0)))
            .head();
    long alertTp = a.getLong(0);
    long alerts = a.getLong(1);
    m.put("valid_precision_at_alert", alerts == 0 ? Double.NaN : (double) alertTp / alerts);
    m.put("valid_recall_at_alert", positives == 0 ? Double.NaN : (double) alertTp / positives);
    m.put(
        "valid_expected_cost",
        (evaluation.costFalseNegative() * (positives - alertTp) + evaluation.costFalsePositive() * (alerts - alertTp))
            / r.getLong(3));
    return m;
  }

  /**
   * Validation metrics per value of {@code segment}, by the formulas of {@link #regressionMetrics} and
   * {@link #classificationMetrics}: rows, WAPE, RMSE, bias, MAE and SMAPE (in percent) for regression; rows, positives,
   * precision and recall at the alert threshold and the expected cost per row for classification. A ratio whose
   * denominator is 0 in a segment (WAPE and bias without sales, precision without alerts, recall without failures) is
   * NaN: every division is guarded, so ANSI mode does not throw.
   */
  static List<SegmentMetrics> segmentMetrics(
      Dataset<Row> scored, String label, String segment, Task task, Evaluation evaluation) {
    Column y = col(label).cast("double");
    Column p = col(SCORE);
    Column e = p.minus(y);
    Column n = count(lit(1));
    List<Row> rows;
    if (task.numeric()) {
      Column absLabels = sum(abs(y));
      Column scale = abs(y).plus(abs(p));
      rows =
          scored
              .groupBy(col(segment).cast("string").as("segment"))
              .agg(
                  n.as("n"),
                  when(absLabels.gt(0), sum(abs(e)).divide(absLabels)).as("wape"),
                  org.apache.spark.sql.functions.sqrt(avg(pow(e, 2))).as("rmse"),
                  when(absLabels.gt(0), sum(e).divide(absLabels)).as("bias"),
                  avg(abs(e)).as("mae"),
                  avg(when(scale.gt(0), abs(e).multiply(2).divide(scale)).otherwise(0.0)).multiply(100).as("smape"))
              .orderBy("segment")
              .collectAsList();
    } else {
      Column alert = p.geq(evaluation.alertThreshold());
      Column caught = sum(when(alert.and(y.equalTo(1)), 1.0).otherwise(0.0));
      Column alerts = sum(when(alert, 1.0).otherwise(0.0));
      Column positives = sum(y);
      rows =
          scored
              .groupBy(col(segment).cast("string").as("segment"))
              .agg(
                  n.as("n"),
                  positives.as("positives"),
                  when(alerts.gt(0), caught.divide(alerts)).as("precision_at_alert"),
                  when(positives.gt(0), caught.divide(positives)).as("recall_at_alert"),
                  // a group has at least one row
                  lit(evaluation.costFalseNegative()).multiply(positives.minus(caught))
                      .plus(lit(evaluation.costFalsePositive()).multiply(alerts.minus(caught)))
                      .divide(n)
                      .as("expected_cost"))
              .orderBy("segment")
              .collectAsList();
    }
    List<SegmentMetrics> out = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Double> m = new LinkedHashMap<>();
      for (int i = 2; i < r.length(); i++) {
        m.put(r.schema().fields()[i].name(), r.isNullAt(i) ? Double.NaN : ((Number) r.get(i)).doubleValue());
      }
      out.add(new SegmentMetrics(segment, r.getString(0), r.getLong(1), m));
    }
    return out;
  }

  /** Total gain per feature, by feature name, largest first (features never split on are absent). */
  static Map<String, Double> importance(ml.dmlc.xgboost4j.java.Booster booster, String[] features)
      throws XGBoostError {
    Map<String, Double> raw = booster.getScore((String) null, "total_gain");
    Map<String, Double> byName = new TreeMap<>();
    raw.forEach(
        (k, v) -> {
          String name = k;
          if (k.matches("f\\d+")) {
            int i = Integer.parseInt(k.substring(1));
            name = i < features.length ? features[i] : k;
          }
          byName.put(name, v);
        });
    Map<String, Double> sorted = new LinkedHashMap<>();
    byName.entrySet().stream()
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }
}
