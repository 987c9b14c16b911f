"""Turns monitoring's retraining signals into events on the ``nightshift://signals/retrain`` asset.

The monitor job writes the night's signals (drift alerts, accuracy well below validation) to the Delta table
``<warehouse>/monitoring/retraining_signals``. This task reads that night's rows with delta-rs (no Spark, no JVM)
and, when there are any, emits one asset event; weekly_retrain is scheduled on that asset. No signal: the task is
skipped and no event is emitted.
"""

from __future__ import annotations

import gc
from typing import Any

from airflow.sdk import task

from nightshift.common.settings import RETRAIN_SIGNAL


def _delta_uri(warehouse: str, table: str) -> str:
    root = warehouse.rstrip("/")
    for scheme in ("s3a://", "s3n://"):
        if root.startswith(scheme):
            root = "s3://" + root[len(scheme):]
    return f"{root}/{table}"


def read_signals(warehouse: str, use_case: str, date: str) -> list[dict[str, Any]]:
    """The retraining signals monitoring recorded for one use case and date ([] when the table does not exist)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    uri = _delta_uri(warehouse, "monitoring/retraining_signals")
    try:
        table = DeltaTable(uri)
    except TableNotFoundError:
        return []
    arrow = table.to_pyarrow_table(partitions=[("use_case", "=", use_case)])
    rows = arrow.to_pylist()
    # Release delta-rs and Arrow objects (and their native threads) now, not during interpreter shutdown, where
    # they can abort the task process (delta-io/delta-rs#2184).
    del arrow, table
    gc.collect()
    found = []
    for row in rows:
        if str(row.get("signal_date")) != date:
            continue
        found.append(
            {
                k: (v if isinstance(v, (str, int, float, type(None))) else str(v))
                for k, v in row.items()
                if k in ("kind", "subject", "value", "threshold", "model_version")
            }
        )
    return found


@task(task_id="retraining_signal", outlets=[RETRAIN_SIGNAL], retries=1)
def retraining_signal(use_case: str, date: str, warehouse: str) -> dict[str, Any]:
    """Emit an event on the retrain asset when monitoring raised a signal for ``use_case`` on ``date``."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowSkipException

    signals = read_signals(warehouse, use_case, date)
    if not signals:
        raise AirflowSkipException(f"No retraining signal for {use_case} on {date}; weekly_retrain not triggered.")
    extra = {"use_case": use_case, "date": date, "signals": signals}
    get_current_context()["outlet_events"][RETRAIN_SIGNAL].extra = extra
    return extra
