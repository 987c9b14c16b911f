"""Nightly demand forecast: features as of the night -> quality gate -> score -> replenishment orders and monitoring.

Orders and monitoring both read the night's predictions and run side by side: a night whose orders fail (a planning
setting, an export folder) is still monitored, and its drift and accuracy still reach the retraining signal.

Every task passes the date explicitly (the run's logical date, ``{{ ds }}``: the night that just ended; a manual run
triggered at a time of day, e.g. from the UI, gets the day before it; the ``date`` param overrides both) and each job
replaces only that date's partition, so a retry or a re-run of a night never duplicates rows.

The forecast horizon (``--horizon-days``, 1..56, default 7; beyond 7 days the forecast is recursive) and store
reconciliation (``--reconcile none|store``, default none) come from the run's ``horizon_days`` / ``reconcile``
params, else the ``nightshift_demand_horizon_days`` / ``nightshift_demand_reconcile`` Variables, else the workers'
``NIGHTSHIFT_DEMAND_HORIZON_DAYS`` / ``NIGHTSHIFT_DEMAND_RECONCILE``, else the defaults.
"""

import datetime

from airflow.sdk import DAG, CronTriggerTimetable, Param

from nightshift.common import (
    dag_params,
    default_args,
    nightshift_job,
    retraining_signal,
    template_macros,
    time_schedules_enabled,
)
from nightshift.common.spark import DATE, PUSHGATEWAY, WAREHOUSE

USE_CASE = "demand"
HORIZON_DAYS = "{{ params.horizon_days or nightshift.setting('demand_horizon_days') }}"
RECONCILE = "{{ params.reconcile or nightshift.setting('demand_reconcile') }}"

with DAG(
    dag_id="nightly_demand_forecast",
    description="Demand features, quality gate, forecast, replenishment orders and monitoring for one night.",
    # The one-day interval makes {{ ds }} the day that just ended. No start_date: catchup is off, so unpausing
    # starts with the latest night. NIGHTSHIFT_TIME_SCHEDULES=off: triggered runs only.
    schedule=(
        CronTriggerTimetable("0 2 * * *", timezone="UTC", interval=datetime.timedelta(days=1))
        if time_schedules_enabled()
        else None
    ),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=datetime.timedelta(hours=8),
    default_args=default_args(),
    params=dag_params(
        horizon_days=Param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=56,
            description="Days to forecast after the night (1..56; beyond 7 recursively, which needs the price plan "
            "that far). Default: the nightshift_demand_horizon_days Variable, else 7.",
        ),
        reconcile=Param(
            None,
            type=["null", "string"],
            enum=[None, "none", "store"],
            description="store: item forecasts sum to a reconciled store total. Default: the "
            "nightshift_demand_reconcile Variable, else none.",
        ),
    ),
    user_defined_macros=template_macros(),
    tags=["nightshift", USE_CASE],
    doc_md=__doc__,
) as dag:
    build_features = nightshift_job("build_features", "features", "build", "--as-of", DATE, "--use-case", USE_CASE)
    quality_gate = nightshift_job("quality_gate", "features", "check", "--as-of", DATE, "--use-case", USE_CASE)
    score = nightshift_job(
        "score",
        "score",
        "--date",
        DATE,
        "--use-case",
        USE_CASE,
        "--horizon-days",
        HORIZON_DAYS,
        "--reconcile",
        RECONCILE,
    )
    act = nightshift_job("act", "act", "--date", DATE, "--use-case", USE_CASE)
    monitor = nightshift_job("monitor", "monitor", "--date", DATE, "--use-case", USE_CASE, PUSHGATEWAY)
    signal = retraining_signal(use_case=USE_CASE, date=DATE, warehouse=WAREHOUSE)

    build_features >> quality_gate >> score >> [act, monitor]
    monitor >> signal
