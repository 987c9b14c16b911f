#!/usr/bin/env bash
# Performance benchmarks; each prints ratios against a peer measured in the same run, on the same rows.
#   benchmarks/run.sh scoring  [--series N] [--days N] [--warmups N] [--repeats N]
#                              Delta->Delta batch scoring vs native Booster.predict
#   benchmarks/run.sh training [--series N] [--days N] [--repeats N] [--workers 1|2] [--spark-defaults]
#                              XGBoost4J-Spark local[2] vs native xgboost4j vs MLlib GBT
#   benchmarks/run.sh pit      [--spine N] [--features N] [--entities N] [--runs N]
#                              point-in-time join: naive join+rank and plain Spark SQL vs PointInTimeJoin
#   benchmarks/run.sh features [--series N] [--days N]
#                              feature views: one incremental night vs a full backfill; Delta vs Parquet writes
#   benchmarks/run.sh all
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WHAT="${1:-all}"; shift || true
mvn -B -q -ntp -Pbenchmarks -DskipTests install -pl benchmarks -am
source scripts/java-opts.sh
run() {
  java -Xmx6g "${SPARK_JAVA17_OPENS[@]}" -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties" \
    -cp "benchmarks/target/nightshift-benchmarks-0.1.0-SNAPSHOT.jar:$(cat benchmarks/target/classpath.txt)" "$@"
}
case "$WHAT" in
  scoring) run io.nightshift.benchmarks.ScoringBenchmark "$@" ;;
  training) run io.nightshift.benchmarks.TrainingBenchmark "$@" ;;
  pit) run io.nightshift.benchmarks.PitJoinBenchmark "$@" ;;
  features) run io.nightshift.benchmarks.FeatureStoreBenchmark "$@" ;;
  all)
    run io.nightshift.benchmarks.ScoringBenchmark "$@"
    run io.nightshift.benchmarks.TrainingBenchmark "$@"
    run io.nightshift.benchmarks.PitJoinBenchmark "$@"
    run io.nightshift.benchmarks.FeatureStoreBenchmark "$@"
    ;;
  *) echo "usage: benchmarks/run.sh scoring|training|pit|features|all [--series N] [--days N] [--spine N] [--features N] [--entities N]" >&2; exit 2 ;;
esac
