"""Test setup: a throwaway AIRFLOW_HOME, no example DAGs, fixed Nightshift settings and Spark connections.

Airflow reads its configuration when first imported, so the environment is set here, before any test module
imports airflow.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[1] / "dags"

_HOME = tempfile.mkdtemp(prefix="nightshift-airflow-test-")
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
for key in ("NIGHTSHIFT_SPARK_CONF", "NIGHTSHIFT_TASK_RETRIES"):
    os.environ.pop(key, None)

# Spark connections, one per kind of master (resolved by the provider's hook through the environment backend).
CONNECTIONS = {
    "nightshift_spark": {"conn_type": "spark", "host": "local[2]"},
    "spark_standalone": {"conn_type": "spark", "host": "spark://spark-master", "port": 7077},
    "spark_standalone_cluster": {
        "conn_type": "spark",
        "host": "spark://spark-master",
        "port": 7077,
        "extra": {"deploy-mode": "cluster"},
    },
    "spark_yarn": {"conn_type": "spark", "host": "yarn", "extra": {"deploy-mode": "cluster", "queue": "nightly"}},
    "spark_k8s": {
        "conn_type": "spark",
        "host": "k8s://https://k8s-api:6443",
        "extra": {"deploy-mode": "cluster", "namespace": "spark"},
    },
}
for conn_id, conn in CONNECTIONS.items():
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)

# Environment defaults of the settings (the Variables are faked per test, see `variables`).
ENV = {
    "NIGHTSHIFT_JOB_JAR": "/opt/nightshift/nightshift-jobs.jar",
    "NIGHTSHIFT_WAREHOUSE": "/data/nightshift/warehouse",
    "MLFLOW_TRACKING_URI": "http://mlflow.internal:5000",
}
os.environ.update(ENV)
os.environ.pop("NIGHTSHIFT_SPARK_CONN_ID", None)


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture
def variables(monkeypatch):
    """Airflow Variables as a dict the test fills in; none are set by default."""
    import nightshift.common.settings as settings

    values: dict[str, str] = {}
    monkeypatch.setattr(settings, "_variable", lambda key: values.get(key))
    return values
