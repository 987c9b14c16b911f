# Sourced by the scripts that create a Python virtual environment (scripts/python-env.sh, airflow-dags/venv.sh).
# lock_venv DIR: holds DIR.lock until the calling script exits, so one creator works at a time: bin/test creates the
# environments in the background while the tests that need them may already ask for them; a second caller waits
# here, then finds the environment ready. Without flock (not on every system) there is no waiting.
lock_venv() {
  mkdir -p "$(dirname "$1")"
  if command -v flock >/dev/null; then
    exec 9>"$1.lock"
    flock 9
  fi
}
