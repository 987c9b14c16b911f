"""Shared helpers for the Nightshift DAGs: settings, dates, the spark-submit task factory, retrain signals.

Kept import-light on purpose: DAG files import this at parse time, so nothing here touches the network, the
metadata database or Spark until a task runs.
"""

from nightshift.common.settings import RETRAIN_SIGNAL, Setting, run_date, setting, use_case
from nightshift.common.spark import (
    JAVA_CLASS,
    NightshiftSparkSubmitOperator,
    default_args,
    dag_params,
    nightshift_job,
    spark_conf,
    template_macros,
    time_schedules_enabled,
)
from nightshift.common.signals import retraining_signal

__all__ = [
    "JAVA_CLASS",
    "RETRAIN_SIGNAL",
    "NightshiftSparkSubmitOperator",
    "Setting",
    "dag_params",
    "default_args",
    "nightshift_job",
    "retraining_signal",
    "run_date",
    "setting",
    "spark_conf",
    "template_macros",
    "time_schedules_enabled",
    "use_case",
]
