"""The exact spark-submit command each task runs for a fixed date, through the provider's own hook."""

import datetime

import pytest
from helpers import UTC, dag_run, rendered, spark_submit

JAR = "/opt/nightshift/nightshift-jobs.jar"
WAREHOUSE = "/data/nightshift/warehouse"
MLFLOW = "http://mlflow.internal:5000"


def expected(dag_id, task_id, *command, master="local[2]"):
    return [
        "spark-submit",
        "--master",
        master,
        "--conf",
        "spark.sql.session.timeZone=UTC",
        "--conf",
        "spark.ui.showConsoleProgress=false",
        "--name",
        f"nightshift:{dag_id}.{task_id}",
        "--class",
        "io.nightshift.jobs.NightshiftCli",
        JAR,
        "--warehouse",
        WAREHOUSE,
        "--tracking-uri",
        MLFLOW,
        *command,
    ]


NIGHTLY = [
    ("build_features", ["features", "build", "--as-of", "2024-12-31", "--use-case", "{uc}"]),
    ("quality_gate", ["features", "check", "--as-of", "2024-12-31", "--use-case", "{uc}"]),
    ("score", ["score", "--date", "2024-12-31", "--use-case", "{uc}"]),
    ("act", ["act", "--date", "2024-12-31", "--use-case", "{uc}"]),
    ("monitor", ["monitor", "--date", "2024-12-31", "--use-case", "{uc}", "--pushgateway="]),
]


# the demand forecast's horizon and reconciliation, by default
DEMAND_SCORE_OPTIONS = ["--horizon-days", "7", "--reconcile", "none"]


@pytest.mark.parametrize("dag_id, use_case", [("nightly_demand_forecast", "demand"), ("maintenance_scoring", "maintenance")])
@pytest.mark.parametrize("task_id, command", NIGHTLY)
def test_nightly_commands(dagbag, variables, dag_id, use_case, task_id, command):
    cmd, _ = spark_submit(dagbag.dags[dag_id], task_id)
    extra = DEMAND_SCORE_OPTIONS if (dag_id, task_id) == ("nightly_demand_forecast", "score") else []
    assert cmd == expected(dag_id, task_id, *[c.format(uc=use_case) for c in command], *extra)


def test_the_demand_horizon_and_reconciliation_come_from_the_run_then_the_variables(dagbag, variables, monkeypatch):
    dag = dagbag.dags["nightly_demand_forecast"]
    monkeypatch.setenv("NIGHTSHIFT_DEMAND_HORIZON_DAYS", "14")
    cmd, _ = spark_submit(dag, "score")
    assert cmd[-4:] == ["--horizon-days", "14", "--reconcile", "none"]
    variables.update({"nightshift_demand_horizon_days": "28", "nightshift_demand_reconcile": "store"})
    cmd, _ = spark_submit(dag, "score")
    assert cmd[-4:] == ["--horizon-days", "28", "--reconcile", "store"]
    cmd, _ = spark_submit(dag, "score", params={"horizon_days": 21, "reconcile": "none"})
    assert cmd[-4:] == ["--horizon-days", "21", "--reconcile", "none"]
    # the other tasks are unchanged
    act, _ = spark_submit(dag, "act", params={"horizon_days": 21})
    assert "--horizon-days" not in act


@pytest.mark.parametrize("dag_id", ["nightly_demand_forecast", "maintenance_scoring"])
def test_monitoring_pushes_to_the_configured_pushgateway(dagbag, variables, monkeypatch, dag_id):
    monkeypatch.setenv("NIGHTSHIFT_PUSHGATEWAY_URL", "http://pushgateway.env:9091")
    cmd, _ = spark_submit(dagbag.dags[dag_id], "monitor")
    assert cmd[-1] == "--pushgateway=http://pushgateway.env:9091"
    variables.update({"nightshift_pushgateway_url": "http://pushgateway.internal:9091"})
    cmd, _ = spark_submit(dagbag.dags[dag_id], "monitor")
    assert cmd[-1] == "--pushgateway=http://pushgateway.internal:9091"
    # only the monitoring task pushes
    score, _ = spark_submit(dagbag.dags[dag_id], "score")
    assert not [a for a in score if a.startswith("--pushgateway")]


@pytest.mark.parametrize(
    "task_id, command",
    [
        ("build_features", ["features", "build", "--as-of", "2024-12-31", "--use-case", "all"]),
        ("quality_gate", ["features", "check", "--as-of", "2024-12-31", "--use-case", "all"]),
        ("train", ["train", "--as-of", "2024-12-31", "--use-case", "all"]),
    ],
)
def test_weekly_retrain_commands(dagbag, variables, task_id, command):
    cmd, _ = spark_submit(dagbag.dags["weekly_retrain"], task_id)
    assert cmd == expected("weekly_retrain", task_id, *command)


def test_an_asset_triggered_retrain_uses_the_signal_date_and_use_case(dagbag, variables):
    run = dag_run(
        run_id="asset_triggered__2025-01-01T02:40:00+00:00",
        logical_date=None,
        events=[{"use_case": "demand", "date": "2024-12-30", "signals": []}],
    )
    cmd, _ = spark_submit(dagbag.dags["weekly_retrain"], "train", run)
    assert cmd[-5:] == ["train", "--as-of", "2024-12-30", "--use-case", "demand"]


def test_a_run_without_logical_date_or_signal_processes_the_day_before_it_was_queued(dagbag, variables):
    run = dag_run(logical_date=None, run_after=datetime.datetime(2025, 3, 2, 9, 30, tzinfo=UTC))
    cmd, _ = spark_submit(dagbag.dags["nightly_demand_forecast"], "score", run)
    assert cmd[-8:] == ["--date", "2025-03-01", "--use-case", "demand", *DEMAND_SCORE_OPTIONS]


@pytest.mark.parametrize("dag_id", ["nightly_demand_forecast", "maintenance_scoring", "weekly_retrain"])
def test_a_run_triggered_from_the_ui_processes_the_last_complete_day(dagbag, variables, dag_id):
    # Trigger without changing the form: logical date = now (2025-01-01T09:00Z), conf {} -> the night of 2024-12-31
    now = datetime.datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    run = dag_run(run_id="manual__2025-01-01T09:00:00+00:00", logical_date=now, run_after=now, run_type="manual")
    cmd, _ = spark_submit(dagbag.dags[dag_id], "build_features", run)
    assert cmd[cmd.index("--as-of") + 1] == "2024-12-31"


def test_the_date_param_overrides_the_logical_date(dagbag, variables):
    cmd, _ = spark_submit(dagbag.dags["nightly_demand_forecast"], "act", params={"date": "2024-11-30"})
    assert cmd[-4:] == ["--date", "2024-11-30", "--use-case", "demand"]


def test_variables_take_precedence_over_the_environment(dagbag, variables):
    variables.update(
        {
            "nightshift_job_jar": "s3a://artifacts/nightshift-jobs-0.1.0.jar",
            "nightshift_warehouse": "s3a://lake/nightshift",
            "nightshift_mlflow_tracking_uri": "https://mlflow.example",
        }
    )
    cmd, _ = spark_submit(dagbag.dags["nightly_demand_forecast"], "score")
    assert cmd[cmd.index("--class") + 2 :] == [
        "s3a://artifacts/nightshift-jobs-0.1.0.jar",
        "--warehouse",
        "s3a://lake/nightshift",
        "--tracking-uri",
        "https://mlflow.example",
        "score",
        "--date",
        "2024-12-31",
        "--use-case",
        "demand",
        *DEMAND_SCORE_OPTIONS,
    ]


def test_client_mode_passes_airflow_ids_in_the_environment(dagbag, variables):
    task = rendered(dagbag.dags["nightly_demand_forecast"], "score")
    hook = task._get_hook()
    hook._build_spark_submit_command(task.application)
    assert hook._env == {
        "AIRFLOW_CTX_DAG_ID": "nightly_demand_forecast",
        "AIRFLOW_CTX_DAG_RUN_ID": "manual__2024-12-31",
        "AIRFLOW_CTX_TASK_ID": "score",
    }


def test_the_connection_variable_selects_the_master(dagbag, variables):
    variables["nightshift_spark_conn_id"] = "spark_standalone"
    cmd, _ = spark_submit(dagbag.dags["nightly_demand_forecast"], "score")
    assert cmd[:3] == ["spark-submit", "--master", "spark://spark-master:7077"]


def test_the_connection_param_beats_the_variable(dagbag, variables):
    variables["nightshift_spark_conn_id"] = "spark_standalone"
    cmd, _ = spark_submit(dagbag.dags["nightly_demand_forecast"], "score", params={"spark_conn_id": "spark_yarn"})
    assert cmd[:3] == ["spark-submit", "--master", "yarn"]
    assert "spark.yarn.appMasterEnv.AIRFLOW_CTX_TASK_ID=score" in cmd
    assert cmd[cmd.index("--queue") + 1] == "nightly"
    assert cmd[cmd.index("--deploy-mode") + 1] == "cluster"


def test_kubernetes_passes_airflow_ids_as_driver_env(dagbag, variables):
    # k8s:// masters need the cncf-kubernetes provider next to the Spark provider (pinned in requirements.txt).
    cmd, _ = spark_submit(dagbag.dags["weekly_retrain"], "train", params={"spark_conn_id": "spark_k8s"})
    assert cmd[:3] == ["spark-submit", "--master", "k8s://https://k8s-api:6443"]
    assert "spark.kubernetes.driverEnv.AIRFLOW_CTX_DAG_ID=weekly_retrain" in cmd
    assert "spark.kubernetes.namespace=spark" in cmd


def test_standalone_cluster_mode_drops_the_env_vars_it_cannot_pass(dagbag, variables):
    cmd, hook = spark_submit(
        dagbag.dags["nightly_demand_forecast"], "score", params={"spark_conn_id": "spark_standalone_cluster"}
    )
    assert cmd[:3] == ["spark-submit", "--master", "spark://spark-master:7077"]
    assert cmd[cmd.index("--deploy-mode") + 1] == "cluster"
    assert hook._env is None


def test_extra_spark_conf_from_the_environment(dagbag, variables, monkeypatch):
    from nightshift.common import nightshift_job

    monkeypatch.setenv("NIGHTSHIFT_SPARK_CONF", '{"spark.executor.memory": "8g"}')
    task = nightshift_job("extra", "score", "--date", "2024-12-31")
    assert task.conf["spark.executor.memory"] == "8g"
    assert task.conf["spark.sql.session.timeZone"] == "UTC"
