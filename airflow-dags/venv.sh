#!/usr/bin/env bash
# Creates (once) the Airflow virtual environment .nightshift/venvs/airflow from airflow-dags/requirements.txt and
# prints its path. Reinstalls only when requirements.txt or the Python version changes (stamp file). Kept apart from
# MLflow's environment (.nightshift/venvs/mlflow): the two pin conflicting packages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ="$ROOT/airflow-dags/requirements.txt"
VENV="${NIGHTSHIFT_VENVS:-$ROOT/.nightshift/venvs}/airflow"
PY="${NIGHTSHIFT_PYTHON:-python3}"
command -v "$PY" >/dev/null || { echo "airflow venv: $PY not found; install Python 3.11+ or set NIGHTSHIFT_PYTHON" >&2; exit 2; }
# 3.11, not Airflow's own 3.10: the lock pins numpy 2.4, pandas 3.1, pyarrow 26, starlette 1.10, ... (Python >= 3.11).
"$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' || {
  echo "airflow venv: airflow-dags/requirements.txt needs Python 3.11+; $PY is $("$PY" -V 2>&1)." \
    "Fix: install Python 3.11 and run with NIGHTSHIFT_PYTHON=python3.11 (or the path of a Python 3.11+)" >&2
  exit 2
}
STAMP="$VENV/.nightshift-requirements"
source "$ROOT/scripts/venv-lock.sh"
lock_venv "$VENV" # one creator at a time (bin/test creates the environments in the background)
WANT="$("$PY" -V 2>&1)
$(cat "$REQ")"
if [[ -f "$STAMP" && -x "$VENV/bin/airflow" ]] && [[ "$(cat "$STAMP")" == "$WANT" ]]; then
  echo "$VENV"
  exit 0
fi
echo "airflow venv: creating $VENV from airflow-dags/requirements.txt (first run only; about a minute)" >&2
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
# --no-deps: requirements.txt is the complete lock, so pip installs exactly it and resolves nothing newer.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$REQ" >&2
"$VENV/bin/python" -m pip check >&2 || { echo "airflow venv: pip check failed; requirements.txt is inconsistent" >&2; exit 1; }
printf '%s' "$WANT" > "$STAMP"
echo "$VENV"
