# Sourced by the scripts that run one local server in the background (mlflow.sh, s3-server.sh, pushgateway.sh).
# The caller sets NAME (for messages), URL, PID_FILE and LOG, and defines healthy() (true when the server answers).
#   daemon_running                 this script's server is running and answers
#   daemon_check_port SETTING      exits 2 when something else already answers on URL (SETTING: the port variable)
#   daemon_start SECONDS CMD...    starts CMD in its own session (so stop ends it and its children together) and waits
#                                  up to SECONDS for healthy; on failure prints the log's tail, stops it, returns 1
#   daemon_stop                    stops the server started from PID_FILE: TERM, then KILL after 10 s
#   daemon_status                  prints URL when the server answers; otherwise says so and exits 1
daemon_running() {
  [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && healthy
}

daemon_check_port() {
  if healthy; then
    echo "$NAME: something else already answers on $URL; set $1 to a free port" >&2
    exit 2
  fi
}

daemon_start() {
  local seconds="$1" _
  shift
  setsid "$@" >"$LOG" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
  for _ in $(seq 1 $((seconds * 2))); do
    if healthy; then return 0; fi
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      echo "$NAME: the server exited during start-up; its log ($LOG):" >&2; tail -n 40 "$LOG" >&2
      rm -f "$PID_FILE"
      return 1
    fi
    sleep 0.5
  done
  echo "$NAME: no answer on $URL after ${seconds}s; log ($LOG):" >&2; tail -n 40 "$LOG" >&2
  daemon_stop
  return 1
}

daemon_stop() {
  if [[ -f "$PID_FILE" ]]; then
    local pid _
    pid="$(cat "$PID_FILE")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
  fi
}

daemon_status() {
  if healthy; then echo "$URL"; else echo "$NAME: not running on $URL" >&2; exit 1; fi
}
