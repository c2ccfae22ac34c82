"""The rules over many snapshots at once answer exactly as the rules one snapshot at a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbtc.signals import RulesProvider, signals_frame
from qbtc.signals.inputs import SnapshotError
from qbtc.signals.rules_batch import rules_signal_frames
from tests.signals.snapshots import DECISION_BAR, PERPS, FixtureSnapshot, make_snapshot

SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
finite = st.floats(-5, 5, allow_nan=False)
# None, NaN and infinity all read as "no value" in the per-snapshot inputs
missing = st.sampled_from([None, float("nan"), float("inf")])


@st.composite
def perp_values(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "close": 100.0,
        "zscore_240": draw(missing | finite | st.just(0.0)),
        "momentum_240": draw(missing | finite),
        "rv_cc_60": draw(missing | st.floats(0.01, 3)),
        "ewma_vol": draw(missing | st.just(0.0) | st.floats(0.01, 3)),
        "rank_rv_cc_60": draw(missing | st.floats(0, 1)),
        "funding_rate": draw(missing | st.floats(-0.01, 0.01) | st.just(-0.0)),
        "basis_annualized": draw(missing | finite),
    }


def _per_snapshot(provider: RulesProvider, snapshot: FixtureSnapshot) -> pl.DataFrame:
    result = provider.propose(snapshot, run_id="r1")
    return signals_frame(result.signals).sort("symbol").drop("created_at")


def _snapshots(markets: list[dict[str, dict[str, Any]]]) -> list[FixtureSnapshot]:
    return [
        make_snapshot(perps, options=(), at=DECISION_BAR + timedelta(hours=h))
        for h, perps in enumerate(markets)
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(perp_values(), min_size=3, max_size=3), min_size=1, max_size=4))
def test_batch_equals_the_rules_one_snapshot_at_a_time(markets: list[list[dict[str, Any]]]):
    provider = RulesProvider(symbols=SYMBOLS)
    snapshots = _snapshots([dict(zip(SYMBOLS, m, strict=True)) for m in markets])
    batch = rules_signal_frames(provider, snapshots, run_id="r1")
    assert len(batch) == len(snapshots)
    for snapshot, frame in zip(snapshots, batch, strict=True):
        assert frame.drop("created_at").equals(_per_snapshot(provider, snapshot))


def test_batch_of_the_golden_snapshot_restricted_to_a_universe():
    provider = RulesProvider(symbols=("BTC/USDT:USDT", "DOGE/USDT:USDT"))
    snapshots = _snapshots([PERPS, {**PERPS, "BTC/USDT:USDT": {"zscore_240": -3.0}}])
    batch = rules_signal_frames(provider, snapshots, run_id="r1")
    assert [f["symbol"].to_list() for f in batch] == [["BTC/USDT:USDT", "DOGE/USDT:USDT"]] * 2
    for snapshot, frame in zip(snapshots, batch, strict=True):
        assert frame.drop("created_at").equals(_per_snapshot(provider, snapshot))


def test_batch_refuses_snapshots_with_option_features_and_empty_universes():
    with pytest.raises(ValueError, match="option features"):
        rules_signal_frames(RulesProvider(), [make_snapshot()], run_id="r1")
    lonely = RulesProvider(symbols=("XRP/USDT:USDT",))
    with pytest.raises(SnapshotError, match="no rows for XRP/USDT:USDT"):
        rules_signal_frames(lonely, _snapshots([PERPS]), run_id="r1")
