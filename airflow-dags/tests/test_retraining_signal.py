"""The retraining_signal task reads monitoring's Delta tables and emits an asset event only when the night is the
newest monitored night of its use case and raised a signal that no earlier night raised for the same model version."""

import datetime
from collections import defaultdict
from types import SimpleNamespace

import pyarrow as pa
import pytest

from nightshift.common import RETRAIN_SIGNAL, retraining_signal
from nightshift.common.signals import _delta_uri, read_signals


def write_signals(warehouse, rows):
    from deltalake import write_deltalake

    schema = pa.schema(
        [
            ("use_case", pa.string()),
            ("signal_date", pa.date32()),
            ("kind", pa.string()),
            ("subject", pa.string()),
            ("value", pa.float64()),
            ("threshold", pa.float64()),
            ("model_version", pa.string()),
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    write_deltalake(f"{warehouse}/monitoring/retraining_signals", table, partition_by=["use_case"], mode="append")


def write_stats(warehouse, use_case, *dates):
    """One monitoring/prediction_stats row per monitored night (use_case, monitor_date and some of its statistics)."""
    from deltalake import write_deltalake

    schema = pa.schema(
        [
            ("use_case", pa.string()),
            ("monitor_date", pa.date32()),
            ("rows", pa.int64()),
            ("mean", pa.float64()),
            ("previous_mean", pa.float64()),
        ]
    )
    rows = [
        {"use_case": use_case, "monitor_date": datetime.date.fromisoformat(d), "rows": 10, "mean": 1.0}
        for d in dates
    ]
    table = pa.Table.from_pylist(rows, schema=schema)
    write_deltalake(f"{warehouse}/monitoring/prediction_stats", table, partition_by=["use_case"], mode="append")


def signal(use_case, date, kind="drift", subject="lag_7", model_version="3"):
    return {
        "use_case": use_case,
        "signal_date": datetime.date.fromisoformat(date),
        "kind": kind,
        "subject": subject,
        "value": 0.31,
        "threshold": 0.2,
        "model_version": model_version,
    }


@pytest.fixture
def outlet_events(monkeypatch):
    import airflow.sdk

    events = defaultdict(SimpleNamespace)
    monkeypatch.setattr(airflow.sdk, "get_current_context", lambda: {"outlet_events": events})
    return events


def run(warehouse, date="2024-12-31", use_case="demand"):
    return retraining_signal.function(use_case=use_case, date=date, warehouse=str(warehouse))


def test_reads_only_the_use_case_and_date_asked_for(tmp_path):
    write_signals(tmp_path, [signal("demand", "2024-12-31"), signal("demand", "2024-12-30"), signal("maintenance", "2024-12-31")])
    assert read_signals(str(tmp_path), "demand", "2024-12-31") == [
        {"kind": "drift", "subject": "lag_7", "value": 0.31, "threshold": 0.2, "model_version": "3"}
    ]
    assert read_signals(str(tmp_path), "maintenance", "2024-12-30") == []


def test_no_table_yet_means_no_signal(tmp_path):
    assert read_signals(str(tmp_path), "demand", "2024-12-31") == []


def test_s3a_warehouses_are_read_through_s3():
    assert _delta_uri("s3a://lake/nightshift/", "monitoring/x") == "s3://lake/nightshift/monitoring/x"
    assert _delta_uri("/data/wh", "monitoring/x") == "/data/wh/monitoring/x"


def test_skips_without_a_signal(tmp_path):
    from airflow.sdk.exceptions import AirflowSkipException

    with pytest.raises(AirflowSkipException, match="No retraining signal for demand on 2024-12-31"):
        retraining_signal.function(use_case="demand", date="2024-12-31", warehouse=str(tmp_path))


def test_emits_an_event_carrying_the_signals(tmp_path, outlet_events):
    write_signals(tmp_path, [signal("demand", "2024-12-31", kind="accuracy", subject="wape")])

    result = run(tmp_path)

    assert outlet_events[RETRAIN_SIGNAL].extra == result
    assert result["use_case"] == "demand"
    assert result["date"] == "2024-12-31"
    assert result["signals"] == [
        {"kind": "accuracy", "subject": "wape", "value": 0.31, "threshold": 0.2, "model_version": "3", "new": True}
    ]


def test_a_signal_already_raised_for_the_same_model_version_on_an_earlier_night_is_skipped(tmp_path, outlet_events):
    from airflow.sdk.exceptions import AirflowSkipException

    # persistent drift: the same signal every night since the 29th
    write_signals(tmp_path, [signal("demand", d) for d in ("2024-12-29", "2024-12-30", "2024-12-31")])
    write_stats(tmp_path, "demand", "2024-12-29", "2024-12-30", "2024-12-31")

    with pytest.raises(AirflowSkipException) as skipped:
        run(tmp_path)

    message = str(skipped.value)
    assert "drift/lag_7" in message
    assert "model version 3" in message
    assert "2024-12-29" in message  # the night it was first raised, which emitted the event
    assert "weekly" in message and "weekly_retrain" in message
    assert RETRAIN_SIGNAL not in outlet_events


def test_another_use_case_or_a_night_after_does_not_make_a_signal_a_repeat(tmp_path, outlet_events):
    write_signals(
        tmp_path,
        [signal("maintenance", "2024-12-30"), signal("demand", "2025-01-01"), signal("demand", "2024-12-31")],
    )

    assert run(tmp_path)["signals"][0]["new"] is True


def test_a_new_subject_emits_and_marks_which_signals_are_new(tmp_path, outlet_events):
    write_signals(
        tmp_path,
        [
            signal("demand", "2024-12-30", subject="lag_7"),
            signal("demand", "2024-12-31", subject="lag_7"),
            signal("demand", "2024-12-31", subject="price"),
        ],
    )
    write_stats(tmp_path, "demand", "2024-12-30", "2024-12-31")

    result = run(tmp_path)

    assert outlet_events[RETRAIN_SIGNAL].extra == result
    assert {s["subject"]: s["new"] for s in result["signals"]} == {"lag_7": False, "price": True}
    for s in result["signals"]:
        assert set(s) == {"kind", "subject", "value", "threshold", "model_version", "new"}


def test_the_same_subject_with_a_new_model_version_emits(tmp_path, outlet_events):
    # the retrained version 4 drifts as well: the retrain did not fix it, which is news
    write_signals(
        tmp_path, [signal("demand", "2024-12-30", model_version="3"), signal("demand", "2024-12-31", model_version="4")]
    )
    write_stats(tmp_path, "demand", "2024-12-30", "2024-12-31")

    result = run(tmp_path)

    assert outlet_events[RETRAIN_SIGNAL].extra == result
    assert [(s["model_version"], s["new"]) for s in result["signals"]] == [("4", True)]


def test_a_night_older_than_the_newest_monitored_night_is_skipped_even_with_new_signals(tmp_path, outlet_events):
    from airflow.sdk.exceptions import AirflowSkipException

    # a backfill of 2024-11-01 after 2024-12-31 was monitored: retraining as of November would rebuild the live
    # features table as of then
    write_signals(tmp_path, [signal("demand", "2024-11-01", subject="price")])
    write_stats(tmp_path, "demand", "2024-11-01", "2024-12-31")
    write_stats(tmp_path, "maintenance", "2025-01-05")

    with pytest.raises(AirflowSkipException) as skipped:
        run(tmp_path, date="2024-11-01")

    message = str(skipped.value)
    assert "2024-12-31" in message and "newest monitored night" in message
    assert RETRAIN_SIGNAL not in outlet_events


def test_the_newest_monitored_night_of_the_use_case_emits(tmp_path, outlet_events):
    write_signals(tmp_path, [signal("demand", "2024-12-31")])
    write_stats(tmp_path, "demand", "2024-12-30", "2024-12-31")
    write_stats(tmp_path, "maintenance", "2025-01-05")  # another use case's newer night does not count

    assert run(tmp_path)["date"] == "2024-12-31"


def test_without_prediction_stats_or_a_row_of_the_use_case_tonight_counts_as_newest(tmp_path, outlet_events):
    write_signals(tmp_path, [signal("demand", "2024-11-01")])
    assert run(tmp_path, date="2024-11-01")["date"] == "2024-11-01"  # no prediction_stats table

    write_stats(tmp_path, "maintenance", "2024-12-31")
    assert run(tmp_path, date="2024-11-01")["date"] == "2024-11-01"  # no row of demand in it
