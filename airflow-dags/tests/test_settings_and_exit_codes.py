"""Settings precedence, run dates, use cases, and how job exit codes map to task outcomes."""

import datetime
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import UTC, dag_run, rendered

from nightshift.common import run_date, setting, use_case


def test_settings_come_from_variable_then_environment_then_default(variables, monkeypatch):
    from nightshift.common.settings import SETTINGS

    assert setting("warehouse") == "/data/nightshift/warehouse"
    variables["nightshift_warehouse"] = "hdfs:///nightshift"
    assert setting("warehouse") == "hdfs:///nightshift"
    monkeypatch.delenv("NIGHTSHIFT_JOB_JAR")
    # the default is the jar the repository's build makes (this file is <repo>/airflow-dags/tests/...)
    repo = Path(__file__).resolve().parents[2]
    assert setting("job_jar") == str(repo / "spark-jobs" / "target" / "nightshift-jobs.jar")
    assert SETTINGS["job_jar"].default == str(repo / "spark-jobs" / "target" / "nightshift-jobs.jar")
    assert setting("spark_conn_id") == "nightshift_spark"


def test_unknown_setting_names_the_known_ones(variables):
    with pytest.raises(
        KeyError, match="Unknown Nightshift setting 'jar'; known: demand_horizon_days, demand_reconcile, job_jar"
    ):
        setting("jar")


def test_run_date_precedence():
    run = dag_run(events=[{"date": "2024-12-20"}])
    assert run_date(run, {"date": "2024-12-01"}) == "2024-12-01"
    assert run_date(run, {}) == "2024-12-31"
    assert run_date(dag_run(logical_date=None, events=[{"date": "2024-12-20"}, {"date": "2024-12-21"}])) == "2024-12-21"
    assert run_date(dag_run(logical_date=None, run_after=datetime.datetime(2025, 1, 1, 0, 30, tzinfo=UTC))) == (
        "2024-12-31"
    )


def test_run_date_rejects_a_malformed_event_date():
    with pytest.raises(ValueError, match=r"Invalid date in the triggering asset event's 'date': '12/21/2024'"):
        run_date(dag_run(logical_date=None, events=[{"date": "12/21/2024"}]))


def test_run_date_needs_something_to_go_by():
    run = SimpleNamespace(run_id="r1", logical_date=None, run_after=None)
    with pytest.raises(ValueError, match="Cannot determine the date to process for run r1"):
        run_date(run)


def test_use_case_of_a_retraining_run():
    assert use_case(dag_run(), {"use_case": "maintenance"}) == "maintenance"
    assert use_case(dag_run(events=[{"use_case": "demand"}]), {"use_case": None}) == "demand"
    assert use_case(dag_run(events=[{"use_case": "demand"}, {"use_case": "maintenance"}]), {}) == "all"
    assert use_case(dag_run(), {}) == "all"


@pytest.fixture
def failing_submit(monkeypatch, tmp_path):
    """Puts a fake spark-submit first on PATH that exits with the given code.

    The provider's hook runs as in production: it starts spark-submit with subprocess.Popen, reads its output and
    raises on the exit code; the operator reads that code from the finished process. Returns the file the fake
    writes its arguments to.
    """

    def install(code):
        calls = tmp_path / "spark-submit.args"
        binary = tmp_path / "spark-submit"
        binary.write_text(f'#!/bin/sh\necho "$@" > "{calls}"\necho "fake spark-submit failing"\nexit {code}\n')
        binary.chmod(0o755)
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        return calls

    return install


@pytest.mark.parametrize(
    "code, message",
    [
        (2, "quality_gate: bad input (exit code 2)"),
        (3, "quality_gate: data-quality gate failed (exit code 3)"),
    ],
)
def test_bad_input_and_quality_gate_failures_are_not_retried(dagbag, variables, failing_submit, code, message):
    from airflow.sdk.exceptions import AirflowFailException

    calls = failing_submit(code)
    task = rendered(dagbag.dags["nightly_demand_forecast"], "quality_gate")
    with pytest.raises(AirflowFailException, match=re.escape(message)) as raised:
        task.execute({})
    assert f"Error code is: {code}." in str(raised.value.__cause__)
    assert "/opt/nightshift/nightshift-jobs.jar" in calls.read_text()


def test_a_kubernetes_drivers_exit_code_comes_from_its_log(dagbag, variables, monkeypatch, tmp_path):
    """In Kubernetes cluster mode spark-submit exits 0 or 1 whatever the driver did; the pod's code is in its log."""
    from airflow.sdk.exceptions import AirflowFailException

    binary = tmp_path / "spark-submit"
    binary.write_text(
        "#!/bin/sh\n"
        "echo 'pod name: nightshift-score-driver'\n"
        "echo '\t exit code: 2'\n"
        "echo 'Application nightshift finished'\n"
        "exit 0\n"
    )
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    task = rendered(dagbag.dags["nightly_demand_forecast"], "score", params={"spark_conn_id": "spark_k8s"})
    with pytest.raises(AirflowFailException, match=re.escape("score: bad input (exit code 2)")) as raised:
        task.execute({})
    assert "Kubernetes spark exit code is: 2" in str(raised.value.__cause__)


def test_other_failures_are_retried(dagbag, variables, failing_submit):
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    calls = failing_submit(1)
    task = rendered(dagbag.dags["nightly_demand_forecast"], "score")
    with pytest.raises(AirflowException, match="Error code is: 1") as raised:
        task.execute({})
    assert not isinstance(raised.value, AirflowFailException)
    assert "/opt/nightshift/nightshift-jobs.jar" in calls.read_text()
