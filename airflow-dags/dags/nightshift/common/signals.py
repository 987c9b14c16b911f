"""Turns monitoring's retraining signals into events on the ``nightshift://signals/retrain`` asset.

The monitor job writes the night's signals (drift alerts, accuracy well below validation) to the Delta table
``<warehouse>/monitoring/retraining_signals``. This task reads them with delta-rs (no Spark, no JVM) and emits one
asset event, on which weekly_retrain is scheduled, only when all of these hold (else the task is skipped and the skip
message says which did not):

* the night raised a signal;
* the night is the newest monitored night of the use case: the newest ``monitor_date`` of the use case in
  ``<warehouse>/monitoring/prediction_stats``, which every monitoring run writes (the night itself when that table
  does not exist or has no row of the use case). weekly_retrain rebuilds the live features table as of the event's
  ``date``, so a re-run or backfill of an older night must not post one;
* at least one of the night's signals is new: no earlier night of the use case raised a signal of the same kind and
  subject for the same model version. A persistent drift (say, prices up 10% for good) raises the same signal every
  night; only its first night emits, and the weekly schedule or a manual weekly_retrain run retrains after that. The
  same signal for a new model version is new (the retrained version drifts too).

The event's extra is ``{"use_case", "date", "signals"}``: every signal of the night with its kind, subject, value,
threshold and model_version, and ``new`` (false for a repeat that came with a new signal).
"""

from __future__ import annotations

import datetime
import gc
from typing import Any

from airflow.sdk import task

from nightshift.common.settings import RETRAIN_SIGNAL

SIGNAL_COLUMNS = ("kind", "subject", "value", "threshold", "model_version")


def _delta_uri(warehouse: str, table: str) -> str:
    root = warehouse.rstrip("/")
    for scheme in ("s3a://", "s3n://"):
        if root.startswith(scheme):
            root = "s3://" + root[len(scheme):]
    return f"{root}/{table}"


def _read_use_case(
    warehouse: str, table: str, use_case: str, columns: list[str] | None = None
) -> list[dict[str, Any]]:
    """The rows of ``use_case`` in the monitoring table ``table`` (partitioned by use_case); [] if it does not exist."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    uri = _delta_uri(warehouse, f"monitoring/{table}")
    try:
        delta = DeltaTable(uri)
    except TableNotFoundError:
        return []
    arrow = delta.to_pyarrow_table(partitions=[("use_case", "=", use_case)], columns=columns)
    rows = arrow.to_pylist()
    # Release delta-rs and Arrow objects (and their native threads) now, not during interpreter shutdown, where
    # they can abort the task process (delta-io/delta-rs#2184).
    del arrow, delta
    gc.collect()
    return rows


def _day(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _key(signal: dict[str, Any]) -> tuple[Any, Any, Any]:
    """What makes two signals the same signal: kind, subject and model version (the values change every night)."""
    return signal.get("kind"), signal.get("subject"), signal.get("model_version")


def read_signals_and_earlier(
    warehouse: str, use_case: str, date: str
) -> tuple[list[dict[str, Any]], dict[tuple[Any, Any, Any], str]]:
    """The retraining signals monitoring recorded for ``use_case`` on ``date``, and, for every (kind, subject,
    model_version) that an earlier night of the use case raised, the first such night (ISO date). One read of the
    table; ([], {}) when it does not exist."""
    night = _day(date)
    tonight: list[dict[str, Any]] = []
    first_raised: dict[tuple[Any, Any, Any], datetime.date] = {}
    for row in _read_use_case(warehouse, "retraining_signals", use_case):
        if row.get("signal_date") is None:
            continue
        day = _day(row["signal_date"])
        signal = {
            k: (v if isinstance(v, (str, int, float, type(None))) else str(v))
            for k, v in row.items()
            if k in SIGNAL_COLUMNS
        }
        if day == night:
            tonight.append(signal)
        elif day < night:
            key = _key(signal)
            if key not in first_raised or day < first_raised[key]:
                first_raised[key] = day
    return tonight, {k: d.isoformat() for k, d in first_raised.items()}


def read_signals(warehouse: str, use_case: str, date: str) -> list[dict[str, Any]]:
    """The retraining signals monitoring recorded for one use case and date ([] when the table does not exist)."""
    return read_signals_and_earlier(warehouse, use_case, date)[0]


def newest_monitored(warehouse: str, use_case: str) -> str | None:
    """The newest night monitored for ``use_case`` (ISO date; the newest ``monitor_date`` in
    monitoring/prediction_stats), or None when that table does not exist or has no row of the use case."""
    rows = _read_use_case(warehouse, "prediction_stats", use_case, columns=["monitor_date"])
    nights = [_day(r["monitor_date"]) for r in rows if r.get("monitor_date") is not None]
    return max(nights).isoformat() if nights else None


@task(task_id="retraining_signal", outlets=[RETRAIN_SIGNAL], retries=1)
def retraining_signal(use_case: str, date: str, warehouse: str) -> dict[str, Any]:
    """Emit an event on the retrain asset when monitoring raised a new signal for ``use_case`` on ``date``, its newest
    monitored night."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowSkipException

    signals, first_raised = read_signals_and_earlier(warehouse, use_case, date)
    if not signals:
        raise AirflowSkipException(f"No retraining signal for {use_case} on {date}; weekly_retrain not triggered.")
    newest = newest_monitored(warehouse, use_case)
    if newest is not None and _day(newest) > _day(date):
        raise AirflowSkipException(
            f"{date} is not the newest monitored night of {use_case}: {newest} is (monitoring/prediction_stats). "
            f"weekly_retrain rebuilds the live features table as of the event's date, so an event for this older "
            f"night (a re-run or backfill) would take it back to {date}; weekly_retrain not triggered."
        )
    flagged = [{**s, "new": _key(s) not in first_raised} for s in signals]
    if not any(s["new"] for s in flagged):
        repeats = "; ".join(
            sorted({f"{k}/{s} of model version {v} since {first_raised[(k, s, v)]}" for k, s, v in map(_key, signals)})
        )
        raise AirflowSkipException(
            f"No new retraining signal for {use_case} on {date}: every signal was already raised for the same model "
            f"version on an earlier night ({repeats}), so weekly_retrain is not triggered again for them. The weekly "
            f"schedule, or a manual weekly_retrain run, retrains."
        )
    extra = {"use_case": use_case, "date": date, "signals": flagged}
    get_current_context()["outlet_events"][RETRAIN_SIGNAL].extra = extra
    return extra
