"""The retraining_signal task reads monitoring's Delta table and emits an asset event only when there is a signal."""

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


def signal(use_case, date, kind="drift", subject="lag_7"):
    return {
        "use_case": use_case,
        "signal_date": datetime.date.fromisoformat(date),
        "kind": kind,
        "subject": subject,
        "value": 0.31,
        "threshold": 0.2,
        "model_version": "3",
    }


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


def test_emits_an_event_carrying_the_signals(tmp_path, monkeypatch):
    import airflow.sdk

    write_signals(tmp_path, [signal("demand", "2024-12-31", kind="accuracy", subject="wape")])
    outlet_events = defaultdict(SimpleNamespace)
    monkeypatch.setattr(airflow.sdk, "get_current_context", lambda: {"outlet_events": outlet_events})

    result = retraining_signal.function(use_case="demand", date="2024-12-31", warehouse=str(tmp_path))

    assert outlet_events[RETRAIN_SIGNAL].extra == result
    assert result["use_case"] == "demand"
    assert result["date"] == "2024-12-31"
    assert [s["kind"] for s in result["signals"]] == ["accuracy"]
