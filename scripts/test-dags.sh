#!/usr/bin/env bash
# DAG unit tests: creates the Airflow environment (.nightshift/venvs/airflow, once) and runs pytest on
# airflow-dags/tests (DagBag import, structure, the exact spark-submit command of every task). No Airflow server,
# no Spark. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$("$ROOT/airflow-dags/venv.sh")"
cd "$ROOT/airflow-dags"
exec "$VENV/bin/python" -m pytest tests "$@"
