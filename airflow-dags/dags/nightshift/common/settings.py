"""Where the DAGs find the job jar, the warehouse, MLflow and the Spark connection.

Precedence for every setting: Airflow Variable > environment variable of the Airflow worker > default. Settings are
read when a task renders its templates (through the ``nightshift`` template macro), never at DAG parse time.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

# airflow-dags/dags/nightshift/common/settings.py -> repository root (the defaults fit a checkout of the repo). A
# deployed copy ($AIRFLOW_HOME/dags/nightshift/common/) gets default paths that mean nothing there: set the Variables.
_PARENTS = Path(__file__).resolve().parents
_REPO_ROOT = _PARENTS[4] if len(_PARENTS) > 4 else _PARENTS[-1]


@dataclass(frozen=True)
class Setting:
    variable: str
    env: str
    default: str


SETTINGS: dict[str, Setting] = {
    "job_jar": Setting(
        "nightshift_job_jar", "NIGHTSHIFT_JOB_JAR", str(_REPO_ROOT / "spark-jobs" / "target" / "nightshift-jobs.jar")
    ),
    "warehouse": Setting("nightshift_warehouse", "NIGHTSHIFT_WAREHOUSE", str(_REPO_ROOT / ".nightshift" / "warehouse")),
    "mlflow_tracking_uri": Setting("nightshift_mlflow_tracking_uri", "MLFLOW_TRACKING_URI", "http://127.0.0.1:5000"),
    "spark_conn_id": Setting("nightshift_spark_conn_id", "NIGHTSHIFT_SPARK_CONN_ID", "nightshift_spark"),
    # nightly demand scoring: days forecast after the night (1..56; beyond 7 recursively) and store reconciliation
    "demand_horizon_days": Setting("nightshift_demand_horizon_days", "NIGHTSHIFT_DEMAND_HORIZON_DAYS", "7"),
    "demand_reconcile": Setting("nightshift_demand_reconcile", "NIGHTSHIFT_DEMAND_RECONCILE", "none"),
    # monitoring pushes each night's metrics to this Prometheus Pushgateway; empty: no push
    "pushgateway_url": Setting("nightshift_pushgateway_url", "NIGHTSHIFT_PUSHGATEWAY_URL", ""),
}

# The retraining signal: monitoring posts an event on it, weekly_retrain is scheduled on it (and on a cron).
# Imported lazily by callers that need the Asset class; the URI and name are plain strings here.
RETRAIN_SIGNAL_URI = "nightshift://signals/retrain"
RETRAIN_SIGNAL_NAME = "nightshift_retrain_signal"


def _asset():
    from airflow.sdk import Asset

    return Asset(name=RETRAIN_SIGNAL_NAME, uri=RETRAIN_SIGNAL_URI, group="nightshift")


RETRAIN_SIGNAL = _asset()


def _variable(key: str) -> str | None:
    """Looks up an Airflow Variable; None when it is not set. Tests replace this function."""
    from airflow.sdk import Variable

    value = Variable.get(key, default=None)
    return None if value is None or str(value).strip() == "" else str(value)


def setting(name: str) -> str:
    """The value of a Nightshift setting: Airflow Variable, then environment variable, then default."""
    if name not in SETTINGS:
        raise KeyError(f"Unknown Nightshift setting '{name}'; known: {', '.join(sorted(SETTINGS))}")
    s = SETTINGS[name]
    value = _variable(s.variable)
    if value is not None:
        return value
    env = os.environ.get(s.env, "").strip()
    return env or s.default


def _event_extras(dag_run: Any) -> list[Mapping[str, Any]]:
    """The extras of the asset events that triggered the run, oldest first ([] for other runs)."""
    events = list(getattr(dag_run, "consumed_asset_events", None) or [])
    events.sort(key=lambda e: str(getattr(e, "timestamp", "")))
    return [getattr(e, "extra", None) or {} for e in events]


def run_date(dag_run: Any, params: Mapping[str, Any] | None = None) -> str:
    """The business date (YYYY-MM-DD) a run processes; jobs get it explicitly and never read the clock.

    1. the ``date`` param, when the run was triggered with one;
    2. a manual run whose logical date has a time of day (not midnight UTC), e.g. the UI's Trigger button, which
       defaults the logical date to now: the day before that logical date (UTC), the last complete day when it was
       triggered. A manual run at midnight UTC names its night (``nightshift airflow trigger --date D`` sends D
       00:00Z) and falls under 3;
    3. the run's logical date (``{{ ds }}``): the schedules use a one-day data interval, so a run that fires at
       02:00 on the 2nd processes the 1st;
    4. for asset-triggered runs (no logical date): the ``date`` in the newest triggering event's extra (the night
       whose monitoring raised the retraining signal);
    5. otherwise (e.g. triggered with ``logical_date: null``): the day before ``run_after``, the last complete day
       when the run was queued.
    """
    override = (params or {}).get("date")
    if override:
        return _iso_date(override, "the 'date' param")
    logical_date = getattr(dag_run, "logical_date", None)
    if logical_date is not None:
        if _is_manual(dag_run):
            utc = _utc(logical_date)
            if utc.time() != datetime.time(0, 0):
                return (utc.date() - datetime.timedelta(days=1)).isoformat()
        return logical_date.strftime("%Y-%m-%d")
    for extra in reversed(_event_extras(dag_run)):
        if extra.get("date"):
            return _iso_date(extra["date"], "the triggering asset event's 'date'")
    run_after = getattr(dag_run, "run_after", None)
    if run_after is None:
        raise ValueError(
            f"Cannot determine the date to process for run {getattr(dag_run, 'run_id', '?')}: it has neither a "
            "logical date nor run_after. Fix: trigger it with a logical_date or with conf {\"date\": \"YYYY-MM-DD\"}."
        )
    return (run_after - datetime.timedelta(days=1)).strftime("%Y-%m-%d")


def _is_manual(dag_run: Any) -> bool:
    """Whether the run was triggered by hand (UI, REST API, CLI): run_type ``manual`` (an enum or its value)."""
    run_type = getattr(dag_run, "run_type", None)
    return str(getattr(run_type, "value", run_type)) == "manual"


def _utc(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:  # Airflow's dates are aware; a naive one is taken as UTC
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def use_case(dag_run: Any, params: Mapping[str, Any] | None = None) -> str:
    """The use case(s) a retraining run covers: the ``use_case`` param; else the one named by every triggering asset
    event (monitoring of one use case raised the signal); else ``all``."""
    chosen = (params or {}).get("use_case")
    if chosen:
        return str(chosen)
    named = {str(e["use_case"]) for e in _event_extras(dag_run) if e.get("use_case")}
    return named.pop() if len(named) == 1 else "all"


def _iso_date(value: Any, what: str) -> str:
    try:
        return datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"Invalid date in {what}: {value!r}. Fix: use YYYY-MM-DD, e.g. 2024-12-31.") from None
