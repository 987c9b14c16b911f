"""Task ids, dependencies, schedules, retries, params."""

import copy
import datetime

import pytest

from nightshift.common import RETRAIN_SIGNAL, NightshiftSparkSubmitOperator

NIGHTLY_TASKS = ["build_features", "quality_gate", "score", "act", "monitor", "retraining_signal"]


def validated(dag, conf=None):
    """The run params Airflow would accept for a trigger with this conf (raises ParamValidationError)."""
    params = copy.deepcopy(dag.params)
    params.update(conf or {})
    return params.validate()


def downstream(dag, task_id):
    return sorted(dag.get_task(task_id).downstream_task_ids)


@pytest.mark.parametrize("dag_id", ["nightly_demand_forecast", "maintenance_scoring"])
def test_nightly_dags_score_then_act_and_monitor_side_by_side(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert sorted(dag.task_ids) == sorted(NIGHTLY_TASKS)
    assert downstream(dag, "build_features") == ["quality_gate"]
    assert downstream(dag, "quality_gate") == ["score"]
    assert downstream(dag, "score") == ["act", "monitor"]
    # orders do not wait for monitoring nor monitoring for orders; the signal follows monitoring alone
    assert downstream(dag, "act") == []
    assert downstream(dag, "monitor") == ["retraining_signal"]
    assert sorted(dag.get_task("retraining_signal").upstream_task_ids) == ["monitor"]
    assert downstream(dag, "retraining_signal") == []


def test_weekly_retrain_is_features_then_gate_then_train(dagbag):
    dag = dagbag.dags["weekly_retrain"]
    assert sorted(dag.task_ids) == ["build_features", "quality_gate", "train"]
    assert downstream(dag, "build_features") == ["quality_gate"]
    assert downstream(dag, "quality_gate") == ["train"]


@pytest.mark.parametrize(
    "dag_id, cron",
    [("nightly_demand_forecast", "0 2 * * *"), ("maintenance_scoring", "30 2 * * *")],
)
def test_nightly_schedules_process_the_day_that_ended(dagbag, dag_id, cron):
    from airflow.sdk import CronTriggerTimetable

    dag = dagbag.dags[dag_id]
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.expression == cron
    # logical date = run time minus one day: the 02:00 run of the 2nd processes the 1st.
    assert dag.timetable.interval == datetime.timedelta(days=1)
    assert dag.catchup is False
    assert dag.max_active_runs == 1


def test_weekly_retrain_runs_on_sundays_or_on_the_retrain_signal(dagbag):
    from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable

    dag = dagbag.dags["weekly_retrain"]
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert isinstance(dag.timetable.timetable, CronTriggerTimetable)
    assert dag.timetable.timetable.expression == "0 4 * * 0"
    assert dag.timetable.asset_condition == RETRAIN_SIGNAL
    assert RETRAIN_SIGNAL.uri == "nightshift://signals/retrain"


@pytest.mark.parametrize("dag_id", ["nightly_demand_forecast", "maintenance_scoring"])
def test_the_signal_task_produces_the_retrain_asset(dagbag, dag_id):
    task = dagbag.dags[dag_id].get_task("retraining_signal")
    assert task.outlets == [RETRAIN_SIGNAL]


@pytest.mark.parametrize("dag_id", ["nightly_demand_forecast", "maintenance_scoring", "weekly_retrain"])
def test_spark_tasks_retry_with_exponential_backoff(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    spark_tasks = [t for t in dag.tasks if isinstance(t, NightshiftSparkSubmitOperator)]
    assert spark_tasks
    for task in spark_tasks:
        assert task.retries == 2
        assert task.retry_delay == datetime.timedelta(minutes=2)
        assert task.retry_exponential_backoff == 2.0
        assert task.max_retry_delay == datetime.timedelta(minutes=30)
        assert task.execution_timeout == datetime.timedelta(hours=3)
        assert task._java_class == "io.nightshift.jobs.NightshiftCli"


@pytest.mark.parametrize("dag_id", ["nightly_demand_forecast", "maintenance_scoring", "weekly_retrain"])
def test_params_accept_a_date_and_a_connection(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert validated(dag, {"date": "2024-12-31", "spark_conn_id": "spark_yarn"})["date"] == "2024-12-31"
    defaults = validated(dag)
    assert defaults["date"] is None
    assert defaults["spark_conn_id"] is None


@pytest.mark.parametrize(
    "conf, message",
    [
        ({"date": "31/12/2024"}, "Invalid input for param date"),
        ({"spark_conn_id": "bad id; rm -rf"}, "Invalid input for param spark_conn_id"),
    ],
)
def test_params_reject_malformed_values(dagbag, conf, message):
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError, match=message):
        validated(dagbag.dags["nightly_demand_forecast"], conf)


def test_the_demand_horizon_and_reconciliation_params_are_validated(dagbag):
    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.dags["nightly_demand_forecast"]
    defaults = validated(dag)
    assert defaults["horizon_days"] is None  # then the Variable, else 7
    assert defaults["reconcile"] is None
    assert validated(dag, {"horizon_days": 28, "reconcile": "store"})["horizon_days"] == 28
    for conf, param in [
        ({"horizon_days": 0}, "horizon_days"),
        ({"horizon_days": 57}, "horizon_days"),
        ({"horizon_days": "28 days"}, "horizon_days"),
        ({"reconcile": "region"}, "reconcile"),
    ]:
        with pytest.raises(ParamValidationError, match=f"Invalid input for param {param}"):
            validated(dag, conf)


def test_weekly_retrain_use_case_is_one_of_the_known_ones(dagbag):
    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.dags["weekly_retrain"]
    assert validated(dag, {"use_case": "maintenance"})["use_case"] == "maintenance"
    assert validated(dag)["use_case"] is None
    with pytest.raises(ParamValidationError, match="Invalid input for param use_case"):
        validated(dag, {"use_case": "sales"})


def test_time_schedules_can_be_turned_off(monkeypatch):
    """NIGHTSHIFT_TIME_SCHEDULES=off: triggered runs only; weekly_retrain keeps its retraining-signal schedule."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.definitions.timetables.assets import AssetTriggeredTimetable
    from airflow.sdk.definitions.timetables.simple import NullTimetable
    from conftest import DAGS_FOLDER

    monkeypatch.setenv("NIGHTSHIFT_TIME_SCHEDULES", "off")
    dags = DagBag(dag_folder=str(DAGS_FOLDER)).dags
    assert isinstance(dags["nightly_demand_forecast"].timetable, NullTimetable)
    assert isinstance(dags["maintenance_scoring"].timetable, NullTimetable)
    weekly = dags["weekly_retrain"].timetable
    assert isinstance(weekly, AssetTriggeredTimetable)
    assert weekly.asset_condition == RETRAIN_SIGNAL
