"""The one way the DAGs run a Nightshift job: spark-submit of the shaded job jar.

``nightshift_job(task_id, "features", "build", "--as-of", DATE)`` builds a task whose rendered command is::

    spark-submit --master <from the connection> --conf ... --name nightshift:<dag>.<task>
        --class io.nightshift.jobs.NightshiftCli <job jar>
        --warehouse <warehouse> --tracking-uri <mlflow> features build --as-of 2024-12-31 ...

The master is whatever the Spark connection says (local[*], spark://, yarn, k8s://); the connection id comes from
the run's ``spark_conn_id`` param, else the ``nightshift_spark_conn_id`` Variable, else ``nightshift_spark``.
"""

from __future__ import annotations

import datetime
import json
import os
from types import SimpleNamespace
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from nightshift.common.settings import run_date, setting, use_case

JAVA_CLASS = "io.nightshift.jobs.NightshiftCli"

# Job exit codes (see the nightshift CLI): retrying cannot fix these, so the task fails without retries.
_NOT_RETRIED = {
    2: "bad input (exit code 2): the job rejected its arguments or inputs; fix them and clear the task",
    3: "data-quality gate failed (exit code 3): the feature tables did not pass the checks; see the report above",
}

# Rendered at run time through the "nightshift" macro (settings are read then, not at parse time).
DATE = "{{ nightshift.run_date(dag_run, params) }}"
WAREHOUSE = "{{ nightshift.setting('warehouse') }}"
JOB_JAR = "{{ nightshift.setting('job_jar') }}"
TRACKING_URI = "{{ nightshift.setting('mlflow_tracking_uri') }}"
CONN_ID = "{{ params.spark_conn_id or nightshift.setting('spark_conn_id') }}"
# one argument, so an unset URL renders as "--pushgateway=" (no push) rather than an empty argument
PUSHGATEWAY = "--pushgateway={{ nightshift.setting('pushgateway_url') }}"


def template_macros() -> dict[str, Any]:
    """``user_defined_macros`` for every Nightshift DAG."""
    return {"nightshift": SimpleNamespace(setting=setting, run_date=run_date, use_case=use_case)}


def spark_conf() -> dict[str, str]:
    """Spark properties for every job: UTC sessions, plus JSON from $NIGHTSHIFT_SPARK_CONF (read at parse time)."""
    conf = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false"}
    extra = os.environ.get("NIGHTSHIFT_SPARK_CONF", "").strip()
    if extra:
        parsed = json.loads(extra)
        if not isinstance(parsed, dict):
            raise ValueError(f"NIGHTSHIFT_SPARK_CONF must be a JSON object of Spark properties, got: {extra}")
        conf.update({str(k): str(v) for k, v in parsed.items()})
    return conf


def time_schedules_enabled() -> bool:
    """False when $NIGHTSHIFT_TIME_SCHEDULES is "off": DAGs then run only when triggered (REST API, UI) or, for
    weekly_retrain, on the retraining signal. For staging Airflows and the integration test, where a cron run of
    "yesterday" right after unpausing would process a night that has no data. Read at parse time."""
    value = os.environ.get("NIGHTSHIFT_TIME_SCHEDULES", "on").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"NIGHTSHIFT_TIME_SCHEDULES must be 'on' or 'off', got {value!r}")
    return value == "on"


def default_args() -> dict[str, Any]:
    """Retries with exponential backoff (2, 4, 8 ... minutes, at most 30); $NIGHTSHIFT_TASK_RETRIES overrides."""
    return {
        "owner": "nightshift",
        "depends_on_past": False,
        "retries": int(os.environ.get("NIGHTSHIFT_TASK_RETRIES", "2")),
        "retry_delay": datetime.timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": datetime.timedelta(minutes=30),
        "execution_timeout": datetime.timedelta(hours=3),
    }


def dag_params(**extra: Param) -> dict[str, Param]:
    """Run parameters shared by the DAGs, validated when a run is triggered."""
    params = {
        "date": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="Process this date (YYYY-MM-DD) instead of the run's logical date.",
        ),
        "spark_conn_id": Param(
            None,
            type=["null", "string"],
            pattern=r"^[A-Za-z0-9_.\-]+$",
            description="Spark connection to submit to instead of the nightshift_spark_conn_id Variable "
            "(default nightshift_spark).",
        ),
    }
    params.update(extra)
    return params


class NightshiftSparkSubmitOperator(SparkSubmitOperator):
    """SparkSubmitOperator with a templated connection id and Nightshift's exit codes.

    * ``conn_id`` is rendered like the other fields, so a run param or Variable picks the Spark master.
    * Exit code 2 (bad input) and 3 (quality gate) fail the task at once instead of burning retries (in local and
      client mode, and in Kubernetes cluster mode; YARN and standalone cluster mode do not pass the code back).
    * ``env_vars`` (the Airflow ids the jobs tag MLflow runs with) are dropped in Spark standalone cluster mode,
      where spark-submit cannot pass them.
    """

    template_fields = (*SparkSubmitOperator.template_fields, "conn_id")

    def __init__(self, *, conn_id: str, **kwargs: Any) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self.conn_id = conn_id

    def _get_hook(self):
        self._conn_id = self.conn_id
        hook = super()._get_hook()
        connection = hook._connection
        if (
            hook._env_vars
            and connection.get("deploy_mode") == "cluster"
            and not (hook._is_yarn or hook._is_kubernetes)
        ):
            self.log.info("Spark standalone cluster mode cannot forward env_vars; not passing %s", list(hook._env_vars))
            hook._env_vars = None
        return hook

    def execute(self, context: Any) -> None:
        try:
            super().execute(context)
        except AirflowException as e:
            code = self._job_exit_code()
            if code in _NOT_RETRIED:
                raise AirflowFailException(f"{self.task_id}: {_NOT_RETRIED[code]}") from e
            raise

    def _job_exit_code(self) -> int | None:
        """The job's exit code, where spark-submit lets it through.

        Local and client mode: spark-submit's own. Kubernetes cluster mode: spark-submit exits 0 or 1, and the
        driver pod's code is in its log, which the provider's hook parses. YARN and standalone cluster mode report
        only that the application failed, so every failure there is retried.
        """
        if not self._hook:
            return None
        if getattr(self._hook, "_is_kubernetes", False) and getattr(self._hook, "_spark_exit_code", None):
            return self._hook._spark_exit_code
        process = getattr(self._hook, "_submit_sp", None)
        return getattr(process, "returncode", None)


def nightshift_job(task_id: str, *command: str, **kwargs: Any) -> NightshiftSparkSubmitOperator:
    """A task that runs ``nightshift <command...>`` through spark-submit on the configured Spark connection."""
    return NightshiftSparkSubmitOperator(task_id=task_id, **spark_submit_kwargs(*command), **kwargs)


def spark_submit_kwargs(*command: str) -> dict[str, Any]:
    """The SparkSubmitOperator arguments (templates; rendered when the task runs) for a nightshift command."""
    if not command:
        raise ValueError("nightshift_job needs a command, e.g. nightshift_job('score', 'score', '--date', DATE)")
    return {
        "conn_id": CONN_ID,
        "application": JOB_JAR,
        "java_class": JAVA_CLASS,
        "name": "nightshift:{{ dag.dag_id }}.{{ task.task_id }}",
        "conf": spark_conf(),
        "application_args": ["--warehouse", WAREHOUSE, "--tracking-uri", TRACKING_URI, *command],
        "env_vars": {
            "AIRFLOW_CTX_DAG_ID": "{{ dag.dag_id }}",
            "AIRFLOW_CTX_DAG_RUN_ID": "{{ run_id }}",
            "AIRFLOW_CTX_TASK_ID": "{{ task.task_id }}",
        },
    }
