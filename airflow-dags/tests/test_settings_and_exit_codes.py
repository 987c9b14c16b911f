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


def test_a_manual_run_triggered_now_processes_the_last_complete_day():
    # The UI's Trigger button defaults the logical date to now: at 09:00Z on 2025-01-01 that day is still running.
    now = datetime.datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    run = dag_run(run_id="manual__2025-01-01T09:00:00+00:00", logical_date=now, run_after=now, run_type="manual")
    assert run_date(run) == "2024-12-31"
    assert run_date(run, {"date": None}) == "2024-12-31"
    # the run_type a worker's dag_run carries is the Task SDK's enum (its str() is not its value)
    from airflow.sdk.api.datamodels._generated import DagRunType

    assert run_date(dag_run(logical_date=now, run_after=now, run_type=DagRunType.MANUAL)) == "2024-12-31"
    assert run_date(dag_run(logical_date=now, run_after=now, run_type=DagRunType.SCHEDULED)) == "2025-01-01"
    just_after_midnight = datetime.datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert run_date(dag_run(logical_date=just_after_midnight, run_after=just_after_midnight)) == "2024-12-31"
    # a logical date in another zone is taken in UTC: 2025-01-01T01:30+02:00 is 2024-12-31T23:30Z
    plus2 = datetime.timezone(datetime.timedelta(hours=2))
    assert run_date(dag_run(logical_date=datetime.datetime(2025, 1, 1, 1, 30, tzinfo=plus2))) == "2024-12-30"


def test_the_date_param_wins_over_a_manual_runs_logical_date():
    now = datetime.datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    assert run_date(dag_run(logical_date=now, run_after=now), {"date": "2025-01-01"}) == "2025-01-01"
    assert run_date(dag_run(logical_date=now, run_after=now), {"date": "2024-12-15"}) == "2024-12-15"


def test_a_manual_run_for_a_night_at_midnight_processes_that_night():
    # what `nightshift airflow trigger --date 2024-12-31` sends: logical date 2024-12-31T00:00Z, no date param
    run = dag_run(
        run_id="nightshift__2024-12-31",
        logical_date=datetime.datetime(2024, 12, 31, tzinfo=UTC),
        run_after=datetime.datetime(2025, 1, 1, 9, 0, 12, tzinfo=UTC),
        run_type="manual",
    )
    assert run_date(run) == "2024-12-31"


@pytest.mark.parametrize("run_type", ["scheduled", "backfill"])
def test_scheduled_and_backfill_runs_process_their_logical_date(run_type):
    # the 02:00 run of 2025-01-02: one-day data interval, logical date = its start, 2025-01-01T02:00Z
    run = dag_run(
        run_id=f"{run_type}__2025-01-01T02:00:00+00:00",
        logical_date=datetime.datetime(2025, 1, 1, 2, 0, tzinfo=UTC),
        run_after=datetime.datetime(2025, 1, 2, 2, 0, tzinfo=UTC),
        run_type=run_type,
    )
    assert run_date(run) == "2025-01-01"
    assert run_date(run, {"date": "2024-12-01"}) == "2024-12-01"


def test_asset_triggered_runs_keep_their_dates():
    queued = datetime.datetime(2025, 1, 1, 2, 40, tzinfo=UTC)
    signal = dag_run(logical_date=None, run_after=queued, events=[{"date": "2024-12-30"}], run_type="asset_triggered")
    assert run_date(signal) == "2024-12-30"
    assert run_date(dag_run(logical_date=None, run_after=queued, run_type="asset_triggered")) == "2024-12-31"
    # an asset-triggered run that has a logical date (not Airflow 3's default) keeps it, time of day or not
    assert run_date(dag_run(logical_date=queued, run_after=queued, run_type="asset_triggered")) == "2025-01-01"


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
