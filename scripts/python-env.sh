#!/usr/bin/env bash
# Creates (once) the Python virtual environment .nightshift/venvs/NAME from requirements/NAME.txt and prints its
# path. Re-installs only when the requirements file changes. Usage: scripts/python-env.sh mlflow
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${1:?usage: python-env.sh NAME (reads requirements/NAME.txt)}"
REQ="$ROOT/requirements/$NAME.txt"
VENV="${NIGHTSHIFT_VENVS:-$ROOT/.nightshift/venvs}/$NAME"
[[ -f "$REQ" ]] || { echo "python-env: no requirements file $REQ" >&2; exit 2; }
PY="${NIGHTSHIFT_PYTHON:-python3}"
# MLflow and S3 install on 3.10+, but the Airflow environment (airflow-dags/venv.sh) needs 3.11+: one Python for all.
command -v "$PY" >/dev/null || { echo "python-env: $PY not found; install Python 3.11+ or set NIGHTSHIFT_PYTHON" >&2; exit 2; }
STAMP="$VENV/.nightshift-requirements"
source "$ROOT/scripts/venv-lock.sh"
lock_venv "$VENV" # one creator at a time (bin/test creates the environments in the background)
if [[ -f "$STAMP" ]] && cmp -s "$STAMP" "$REQ"; then
  echo "$VENV"
  exit 0
fi
echo "python-env: creating $VENV from requirements/$NAME.txt (first run only; takes a minute or two)" >&2
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" >&2
cp "$REQ" "$STAMP"
echo "$VENV"
