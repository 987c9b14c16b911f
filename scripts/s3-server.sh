#!/usr/bin/env bash
# A local S3-compatible server on 127.0.0.1 for trying and testing s3a:// warehouses: moto's standalone server
# (requirements/s3.txt, installed once into .nightshift/venvs/s3). Objects live in the server's memory and are gone
# when it stops. It accepts any credentials; point S3A at it with
#   --conf spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:9000 --conf spark.hadoop.fs.s3a.path.style.access=true
#   --conf spark.hadoop.fs.s3a.connection.ssl.enabled=false   (credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
#   scripts/s3-server.sh start    install (first run), start in the background, create the buckets; prints the endpoint
#   scripts/s3-server.sh stop     stop the server this script started
#   scripts/s3-server.sh status   print the endpoint if running
# Settings: NIGHTSHIFT_S3_HOME (pid and log, default .nightshift/s3), NIGHTSHIFT_S3_PORT (default 9000),
# NIGHTSHIFT_S3_BUCKETS (space-separated buckets to create at start, default "nightshift").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${NIGHTSHIFT_S3_HOME:-$ROOT/.nightshift/s3}"
PORT="${NIGHTSHIFT_S3_PORT:-9000}"
BUCKETS="${NIGHTSHIFT_S3_BUCKETS:-nightshift}"
URL="http://127.0.0.1:$PORT"
mkdir -p "$HOME_DIR"
HOME_DIR="$(cd "$HOME_DIR" && pwd)"
PID_FILE="$HOME_DIR/server.pid"
LOG="$HOME_DIR/server.log"

# ListBuckets answers 200 (moto does not check signatures)
healthy() { curl -fsS -m 2 -o /dev/null "$URL/" 2>/dev/null; }

create_buckets() {
  local b
  for b in $BUCKETS; do
    curl -fsS -m 10 -o /dev/null -X PUT "$URL/$b" || { echo "s3-server: cannot create bucket $b on $URL" >&2; return 1; }
  done
}

source "$ROOT/scripts/daemon.sh"
NAME=s3-server

case "${1:-}" in
  start)
    if daemon_running; then create_buckets; echo "$URL"; exit 0; fi
    daemon_check_port NIGHTSHIFT_S3_PORT
    VENV="$("$ROOT/scripts/python-env.sh" s3)"
    daemon_start 30 "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT"
    if ! create_buckets; then daemon_stop; exit 1; fi
    echo "$URL"
    ;;
  stop)
    daemon_stop
    ;;
  status)
    daemon_status
    ;;
  *)
    echo "usage: scripts/s3-server.sh start|stop|status" >&2; exit 2 ;;
esac
