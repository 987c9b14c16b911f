#!/usr/bin/env bash
# A real local MLflow tracking server: SQLite backend store, artifacts proxied by the server, bound to 127.0.0.1.
#   scripts/mlflow.sh start    install (first run) and start in the background; waits for /health
#   scripts/mlflow.sh stop     stop the server this script started
#   scripts/mlflow.sh status   print the tracking URI if running
#   scripts/mlflow.sh serve    run in the foreground (Ctrl-C stops it), e.g. to browse the UI after a demo
# Settings: NIGHTSHIFT_MLFLOW_HOME (data dir, default .nightshift/mlflow), NIGHTSHIFT_MLFLOW_PORT (default 5000).
# MLflow 3's job runner (seven worker processes for GenAI jobs) is off unless MLFLOW_SERVER_ENABLE_JOB_EXECUTION says
# otherwise: Nightshift does not use it, and without it the server starts with half the CPU (about 8 s instead of 17).
set -euo pipefail
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${NIGHTSHIFT_MLFLOW_HOME:-$ROOT/.nightshift/mlflow}"
PORT="${NIGHTSHIFT_MLFLOW_PORT:-5000}"
URI="http://127.0.0.1:$PORT"
mkdir -p "$HOME_DIR/artifacts"
HOME_DIR="$(cd "$HOME_DIR" && pwd)" # absolute: start and serve cd into it
PID_FILE="$HOME_DIR/server.pid"
LOG="$HOME_DIR/server.log"

healthy() { curl -fsS -m 2 "$URI/health" >/dev/null 2>&1; }

# The server runs in HOME_DIR and names its store and artifacts relative to it: MLflow and SQLAlchemy decode both
# URIs ('%XX', '?'), and MLflow creates the store's directory from the undecoded text, so no path goes into them.
# The command line is an array: VENV's path may contain spaces (it is made absolute, for the cd).
server_command() {
  SERVER_CMD=("$(cd "$1" && pwd)/bin/mlflow" server --backend-store-uri sqlite:///mlflow.db
    --artifacts-destination ./artifacts --serve-artifacts --host 127.0.0.1 --port "$PORT" --workers 1)
}

source "$ROOT/scripts/daemon.sh"
NAME=mlflow.sh
URL="$URI"

case "${1:-}" in
  start)
    if daemon_running; then echo "$URI"; exit 0; fi
    daemon_check_port NIGHTSHIFT_MLFLOW_PORT
    VENV="$("$ROOT/scripts/python-env.sh" mlflow)"
    server_command "$VENV"
    cd "$HOME_DIR"
    daemon_start 180 "${SERVER_CMD[@]}"
    echo "$URI"
    ;;
  stop)
    daemon_stop
    ;;
  status)
    daemon_status
    ;;
  serve)
    VENV="$("$ROOT/scripts/python-env.sh" mlflow)"
    server_command "$VENV"
    cd "$HOME_DIR"
    echo "MLflow UI on $URI (Ctrl-C to stop)" >&2
    exec "${SERVER_CMD[@]}"
    ;;
  *)
    echo "usage: scripts/mlflow.sh start|stop|status|serve" >&2; exit 2 ;;
esac
