#!/usr/bin/env bash
# Airflow tests, all of them, on a fresh machine (after `mvn -B -ntp -DskipTests package` built the job jar):
#   1. the DAG unit tests (scripts/test-dags.sh: pytest, no server), beside the set-up of step 2 and reported as its
#      first check, dag-unit-tests;
#   2. a real-Airflow integration test: installs Airflow 3 into .nightshift/venvs/airflow (once), starts a real
#      MLflow server and a real Airflow (api-server, scheduler, dag-processor; SQLite; 127.0.0.1, free ports) in a
#      temporary directory, prepares a night of synthetic data and a champion model with bin/nightshift, then drives
#      Airflow with the Java client (io.nightshift.airflow.AirflowCli): trigger nightly_demand_forecast for one date,
#      wait for it (the Spark jobs really run: spark-submit is bin/spark-submit, master local[2]), read task logs,
#      re-trigger (idempotent), post a retraining signal and wait for the asset-triggered weekly_retrain.
# Everything it started is stopped on exit. The last line is "airflow-it: N passed, M failed".
#   --no-unit          skip step 1
#   NIGHTSHIFT_IT_KEEP=1   keep the temporary directory (logs, warehouse, Airflow home) for inspection
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

UNIT=1
for a in "$@"; do
  case "$a" in
    --no-unit) UNIT=0 ;;
    *) echo "usage: scripts/test-airflow.sh [--no-unit]" >&2; exit 2 ;;
  esac
done

DATE="2024-12-31"
RUN_ID="nightshift__$DATE"
JOB_JAR="$ROOT/spark-jobs/target/nightshift-jobs.jar"
CLI_JAR="$ROOT/airflow-dags/airflow-client/target/nightshift-airflow-cli.jar"
STARTED_AT=$(date +%s)
PASS=0
FAIL=0

log() { echo "== [$(( $(date +%s) - STARTED_AT ))s] $*" >&2; }

for tool in java curl; do
  command -v "$tool" >/dev/null || { echo "test-airflow: $tool is required" >&2; exit 2; }
done
if [[ ! -f "$JOB_JAR" || ! -f "$ROOT/spark-jobs/target/provided-classpath.txt" ]]; then
  echo "test-airflow: the job jar is missing ($JOB_JAR). Fix: run 'mvn -B -ntp -DskipTests package' first." >&2
  exit 2
fi

VENV="$("$ROOT/airflow-dags/venv.sh")"
if [[ ! -f "$CLI_JAR" ]]; then
  log "building the Airflow client CLI jar"
  mvn -B -q -ntp -pl airflow-dags/airflow-client -DskipTests package >&2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/nightshift-airflow-it.XXXXXX")"
mkdir -p "$WORK/logs"
# Every process started from here inherits this marker, so cleanup can find the ones that outlive their parent
# (spark-submit JVMs of a task being killed) and end them by pid.
export NIGHTSHIFT_IT_MARKER="$WORK"
PIDS=()
MLFLOW_STARTED=0

stop_marked_processes() {
  local pid self=$$ found=()
  for env in /proc/[0-9]*/environ; do
    pid="${env#/proc/}"; pid="${pid%/environ}"
    [[ "$pid" == "$self" ]] && continue
    if { tr '\0' '\n' < "$env"; } 2>/dev/null | grep -qxF "NIGHTSHIFT_IT_MARKER=$WORK"; then found+=("$pid"); fi
  done
  if [[ ${#found[@]} -gt 0 ]]; then
    kill -TERM "${found[@]}" 2>/dev/null || true
    sleep 2
    kill -KILL "${found[@]}" 2>/dev/null || true
  fi
}

cleanup() {
  local pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    local alive=0
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.5
  done
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  if [[ $MLFLOW_STARTED == 1 ]]; then
    NIGHTSHIFT_MLFLOW_HOME="$WORK/mlflow" NIGHTSHIFT_MLFLOW_PORT="$MLFLOW_PORT" "$ROOT/scripts/mlflow.sh" stop || true
  fi
  stop_marked_processes
  if [[ "${NIGHTSHIFT_IT_KEEP:-0}" == 1 ]]; then
    echo "test-airflow: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}

finish() {
  local rc=$?
  trap - EXIT
  set +e
  if [[ $rc -ne 0 && $FAIL -eq 0 ]]; then
    FAIL=1 # set-up failed before any check could fail
    echo "airflow-it: FAIL set-up (exit code $rc); logs follow" >&2
    for f in "$WORK"/logs/*.log; do [[ -f "$f" ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  fi
  cleanup
  log "done"
  echo "airflow-it: $PASS passed, $FAIL failed"
  [[ $FAIL -eq 0 ]] && exit 0 || exit 1
}
trap finish EXIT
trap 'exit 130' INT TERM

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ---------------------------------------------------------------------------------------------------------------
# The set-up runs side by side where it can, as each step keeps about one of CI's two CPUs busy: the DAG unit tests
# (pytest) beside all of it, and the night's data and first champion (bin/nightshift) beside Airflow's start-up.
UNIT_PID=""
if [[ $UNIT == 1 ]]; then
  log "DAG unit tests (pytest), beside the set-up"
  "$ROOT/scripts/test-dags.sh" -q > "$WORK/logs/pytest.log" 2>&1 &
  UNIT_PID=$!
fi

log "starting MLflow"
MLFLOW_PORT="$(free_port)"
MLFLOW_STARTED=1
export MLFLOW_TRACKING_URI
MLFLOW_TRACKING_URI="$(NIGHTSHIFT_MLFLOW_HOME="$WORK/mlflow" NIGHTSHIFT_MLFLOW_PORT="$MLFLOW_PORT" "$ROOT/scripts/mlflow.sh" start)"
log "MLflow at $MLFLOW_TRACKING_URI"

WAREHOUSE="$WORK/warehouse"
export SPARK_LOCAL_IP=127.0.0.1
# The Spark JVMs of this test (bin/nightshift here, spark-submit in the tasks) live a minute at most over small data,
# mostly cold code: the C1 compiler alone takes about 40% off their CPU time (production keeps tiered compilation).
export NIGHTSHIFT_JAVA_OPTS="-Xmx2g -XX:TieredStopAtLevel=1"
log "generating data and training the first champion (bin/nightshift), while Airflow starts"
(
  bin/nightshift --warehouse "$WAREHOUSE" generate --seed 7 --start 2024-06-01 --end "$DATE" --stores 3 --items 5 \
    --machines 10 &&
    bin/nightshift --warehouse "$WAREHOUSE" features build --as-of "$DATE" --use-case demand &&
    bin/nightshift --warehouse "$WAREHOUSE" train --as-of "$DATE" --use-case demand --backtest-folds 1
) > "$WORK/logs/prepare.log" 2>&1 < /dev/null &
PREPARE_PID=$!

# ---------------------------------------------------------------------------------------------------------------
log "starting Airflow"
AIRFLOW_PORT="$(free_port)"
URL="http://127.0.0.1:$AIRFLOW_PORT"
export AIRFLOW_HOME="$WORK/airflow"
mkdir -p "$AIRFLOW_HOME"
AIRFLOW_PASSWORD="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(16))')"
export AIRFLOW_PASSWORD
printf '{"nightshift": "%s"}' "$AIRFLOW_PASSWORD" > "$AIRFLOW_HOME/passwords.json"
SECRET="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(32))')"

# The DAGs deployed the way the READMEs say (rsync -a --delete airflow-dags/dags/nightshift/
# "$AIRFLOW_HOME/dags/nightshift/"; cp here, rsync may be missing): a copy in a DAGs folder outside the checkout.
mkdir -p "$AIRFLOW_HOME/dags"
cp -R "$ROOT/airflow-dags/dags/nightshift" "$AIRFLOW_HOME/dags/nightshift"
export AIRFLOW__CORE__DAGS_FOLDER="$AIRFLOW_HOME/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__PARALLELISM=2
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db"
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT="$AIRFLOW_PORT"
export AIRFLOW__API__WORKERS=1
export AIRFLOW__API__BASE_URL="$URL"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$URL/execution/"
export AIRFLOW__WORKERS__EXECUTION_API_SERVER_URL="$URL/execution/"
export AIRFLOW__API_AUTH__JWT_SECRET="$SECRET"
export AIRFLOW__API__SECRET_KEY="$SECRET"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="nightshift:admin"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$AIRFLOW_HOME/passwords.json"
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=5
export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=5
export AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES=1
export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="$(free_port)"
export AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC=2
# What the DAGs read: the Spark connection (local master), the jar, the warehouse (as a Variable), MLflow.
export AIRFLOW_CONN_NIGHTSHIFT_SPARK='{"conn_type":"spark","host":"local[2]"}'
export NIGHTSHIFT_JOB_JAR="$JOB_JAR"
export AIRFLOW_VAR_NIGHTSHIFT_WAREHOUSE="$WAREHOUSE"
export NIGHTSHIFT_TASK_RETRIES=0
# Triggered runs only: a cron run of "yesterday" (no data there) would start as soon as the DAG is unpaused.
export NIGHTSHIFT_TIME_SCHEDULES=off
export SPARK_DRIVER_MEMORY=2g SPARK_SUBMIT_OPTS="-XX:TieredStopAtLevel=1"
# spark-submit is the repo's launcher (Spark's own SparkSubmit from the Maven-resolved jars); no pyspark.
export PATH="$ROOT/bin:$VENV/bin:$PATH"

"$VENV/bin/airflow" db migrate > "$WORK/logs/db-migrate.log" 2>&1
for component in api-server scheduler dag-processor; do
  setsid "$VENV/bin/airflow" "$component" > "$WORK/logs/$component.log" 2>&1 < /dev/null &
  PIDS+=("$!")
done

healthy() {
  local h
  h="$(curl -fsS -m 3 "$URL/api/v2/monitor/health" 2>/dev/null)" || return 1
  [[ "$h" == *'"scheduler":{"status":"healthy"'* && "$h" == *'"dag_processor":{"status":"healthy"'* ]]
}
for i in $(seq 1 180); do
  healthy && break
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "test-airflow: an Airflow process exited during start-up" >&2; exit 1; }
  done
  [[ $i == 180 ]] && { echo "test-airflow: Airflow not healthy after 180s" >&2; exit 1; }
  sleep 1
done
log "Airflow healthy at $URL"

TOKEN="$(curl -fsS -m 10 -H 'Content-Type: application/json' \
  -d "{\"username\":\"nightshift\",\"password\":\"$AIRFLOW_PASSWORD\"}" "$URL/auth/token" \
  | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
api() { curl -fsS -m 10 -H "Authorization: Bearer $TOKEN" "$URL/api/v2/$1"; }
for i in $(seq 1 120); do
  api dags/nightly_demand_forecast >/dev/null 2>&1 && api dags/weekly_retrain >/dev/null 2>&1 && break
  [[ $i == 120 ]] && { echo "test-airflow: DAGs not parsed after 120s: $(api importErrors)" >&2; exit 1; }
  sleep 1
done
IMPORT_ERRORS="$(api importErrors)"
[[ "$IMPORT_ERRORS" == *'"total_entries":0'* ]] || { echo "test-airflow: import errors: $IMPORT_ERRORS" >&2; exit 1; }
log "DAGs parsed"
wait "$PREPARE_PID" || { echo "test-airflow: preparing the night with bin/nightshift failed" >&2; exit 1; }
log "night prepared: data, demand features and the first champion"

# ---------------------------------------------------------------------------------------------------------------
cli() { java -jar "$CLI_JAR" --url "$URL" --user nightshift "$@"; }
json_field() { "$VENV/bin/python" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

check() {
  local name="$1"; shift
  local out="$WORK/logs/check-$name.log"
  log "check $name"
  if "$@" > "$out" 2>&1; then
    PASS=$((PASS + 1)); echo "airflow-it: PASS $name"
  else
    FAIL=$((FAIL + 1)); echo "airflow-it: FAIL $name"; tail -n 40 "$out" | sed 's/^/    /'
  fi
}

nightly_run_succeeds() {
  cli trigger nightly_demand_forecast --date "$DATE" --unpause --wait --timeout 12m --poll 5s | tee "$WORK/nightly.txt" \
    || return 1
  grep -q "nightly_demand_forecast run $RUN_ID: success" "$WORK/nightly.txt"
}

every_task_ran() {
  cli status nightly_demand_forecast "$RUN_ID" | tee "$WORK/status.txt" || return 1
  for task in build_features quality_gate score act monitor; do
    grep -Eq "^  $task +success " "$WORK/status.txt" || { echo "task $task did not succeed"; return 1; }
  done
  grep -Eq "^  retraining_signal +(success|skipped) " "$WORK/status.txt"
}

spark_jobs_really_ran() {
  cli logs nightly_demand_forecast "$RUN_ID" build_features score > "$WORK/task-logs.txt" || return 1
  grep -F "Spark-Submit cmd: spark-submit --master local[2]" "$WORK/task-logs.txt" || return 1
  grep -Fq "features build --as-of $DATE --use-case demand" "$WORK/task-logs.txt" || return 1
  grep -E "demand: [0-9]+ predictions for $DATE" "$WORK/task-logs.txt" || return 1
  # The predictions are in the warehouse, read back without Spark.
  "$VENV/bin/python" - "$WAREHOUSE" "$DATE" <<'PY'
import os, sys
from deltalake import DeltaTable
table = DeltaTable(f"{sys.argv[1]}/predictions/demand")
rows = table.to_pyarrow_table().to_pylist()
del table
night = [r for r in rows if str(r.get("score_date")) == sys.argv[2]]
print(f"{len(night)} demand predictions for {sys.argv[2]}", flush=True)
# os._exit: delta-rs' runtime threads can abort the interpreter's shutdown ("terminate called without an active
# exception") after the answer is known; the exit code must be the check's, not that crash's.
os._exit(0 if night else 1)
PY
}

retrigger_is_idempotent() {
  cli trigger nightly_demand_forecast --date "$DATE" | tee "$WORK/retrigger.txt" || return 1
  grep -q "run $RUN_ID already exists (state success); not triggered again" "$WORK/retrigger.txt" || return 1
  local total
  total="$(api dags/nightly_demand_forecast/dagRuns | json_field 'd["total_entries"]')" || return 1
  echo "runs of nightly_demand_forecast: $total"
  [[ "$total" == 1 ]]
}

unknown_dag_is_bad_input() {
  local rc=0
  cli trigger nightly_demand --date "$DATE" > "$WORK/unknown.txt" 2>&1 || rc=$?
  cat "$WORK/unknown.txt"
  [[ $rc == 2 ]] && grep -q "Unknown DAG 'nightly_demand'" "$WORK/unknown.txt" \
    && grep -q "nightly_demand_forecast" "$WORK/unknown.txt"
}

retraining_signal_triggers_weekly_retrain() {
  cli unpause weekly_retrain || return 1
  cli asset-event nightshift://signals/retrain \
    --extra "{\"use_case\": \"demand\", \"date\": \"$DATE\", \"from\": \"airflow-it\"}" || return 1
  local run_id=""
  for _ in $(seq 1 60); do
    run_id="$(api "dags/weekly_retrain/dagRuns?run_type=asset_triggered" \
      | json_field '(d["dag_runs"] or [{}])[0].get("dag_run_id", "")')"
    [[ -n "$run_id" ]] && break
    sleep 2
  done
  [[ -n "$run_id" ]] || { echo "no asset-triggered weekly_retrain run appeared"; api "dags/weekly_retrain/dagRuns"; return 1; }
  echo "asset-triggered run: $run_id"
  cli wait weekly_retrain "$run_id" --timeout 8m --poll 5s || return 1
  cli logs weekly_retrain "$run_id" train > "$WORK/train-log.txt" || return 1
  grep -Fq "train --as-of $DATE --use-case demand" "$WORK/train-log.txt" || return 1
  grep -E "nightshift-demand version [0-9]+ is @challenger" "$WORK/train-log.txt" | tail -n 1
}

dag_unit_tests() {
  local rc=0
  wait "$UNIT_PID" || rc=$?
  cat "$WORK/logs/pytest.log"
  return $rc
}

if [[ -n "$UNIT_PID" ]]; then
  check dag-unit-tests dag_unit_tests
  tail -n 1 "$WORK/logs/pytest.log" >&2
fi
check nightly-run-succeeds nightly_run_succeeds
check every-task-ran every_task_ran
check spark-jobs-really-ran spark_jobs_really_ran
check retrigger-is-idempotent retrigger_is_idempotent
check unknown-dag-is-bad-input unknown_dag_is_bad_input
check retraining-signal-triggers-weekly-retrain retraining_signal_triggers_weekly_retrain
