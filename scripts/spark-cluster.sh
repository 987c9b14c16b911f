#!/usr/bin/env bash
# A real Spark standalone cluster on this machine (127.0.0.1), without a Spark distribution: one master and N
# workers, each its own JVM, run from the Spark/Delta jars Maven resolved for this project
# (spark-jobs/target/provided-classpath.txt). Submit to it with bin/spark-submit --master spark://127.0.0.1:PORT.
#   scripts/spark-cluster.sh start    start master and workers in the background; waits until all workers are
#                                     registered, then prints the master URL (spark://127.0.0.1:7077)
#   scripts/spark-cluster.sh stop     stop the daemons this script started (and the executors of their workers)
#   scripts/spark-cluster.sh status   print the master URL and the master's JSON status if running
# Settings (environment):
#   NIGHTSHIFT_SPARK_CLUSTER_HOME   state dir: spark-home/ (jars/ links + conf/), logs/, work/, pids (default
#                                   .nightshift/spark-cluster)
#   NIGHTSHIFT_SPARK_MASTER_PORT    master RPC port (default 7077)
#   NIGHTSHIFT_SPARK_MASTER_UI_PORT master web UI port; its JSON status is at /json/ (default 8080)
#   NIGHTSHIFT_SPARK_WORKERS        number of workers (default 2)
#   NIGHTSHIFT_SPARK_WORKER_CORES   cores per worker (default 1)
#   NIGHTSHIFT_SPARK_WORKER_MEMORY  memory per worker for executors (default 1g)
#   NIGHTSHIFT_SPARK_DAEMON_MEMORY  heap of the master and worker JVMs themselves (default 256m)
# Executor logs: $NIGHTSHIFT_SPARK_CLUSTER_HOME/work/<app-id>/<executor-id>/{stdout,stderr}.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${NIGHTSHIFT_SPARK_CLUSTER_HOME:-$ROOT/.nightshift/spark-cluster}"
MASTER_PORT="${NIGHTSHIFT_SPARK_MASTER_PORT:-7077}"
UI_PORT="${NIGHTSHIFT_SPARK_MASTER_UI_PORT:-8080}"
WORKERS="${NIGHTSHIFT_SPARK_WORKERS:-2}"
WORKER_CORES="${NIGHTSHIFT_SPARK_WORKER_CORES:-1}"
WORKER_MEMORY="${NIGHTSHIFT_SPARK_WORKER_MEMORY:-1g}"
DAEMON_MEMORY="${NIGHTSHIFT_SPARK_DAEMON_MEMORY:-256m}"
MASTER_URL="spark://127.0.0.1:$MASTER_PORT"
UI_URL="http://127.0.0.1:$UI_PORT"
CP_FILE="$ROOT/spark-jobs/target/provided-classpath.txt"

mkdir -p "$HOME_DIR"
HOME_DIR="$(cd "$HOME_DIR" && pwd)"
SPARK_HOME_DIR="$HOME_DIR/spark-home"
LOGS="$HOME_DIR/logs"
WORK="$HOME_DIR/work"
PIDS="$HOME_DIR/pids"

master_json() { curl -fsS -m 2 "$UI_URL/json/" 2>/dev/null; }
# "aliveworkers" : 2 in the master's JSON status
alive_workers() { master_json | tr -d ' \n' | sed -n 's/.*"aliveworkers":\([0-9]*\).*/\1/p'; }

# A minimal SPARK_HOME: standalone workers build executor command lines from $SPARK_HOME/jars/* (and put
# $SPARK_HOME/conf on the classpath), so link the resolved jars there.
make_spark_home() {
  if [[ ! -f "$CP_FILE" ]]; then
    echo "spark-cluster: building the job jar first (mvn package, tests skipped)..." >&2
    (cd "$ROOT" && mvn -B -q -ntp -DskipTests package) >&2
  fi
  rm -rf "$SPARK_HOME_DIR"
  mkdir -p "$SPARK_HOME_DIR/jars" "$SPARK_HOME_DIR/conf"
  # one line of ':'-separated paths (no newline at its end); split on ':' only, so a path with spaces stays whole
  local classpath jar jars=()
  classpath="$(cat "$CP_FILE")"
  IFS=: read -ra jars <<< "$classpath"
  for jar in "${jars[@]+"${jars[@]}"}"; do
    [[ -z "$jar" ]] || ln -s "$jar" "$SPARK_HOME_DIR/jars/$(basename "$jar")"
  done
  cp "$ROOT/conf/log4j2.properties" "$SPARK_HOME_DIR/conf/log4j2.properties"
  echo "spark-3.5 (jars resolved by Maven for Nightshift; not a Spark distribution)" > "$SPARK_HOME_DIR/RELEASE"
}

# start_daemon NAME CLASS ARGS...: its own process group (setsid), so stop also ends a worker's executors.
start_daemon() {
  local name="$1"; shift
  # shellcheck source=java-opts.sh
  source "$ROOT/scripts/java-opts.sh"
  SPARK_HOME="$SPARK_HOME_DIR" SPARK_SCALA_VERSION=2.12 SPARK_CONF_DIR="$SPARK_HOME_DIR/conf" \
    setsid java "-Xmx$DAEMON_MEMORY" "${SPARK_JAVA17_OPENS[@]}" \
    -Dlog4j2.configurationFile="$SPARK_HOME_DIR/conf/log4j2.properties" \
    -cp "$SPARK_HOME_DIR/conf:$SPARK_HOME_DIR/jars/*" "$@" >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
}

stop_all() {
  local f pid
  shopt -s nullglob
  # workers first (each takes its executors down), then the master
  for f in "$PIDS"/worker-*.pid "$PIDS"/master.pid; do
    [[ -f "$f" ]] || continue # master.pid is no glob: nullglob keeps it when nothing was started
    pid="$(cat "$f")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

fail_start() {
  echo "spark-cluster: $1; logs in $LOGS:" >&2
  local l
  for l in "$LOGS"/*.log; do echo "--- $l" >&2; tail -n 30 "$l" >&2; done
  stop_all
  exit 1
}

case "${1:-}" in
  start)
    if [[ -f "$PIDS/master.pid" ]] && kill -0 "$(cat "$PIDS/master.pid")" 2>/dev/null && master_json >/dev/null; then
      echo "$MASTER_URL"; exit 0
    fi
    # either port taken by anything (the master would move its UI to the next free port, and this script would wait
    # 60 s for an answer on the one it was given)
    if master_json >/dev/null || (echo > "/dev/tcp/127.0.0.1/$MASTER_PORT") 2>/dev/null \
        || (echo > "/dev/tcp/127.0.0.1/$UI_PORT") 2>/dev/null; then
      echo "spark-cluster: something already answers on port $MASTER_PORT or $UI_PORT; set NIGHTSHIFT_SPARK_MASTER_PORT and NIGHTSHIFT_SPARK_MASTER_UI_PORT to free ports" >&2
      exit 2
    fi
    command -v java >/dev/null || { echo "spark-cluster: Java 17+ is required (java not found)" >&2; exit 2; }
    make_spark_home
    mkdir -p "$LOGS" "$WORK" "$PIDS"
    start_daemon master org.apache.spark.deploy.master.Master \
      --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$UI_PORT"
    for _ in $(seq 1 60); do
      master_json >/dev/null && break
      kill -0 "$(cat "$PIDS/master.pid")" 2>/dev/null || fail_start "the master exited during start-up"
      sleep 1
    done
    master_json >/dev/null || fail_start "no answer from the master on $UI_URL/json/ after 60s"
    for i in $(seq 1 "$WORKERS"); do
      start_daemon "worker-$i" org.apache.spark.deploy.worker.Worker \
        --host 127.0.0.1 --port 0 --webui-port 0 --cores "$WORKER_CORES" --memory "$WORKER_MEMORY" \
        --work-dir "$WORK" "$MASTER_URL"
    done
    for _ in $(seq 1 90); do
      if [[ "$(alive_workers)" == "$WORKERS" ]]; then
        echo "spark-cluster: master $MASTER_URL (web UI $UI_URL) with $WORKERS workers x $WORKER_CORES core(s), $WORKER_MEMORY" >&2
        echo "$MASTER_URL"; exit 0
      fi
      for f in "$PIDS"/worker-*.pid; do
        kill -0 "$(cat "$f")" 2>/dev/null || fail_start "$(basename "$f" .pid) exited during start-up"
      done
      sleep 1
    done
    fail_start "only $(alive_workers) of $WORKERS workers registered after 90s"
    ;;
  stop)
    stop_all
    ;;
  status)
    if master_json >/dev/null; then echo "$MASTER_URL"; master_json; else echo "spark-cluster: no master answers on $UI_URL" >&2; exit 1; fi
    ;;
  *)
    echo "usage: scripts/spark-cluster.sh start|stop|status" >&2; exit 2 ;;
esac
