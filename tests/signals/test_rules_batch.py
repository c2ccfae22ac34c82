"""The rules over many snapshots at once answer exactly as the rules one snapshot at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbtc.signals import RulesProvider, signals_frame, vol_views_frame
from qbtc.signals.inputs import SnapshotError
from qbtc.signals.rules_batch import rules_signal_frames
from tests.signals.snapshots import DECISION_BAR, OPTIONS, PERPS, FixtureSnapshot, make_snapshot

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


option_rows = st.lists(
    st.tuples(
        st.sampled_from(["BTC", "ETH"]),
        st.sampled_from([7.0, 28.0, 30.0, 63.0]),
        st.floats(0.05, 3),
        st.floats(-0.5, 0.5),
        st.floats(-1, 1),
    ),
    max_size=4,
    unique_by=lambda row: (row[0], row[1]),
)


def _per_snapshot(
    provider: RulesProvider, snapshot: FixtureSnapshot
) -> tuple[pl.DataFrame, pl.DataFrame]:
    result = provider.propose(snapshot, run_id="r1")
    signals = signals_frame(result.signals).sort("symbol").drop("created_at")
    return signals, vol_views_frame(result.vol_views).sort("underlying").drop("created_at")


def _snapshots(
    markets: list[dict[str, dict[str, Any]]], chains: list[tuple] | None = None
) -> list[FixtureSnapshot]:
    return [
        make_snapshot(
            perps,
            options=tuple(chains[h]) if chains else (),
            at=DECISION_BAR + timedelta(hours=h),
        )
        for h, perps in enumerate(markets)
    ]


def _assert_equal_to_asking_each(provider: RulesProvider, snapshots: list[FixtureSnapshot]):
    batch = rules_signal_frames(provider, snapshots, run_id="r1")
    assert len(batch) == len(snapshots)
    for snapshot, (signals, views) in zip(snapshots, batch, strict=True):
        expected_signals, expected_views = _per_snapshot(provider, snapshot)
        assert signals.drop("created_at").equals(expected_signals)
        assert views.drop("created_at").equals(expected_views)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(perp_values(), min_size=3, max_size=3), option_rows),
        min_size=1,
        max_size=4,
    )
)
def test_batch_equals_the_rules_one_snapshot_at_a_time(markets: list[tuple[list, list]]):
    snapshots = _snapshots(
        [dict(zip(SYMBOLS, perps, strict=True)) for perps, _ in markets],
        [chain for _, chain in markets],
    )
    _assert_equal_to_asking_each(RulesProvider(symbols=SYMBOLS), snapshots)


def test_batch_of_the_golden_snapshot_restricted_to_a_universe():
    provider = RulesProvider(symbols=("BTC/USDT:USDT", "DOGE/USDT:USDT"))
    snapshots = _snapshots(
        [PERPS, {**PERPS, "BTC/USDT:USDT": {"zscore_240": -3.0}}], [list(OPTIONS), []]
    )
    batch = rules_signal_frames(provider, snapshots, run_id="r1")
    assert [f["symbol"].to_list() for f, _ in batch] == [["BTC/USDT:USDT", "DOGE/USDT:USDT"]] * 2
    assert batch[0][1]["underlying"].to_list() == ["BTC", "ETH"]
    _assert_equal_to_asking_each(provider, snapshots)


def test_a_snapshot_without_the_universe_says_what_to_run():
    lonely = RulesProvider(symbols=("XRP/USDT:USDT",))
    with pytest.raises(SnapshotError, match="no rows for XRP/USDT:USDT"):
        rules_signal_frames(lonely, _snapshots([PERPS]), run_id="r1")


def test_rows_out_of_order_or_twice_are_read_as_one_snapshot_at_a_time_reads_them():
    """A snapshot's rows in another order, or a symbol's older bar next to its newest: the
    batch sorts and keeps the newest as the per-snapshot inputs do."""
    first, second = _snapshots([PERPS, {**PERPS, "ETH/USDT:USDT": {"zscore_240": 2.0}}])
    older = first.perps.filter(pl.col("symbol") == "ETH/USDT:USDT").with_columns(
        pl.col("timestamp") - timedelta(minutes=5), zscore_240=pl.lit(-4.0)
    )
    reordered = replace(first, perps=pl.concat([first.perps.reverse(), older]))
    _assert_equal_to_asking_each(RulesProvider(symbols=SYMBOLS), [reordered, second])
    assert _per_snapshot(RulesProvider(symbols=SYMBOLS), reordered)[0].equals(
        _per_snapshot(RulesProvider(symbols=SYMBOLS), first)[0]
    )
