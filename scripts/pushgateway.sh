#!/usr/bin/env bash
# A local Prometheus Pushgateway on 127.0.0.1, for trying `nightshift monitor --pushgateway URL` and for the tests
# that push to a real one. Metrics live in the gateway's memory and are gone when it stops.
#   scripts/pushgateway.sh start    install (first run), start in the background; prints the URL
#   scripts/pushgateway.sh stop     stop the gateway this script started
#   scripts/pushgateway.sh status   print the URL if running
#   scripts/pushgateway.sh install  only install; prints the binary's path
# The binary is the Debian package prometheus-pushgateway, fetched with `apt-get download` and unpacked (no root
# needed, nothing installed system-wide) into .nightshift/tools/pushgateway. Elsewhere, install a Pushgateway
# yourself and point NIGHTSHIFT_PUSHGATEWAY_BIN at it.
# Settings: NIGHTSHIFT_PUSHGATEWAY_HOME (pid and log, default .nightshift/pushgateway), NIGHTSHIFT_PUSHGATEWAY_PORT
# (default 9091), NIGHTSHIFT_PUSHGATEWAY_BIN (a pushgateway binary to use instead of the downloaded one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${NIGHTSHIFT_PUSHGATEWAY_HOME:-$ROOT/.nightshift/pushgateway}"
PORT="${NIGHTSHIFT_PUSHGATEWAY_PORT:-9091}"
TOOLS="$ROOT/.nightshift/tools/pushgateway"
URL="http://127.0.0.1:$PORT"
mkdir -p "$HOME_DIR"
HOME_DIR="$(cd "$HOME_DIR" && pwd)"
PID_FILE="$HOME_DIR/gateway.pid"
LOG="$HOME_DIR/gateway.log"

healthy() { curl -fsS -m 2 -o /dev/null "$URL/-/ready" 2>/dev/null; }

# Prints the path of a pushgateway binary, downloading and unpacking the Debian package on first use.
install_binary() {
  if [[ -n "${NIGHTSHIFT_PUSHGATEWAY_BIN:-}" ]]; then
    [[ -x "$NIGHTSHIFT_PUSHGATEWAY_BIN" ]] || {
      echo "pushgateway: NIGHTSHIFT_PUSHGATEWAY_BIN=$NIGHTSHIFT_PUSHGATEWAY_BIN is not an executable file" >&2; return 1; }
    echo "$NIGHTSHIFT_PUSHGATEWAY_BIN"; return 0
  fi
  local bin="$TOOLS/usr/bin/prometheus-pushgateway"
  if [[ -x "$bin" ]]; then echo "$bin"; return 0; fi
  source "$ROOT/scripts/venv-lock.sh"
  lock_venv "$TOOLS" # one installer at a time; a second caller finds the binary ready
  if [[ -x "$bin" ]]; then echo "$bin"; return 0; fi
  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    echo "pushgateway: this system has no apt-get/dpkg-deb to fetch Debian's prometheus-pushgateway package." >&2
    echo "  Fix: install a Prometheus Pushgateway and set NIGHTSHIFT_PUSHGATEWAY_BIN to its binary." >&2
    return 1
  fi
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  if ! (cd "$work" && apt-get download prometheus-pushgateway >"$work/apt.log" 2>&1); then
    # a fresh machine may have no package lists yet: read them (needs root), then try once more
    if [[ "$(id -u)" == 0 ]] && apt-get update >>"$work/apt.log" 2>&1 \
        && (cd "$work" && apt-get download prometheus-pushgateway >>"$work/apt.log" 2>&1); then
      :
    else
      echo "pushgateway: cannot download the prometheus-pushgateway package:" >&2; tail -n 5 "$work/apt.log" >&2
      echo "  Fix: check the machine's apt sources, or set NIGHTSHIFT_PUSHGATEWAY_BIN to a pushgateway binary." >&2
      return 1
    fi
  fi
  rm -rf "$TOOLS.tmp" && mkdir -p "$TOOLS.tmp"
  dpkg-deb -x "$work"/prometheus-pushgateway_*.deb "$TOOLS.tmp"
  [[ -x "$TOOLS.tmp/usr/bin/prometheus-pushgateway" ]] || {
    echo "pushgateway: the package has no usr/bin/prometheus-pushgateway" >&2; return 1; }
  rm -rf "$TOOLS" && mv "$TOOLS.tmp" "$TOOLS"
  echo "$bin"
}

case "${1:-}" in
  install)
    install_binary
    ;;
  start)
    if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && healthy; then
      echo "$URL"; exit 0
    fi
    if healthy; then
      echo "pushgateway: something else already answers on $URL; set NIGHTSHIFT_PUSHGATEWAY_PORT to a free port" >&2
      exit 2
    fi
    BIN="$(install_binary)"
    setsid "$BIN" --web.listen-address="127.0.0.1:$PORT" >"$LOG" 2>&1 < /dev/null &
    echo $! > "$PID_FILE"
    for _ in $(seq 1 60); do
      if healthy; then echo "$URL"; exit 0; fi
      if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        echo "pushgateway: the gateway exited during start-up; its log ($LOG):" >&2; tail -n 40 "$LOG" >&2; exit 1
      fi
      sleep 0.5
    done
    echo "pushgateway: no answer on $URL after 30s; log ($LOG):" >&2; tail -n 40 "$LOG" >&2
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
    if healthy; then echo "$URL"; else echo "pushgateway: not running on $URL" >&2; exit 1; fi
    ;;
  *)
    echo "usage: scripts/pushgateway.sh start|stop|status|install" >&2; exit 2 ;;
esac
