"""Rendering tasks the way a worker does, without a scheduler: fixed context, then the provider's hook."""

from __future__ import annotations

import copy
import datetime
from types import SimpleNamespace
from typing import Any

UTC = datetime.timezone.utc


def dag_run(
    run_id: str = "manual__2024-12-31",
    logical_date: datetime.datetime | None = datetime.datetime(2024, 12, 31, tzinfo=UTC),
    run_after: datetime.datetime = datetime.datetime(2025, 1, 1, 2, 0, tzinfo=UTC),
    events: list[dict[str, Any]] | None = None,
    run_type: str = "manual",
) -> SimpleNamespace:
    """A dag_run as tasks see it. The default is a manual run for the night 2024-12-31 the way the Java client
    triggers one (``nightshift airflow trigger --date 2024-12-31``: logical date midnight UTC, no ``date`` param)."""
    consumed = [
        SimpleNamespace(extra=e, timestamp=datetime.datetime(2025, 1, 1, 3, i, tzinfo=UTC))
        for i, e in enumerate(events or [])
    ]
    return SimpleNamespace(
        run_id=run_id,
        run_type=run_type,
        logical_date=logical_date,
        run_after=run_after,
        consumed_asset_events=consumed,
        conf={},
    )


def context(dag, task, run: SimpleNamespace, params: dict[str, Any] | None = None) -> dict[str, Any]:
    resolved = {k: dag.params[k] for k in dag.params}
    resolved.update(params or {})
    ctx: dict[str, Any] = {
        "dag": dag,
        "task": task,
        "run_id": run.run_id,
        "dag_run": run,
        "params": resolved,
        "triggering_asset_events": {},
    }
    if run.logical_date is not None:
        ctx["ds"] = run.logical_date.strftime("%Y-%m-%d")
        ctx["logical_date"] = run.logical_date
    return ctx


def rendered(dag, task_id: str, run: SimpleNamespace | None = None, params: dict[str, Any] | None = None):
    """A rendered copy of the task (rendering is in place and irreversible)."""
    task = copy.deepcopy(dag.get_task(task_id))
    task.render_template_fields(context(dag, task, run or dag_run(), params))
    return task


def spark_submit(dag, task_id: str, run: SimpleNamespace | None = None, params: dict[str, Any] | None = None):
    """The spark-submit command line the task runs, and the hook that built it."""
    task = rendered(dag, task_id, run, params)
    hook = task._get_hook()
    return hook._build_spark_submit_command(task.application), hook
