"""latest_snapshot: the rows a decision uses, closed bars only, and a stable content id."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from qbtc.features import FeatureSnapshot, FeaturesNotFoundError, latest_snapshot
from qbtc.features.snapshot import snapshot_id
from qbtc.lake import write_dataset
from qbtc.schemas import FEATURES, OPTION_FEATURES
from tests.features.fixtures import MINUTE, T0

SYMBOLS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]


def _features(symbol: str, minutes: range) -> pl.DataFrame:
    rows = [
        {"symbol": symbol, "timestamp": T0 + m * MINUTE, "close": 100.0 + m, "ret_1": 0.001 * m}
        for m in minutes
    ]
    full = [{name: row.get(name) for name in FEATURES.columns} for row in rows]
    return pl.DataFrame(full, schema=FEATURES.schema)


def _surface(underlying: str, at, expiries: tuple[int, ...] = (7, 30)) -> pl.DataFrame:
    rows = [
        {"underlying": underlying, "expiry": at + timedelta(days=d), "timestamp": at,
         "tenor_days": float(d), "forward": 50_000.0, "atm_iv": 0.5 + d / 1000, "rr_25d": None,
         "bf_25d": None, "term_slope": None, "iv_minus_rv": None}
        for d in expiries
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=OPTION_FEATURES.schema)


@pytest.fixture
def lake(lake_dir):
    write_dataset(lake_dir, FEATURES, _features("BTC/USDT:USDT", range(10)))
    write_dataset(lake_dir, FEATURES, _features("ETH/USDT:USDT", range(8)))
    write_dataset(lake_dir, FEATURES, _features("SOL/USDT:USDT", range(10)))
    for minutes in (2, 6, 20):
        write_dataset(lake_dir, OPTION_FEATURES, _surface("BTC", T0 + minutes * MINUTE))
    return lake_dir


def test_one_row_per_symbol_at_its_last_closed_bar(lake):
    snap = latest_snapshot(lake, SYMBOLS, T0 + 9 * MINUTE + timedelta(seconds=59))
    assert isinstance(snap, FeatureSnapshot)
    # Bar 9 closes at minute 10: at 9:59 the last closed BTC bar is 8; ETH's last is 7.
    assert snap.perps.get_column("symbol").to_list() == SYMBOLS
    assert snap.perps.get_column("timestamp").to_list() == [T0 + 8 * MINUTE, T0 + 7 * MINUTE]
    assert snap.timestamp == T0 + 8 * MINUTE
    assert snap.perps.schema == FEATURES.schema


def test_options_are_the_latest_chain_snapshot_at_or_before_as_of(lake):
    snap = latest_snapshot(lake, SYMBOLS, T0 + 10 * MINUTE)
    assert snap.options.height == 2
    assert set(snap.options.get_column("timestamp")) == {T0 + 6 * MINUTE}
    assert snap.options.schema == OPTION_FEATURES.schema


def test_snapshot_id_is_a_stable_hash_of_the_rows(lake):
    as_of = T0 + 9 * MINUTE
    first, again = latest_snapshot(lake, SYMBOLS, as_of), latest_snapshot(lake, SYMBOLS, as_of)
    assert first.snapshot_id == again.snapshot_id
    assert len(first.snapshot_id) == 64
    assert first.snapshot_id == snapshot_id(first.perps, first.options)
    later = latest_snapshot(lake, SYMBOLS, as_of + MINUTE)  # BTC bar 9 has closed
    assert later.snapshot_id != first.snapshot_id
    assert latest_snapshot(lake, SYMBOLS, as_of + 5 * MINUTE).snapshot_id == later.snapshot_id
    changed = first.perps.with_columns(pl.col("close") + 1e-12)
    assert snapshot_id(changed, first.options) != first.snapshot_id


def test_snapshot_id_does_not_depend_on_the_process():
    perps = _features("BTC/USDT:USDT", range(2))
    options = _surface("BTC", T0)
    # Golden value: a change of the canonical form would change every id already stored.
    assert snapshot_id(perps.clone(), options.clone()) == GOLDEN_ID


GOLDEN_ID = "2186b86acc8172e8ed4161eeecf5df93e45a362e07e0867da11e368a7f8f3276"


def test_no_features_yet_says_what_to_run(lake_dir):
    with pytest.raises(FeaturesNotFoundError, match="run `qbtc ingest` and the features flow"):
        latest_snapshot(lake_dir, SYMBOLS, T0)


def test_naive_as_of_is_refused(lake):
    with pytest.raises(ValueError, match="timezone-aware"):
        latest_snapshot(lake, SYMBOLS, T0.replace(tzinfo=None))
