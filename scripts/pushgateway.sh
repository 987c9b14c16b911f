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
  trap 'rm -rf "$work"; trap - RETURN' RETURN # once, when this function returns
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

source "$ROOT/scripts/daemon.sh"
NAME=pushgateway

case "${1:-}" in
  install)
    install_binary
    ;;
  start)
    if daemon_running; then echo "$URL"; exit 0; fi
    daemon_check_port NIGHTSHIFT_PUSHGATEWAY_PORT
    BIN="$(install_binary)"
    daemon_start 30 "$BIN" --web.listen-address="127.0.0.1:$PORT"
    echo "$URL"
    ;;
  stop)
    daemon_stop
    ;;
  status)
    daemon_status
    ;;
  *)
    echo "usage: scripts/pushgateway.sh start|stop|status|install" >&2; exit 2 ;;
esac
