#!/usr/bin/env bash
# A real local MLflow tracking server: SQLite backend store, artifacts proxied by the server, bound to 127.0.0.1.
#   scripts/mlflow.sh start    install (first run) and start in the background; waits for /health
#   scripts/mlflow.sh stop     stop the server this script started
#   scripts/mlflow.sh status   print the tracking URI if running
#   scripts/mlflow.sh serve    run in the foreground (Ctrl-C stops it), e.g. to browse the UI after a demo
# Settings: NIGHTSHIFT_MLFLOW_HOME (data dir, default .nightshift/mlflow), NIGHTSHIFT_MLFLOW_PORT (default 5000).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${NIGHTSHIFT_MLFLOW_HOME:-$ROOT/.nightshift/mlflow}"
PORT="${NIGHTSHIFT_MLFLOW_PORT:-5000}"
URI="http://127.0.0.1:$PORT"
PID_FILE="$HOME_DIR/server.pid"
LOG="$HOME_DIR/server.log"
mkdir -p "$HOME_DIR/artifacts"
HOME_DIR="$(cd "$HOME_DIR" && pwd)"

healthy() { curl -fsS -m 2 "$URI/health" >/dev/null 2>&1; }

server_args() {
  echo server --backend-store-uri "sqlite:///$HOME_DIR/mlflow.db" --artifacts-destination "$HOME_DIR/artifacts" \
    --serve-artifacts --host 127.0.0.1 --port "$PORT" --workers 1
}

case "${1:-}" in
  start)
    if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && healthy; then
      echo "$URI"; exit 0
    fi
    if healthy; then
      echo "mlflow.sh: something else already answers on $URI; set NIGHTSHIFT_MLFLOW_PORT to a free port" >&2
      exit 2
    fi
    VENV="$("$ROOT/scripts/python-env.sh" mlflow)"
    # setsid: own process group, so stop can end the server and its workers together.
    setsid "$VENV/bin/mlflow" $(server_args) >"$LOG" 2>&1 < /dev/null &
    echo $! > "$PID_FILE"
    for _ in $(seq 1 180); do
      if healthy; then echo "$URI"; exit 0; fi
      if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        echo "mlflow.sh: the server exited during start-up; its log ($LOG):" >&2; tail -n 40 "$LOG" >&2; exit 1
      fi
      sleep 1
    done
    echo "mlflow.sh: no answer on $URI/health after 180s; log ($LOG):" >&2; tail -n 40 "$LOG" >&2
    "$0" stop || true
    exit 1
    ;;
  stop)
    if [[ -f "$PID_FILE" ]]; then
      PID="$(cat "$PID_FILE")"
      kill -TERM -- "-$PID" 2>/dev/null || kill -TERM "$PID" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
      kill -KILL -- "-$PID" 2>/dev/null || true
      rm -f "$PID_FILE"
    fi
    ;;
  status)
    if healthy; then echo "$URI"; else echo "mlflow.sh: not running on $URI" >&2; exit 1; fi
    ;;
  serve)
    VENV="$("$ROOT/scripts/python-env.sh" mlflow)"
    echo "MLflow UI on $URI (Ctrl-C to stop)" >&2
    exec "$VENV/bin/mlflow" $(server_args)
    ;;
  *)
    echo "usage: scripts/mlflow.sh start|stop|status|serve" >&2; exit 2 ;;
esac
