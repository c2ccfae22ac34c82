"""The manual kill-switch deployment and the compaction flow, under the Prefect harness."""

from __future__ import annotations

from flows.maintenance import compaction, kill_switch
from qbtc.lake import read_dataset, write_dataset
from qbtc.schemas import OHLCV
from tests.factories import ohlcv_frame


def test_kill_switch_flow_trips_reports_and_resets(prefect_harness, data_dir):
    tripped = kill_switch(action="on", reason="desk review")
    assert tripped["on"] is True
    assert tripped["reason"] == "desk review"
    assert kill_switch(action="status")["on"] is True
    alerts = read_dataset(data_dir / "lake", "alerts")
    assert alerts["kind"].to_list() == ["kill-switch"]
    assert kill_switch(action="off")["on"] is False


def test_flatten_on_an_empty_book_trips_and_sends_nothing(prefect_harness, data_dir):
    out = kill_switch(action="flatten")
    assert out["on"] is True
    assert out["orders"] == {"intents": 0}


def test_compaction_flow_merges_files_without_losing_rows(prefect_harness, data_dir):
    bars = ohlcv_frame(n=40)
    for i in range(4):
        write_dataset(data_dir / "lake", OHLCV, bars.slice(i * 20, 20))
    rows = compaction(datasets=["ohlcv"])
    assert rows[0]["files_after"] < rows[0]["files_before"]
    assert read_dataset(data_dir / "lake", OHLCV).height == bars.height
