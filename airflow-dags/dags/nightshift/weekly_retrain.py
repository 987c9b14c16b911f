"""Weekly retraining, and retraining on demand when monitoring raises a signal.

Scheduled on Sundays 04:00 UTC *or* whenever an event lands on the asset ``nightshift://signals/retrain`` (the
nightly DAGs emit one when monitoring records drift or an accuracy drop; anything else can post one through the
REST API, e.g. ``AirflowClient.postAssetEvent``). ``train`` logs to MLflow, registers the new version as
``@challenger`` and moves ``@champion`` only when the challenger wins the promotion gate.

Date: the run's logical date (the Saturday for the weekly schedule); for a manual run whose logical date is not
midnight UTC (the UI's default: now), the day before it; for asset-triggered runs, which have no logical date, the
``date`` of the triggering event (the night whose monitoring raised the signal), else the day before the run was
queued. Use case: the one the signal names, else all. Both can be set with the ``date`` / ``use_case`` params.
"""

import datetime

from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable, Param

from nightshift.common import (
    RETRAIN_SIGNAL,
    dag_params,
    default_args,
    nightshift_job,
    template_macros,
    time_schedules_enabled,
)
from nightshift.common.spark import DATE

USE_CASE = "{{ nightshift.use_case(dag_run, params) }}"

with DAG(
    dag_id="weekly_retrain",
    description="Retrain challengers (weekly or on a retraining signal); promotion gate moves @champion.",
    # NIGHTSHIFT_TIME_SCHEDULES=off: the retraining signal (and manual triggers) only.
    schedule=(
        AssetOrTimeSchedule(
            timetable=CronTriggerTimetable("0 4 * * 0", timezone="UTC", interval=datetime.timedelta(days=1)),
            assets=RETRAIN_SIGNAL,
        )
        if time_schedules_enabled()
        else RETRAIN_SIGNAL
    ),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=datetime.timedelta(hours=12),
    default_args=default_args(),
    params=dag_params(
        use_case=Param(
            None,
            type=["null", "string"],
            enum=[None, "all", "demand", "maintenance"],
            description="Which models to retrain (default: the use case named by the triggering retraining signal, "
            "else all).",
        ),
    ),
    user_defined_macros=template_macros(),
    tags=["nightshift", "training"],
    doc_md=__doc__,
) as dag:
    build_features = nightshift_job("build_features", "features", "build", "--as-of", DATE, "--use-case", USE_CASE)
    quality_gate = nightshift_job("quality_gate", "features", "check", "--as-of", DATE, "--use-case", USE_CASE)
    train = nightshift_job("train", "train", "--as-of", DATE, "--use-case", USE_CASE)

    build_features >> quality_gate >> train
