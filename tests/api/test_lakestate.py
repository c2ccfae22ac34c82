from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from qbtc.api.lakestate import KILL_SWITCH, LakeWatcher, dataset_token, scan_lake
from qbtc.lake import compact_dataset, write_dataset
from qbtc.schemas import DATASETS
from tests.factories import T0, ohlcv_frame


def test_token_of_a_missing_dataset_is_empty(lake_dir):
    assert dataset_token(lake_dir / "ohlcv") == (0, "")


def test_token_changes_on_write_and_compaction_but_not_on_a_no_op(lake_dir):
    directory = lake_dir / "ohlcv"
    write_dataset(lake_dir, "ohlcv", ohlcv_frame(n=5))
    first = dataset_token(directory)
    write_dataset(lake_dir, "ohlcv", ohlcv_frame(n=5))  # same rows: nothing written
    assert dataset_token(directory) == first
    write_dataset(lake_dir, "ohlcv", ohlcv_frame(n=5, start=T0 + timedelta(minutes=5)))
    second = dataset_token(directory)
    assert second != first
    assert second[0] == first[0] * 2
    compact_dataset(lake_dir, "ohlcv")
    third = dataset_token(directory)
    assert third != second
    assert third[1] > second[1]  # the merged file is the newest


def test_scan_covers_every_dataset_and_the_kill_switch(data_dir, lake_dir):
    tokens = scan_lake(lake_dir, data_dir / "state")
    assert set(tokens) == {*DATASETS, KILL_SWITCH}
    (data_dir / "state").mkdir()
    (data_dir / "state" / "kill_switch.json").write_text('{"on": true}')
    assert scan_lake(lake_dir, data_dir / "state")[KILL_SWITCH] != tokens[KILL_SWITCH]


def test_watcher_wakes_a_waiter_on_change(data_dir, lake_dir):
    async def scenario() -> tuple[tuple, tuple]:
        watcher = LakeWatcher(lake_dir, data_dir / "state", interval_s=0.02)
        task = asyncio.create_task(watcher.run())
        try:
            seen = await watcher.wait_for_change(("ohlcv",), None)  # immediate
            waiter = asyncio.create_task(watcher.wait_for_change(("ohlcv",), seen))
            await asyncio.sleep(0.1)
            assert not waiter.done()
            write_dataset(lake_dir, "ohlcv", ohlcv_frame(n=2))
            changed = await asyncio.wait_for(waiter, timeout=5)
        finally:
            task.cancel()
        return seen, changed

    seen, changed = asyncio.run(scenario())
    assert seen == ((0, ""),)
    assert changed[0][0] == 2


def test_watcher_rescans_when_its_loop_is_not_running(data_dir, lake_dir, monkeypatch):
    watcher = LakeWatcher(lake_dir, data_dir / "state", interval_s=0.01)
    write_dataset(lake_dir, "ohlcv", ohlcv_frame(n=2))
    assert watcher.tokens(("ohlcv",)) == ((0, ""),)  # scanned moments ago
    monkeypatch.setattr(watcher, "_scanned_at", watcher._scanned_at - 10)
    assert watcher.tokens(("ohlcv",))[0][0] == 2


@pytest.mark.parametrize("name", ["ohlcv", "positions"])
def test_tokens_are_per_dataset(lake_dir, data_dir, name):
    watcher = LakeWatcher(lake_dir, data_dir / "state")
    assert watcher.tokens((name,)) == ((0, ""),)
