"""Nightly predictive maintenance: machine features -> quality gate -> failure risk -> work orders and monitoring.

Same shape and guarantees as nightly_demand_forecast: work orders and monitoring run side by side after scoring, the
date is passed explicitly and every job replaces only its date's partition.
"""

import datetime

from airflow.sdk import DAG, CronTriggerTimetable

from nightshift.common import (
    dag_params,
    default_args,
    nightshift_job,
    retraining_signal,
    template_macros,
    time_schedules_enabled,
)
from nightshift.common.spark import DATE, PUSHGATEWAY, WAREHOUSE

USE_CASE = "maintenance"

with DAG(
    dag_id="maintenance_scoring",
    description="Machine features, quality gate, failure-risk scoring, work orders and monitoring for one night.",
    # The one-day interval makes {{ ds }} the day that just ended. No start_date: catchup is off, so unpausing
    # starts with the latest night. NIGHTSHIFT_TIME_SCHEDULES=off: triggered runs only.
    schedule=(
        CronTriggerTimetable("30 2 * * *", timezone="UTC", interval=datetime.timedelta(days=1))
        if time_schedules_enabled()
        else None
    ),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=datetime.timedelta(hours=8),
    default_args=default_args(),
    params=dag_params(),
    user_defined_macros=template_macros(),
    tags=["nightshift", USE_CASE],
    doc_md=__doc__,
) as dag:
    build_features = nightshift_job("build_features", "features", "build", "--as-of", DATE, "--use-case", USE_CASE)
    quality_gate = nightshift_job("quality_gate", "features", "check", "--as-of", DATE, "--use-case", USE_CASE)
    score = nightshift_job("score", "score", "--date", DATE, "--use-case", USE_CASE)
    act = nightshift_job("act", "act", "--date", DATE, "--use-case", USE_CASE)
    monitor = nightshift_job("monitor", "monitor", "--date", DATE, "--use-case", USE_CASE, PUSHGATEWAY)
    signal = retraining_signal(use_case=USE_CASE, date=DATE, warehouse=WAREHOUSE)

    build_features >> quality_gate >> score >> [act, monitor]
    monitor >> signal
