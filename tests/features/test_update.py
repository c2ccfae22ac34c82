"""Incremental runs over a real lake: new bars plus warm-up equal a full recompute."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from qbtc.features import WARMUP_BARS, compute_option_update, compute_perp_features
from qbtc.features.update import compute_perp_update, last_closed_bar_time
from qbtc.lake import read_dataset, write_dataset
from qbtc.schemas import FEATURES, FUNDING_RATES, OHLCV, OPTION_FEATURES, OPTION_QUOTES, TICKERS
from tests.features.fixtures import MINUTE, T0, bars, funding, tickers
from tests.features.test_options import chain, flat

N = WARMUP_BARS + 300


@pytest.fixture(scope="module")
def market() -> dict[str, pl.DataFrame]:
    ohlcv = bars(n=N, seed=4)
    return {"ohlcv": ohlcv, "tickers": tickers(ohlcv), "funding": funding()}


def _write_until(lake: Path, market: dict[str, pl.DataFrame], bar: int) -> None:
    """Store what an ingest would have stored once bar ``bar`` closed."""
    closed = T0 + (bar + 1) * MINUTE
    write_dataset(lake, OHLCV, market["ohlcv"].filter(pl.col("timestamp") < closed))
    for dataset, name in ((TICKERS, "tickers"), (FUNDING_RATES, "funding")):
        write_dataset(lake, dataset, market[name].filter(pl.col("timestamp") <= closed))


def _closed(bar: int):
    return T0 + (bar + 1) * MINUTE  # the moment bar ``bar`` closes


def test_last_closed_bar_is_the_previous_minute():
    assert last_closed_bar_time(T0 + timedelta(minutes=5, seconds=59)) == T0 + 4 * MINUTE
    assert last_closed_bar_time(T0 + 5 * MINUTE) == T0 + 4 * MINUTE
    with pytest.raises(ValueError, match="timezone-aware"):
        last_closed_bar_time(T0.replace(tzinfo=None))


def test_runs_after_each_ingest_store_what_a_full_recompute_gives(lake_dir, market):
    symbols = sorted(set(market["ohlcv"].get_column("symbol")))
    first = N - 200
    _write_until(lake_dir, market, first)
    update = compute_perp_update(lake_dir, symbols, as_of=_closed(first))
    assert update.start == T0  # nothing stored yet: from each symbol's first bar
    assert update.until == T0 + first * MINUTE
    write_dataset(lake_dir, FEATURES, update.frame)

    for bar in (first + 1, first + 2, N - 1):
        _write_until(lake_dir, market, bar)
        update = compute_perp_update(lake_dir, symbols, as_of=_closed(bar))
        assert update.start is not None
        assert update.start > T0 + WARMUP_BARS * MINUTE  # incremental, not from scratch
        write_dataset(lake_dir, FEATURES, update.frame)

    stored = read_dataset(lake_dir, FEATURES).sort("symbol", "timestamp")
    full = compute_perp_features(
        market["ohlcv"].lazy(), tickers=market["tickers"].lazy(), funding=market["funding"].lazy()
    ).collect()
    assert_frame_equal(stored, full, check_exact=False, rel_tol=1e-10, abs_tol=1e-11)

    idle = compute_perp_update(lake_dir, symbols, as_of=_closed(N - 1) + timedelta(hours=1))
    assert idle.start is None
    assert idle.frame.height == 0


def test_bars_not_closed_at_as_of_are_not_computed(lake_dir, market):
    _write_until(lake_dir, market, 500)
    update = compute_perp_update(
        lake_dir, ["BTC/USDT:USDT"], as_of=T0 + 300 * MINUTE + timedelta(seconds=30)
    )
    assert update.frame.get_column("timestamp").max() == T0 + 299 * MINUTE
    assert set(update.frame.get_column("symbol")) == {"BTC/USDT:USDT"}


def test_since_recomputes_a_range(lake_dir, market):
    _write_until(lake_dir, market, 400)
    symbols = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    write_dataset(
        lake_dir, FEATURES, compute_perp_update(lake_dir, symbols, as_of=_closed(400)).frame
    )
    again = compute_perp_update(lake_dir, symbols, as_of=_closed(400), since=T0 + 350 * MINUTE)
    assert again.frame.height == 2 * 51
    assert write_dataset(lake_dir, FEATURES, again.frame).rows_written == 0  # same values


def test_option_features_of_new_chain_snapshots_only(lake_dir):
    at = [T0 + timedelta(hours=h) for h in (1, 2)]
    write_dataset(lake_dir, OPTION_QUOTES, chain(flat, 10, at=at[0]))
    first = compute_option_update(lake_dir, ["BTC", "ETH"], as_of=at[1])
    assert first.frame.get_column("timestamp").to_list() == [at[0]]
    write_dataset(lake_dir, OPTION_FEATURES, first.frame)

    write_dataset(lake_dir, OPTION_QUOTES, chain(flat, 10, at=at[1]))
    second = compute_option_update(lake_dir, ["BTC", "ETH"], as_of=at[1], overlap=timedelta(0))
    assert second.frame.get_column("timestamp").to_list() == [at[1]]
    write_dataset(lake_dir, OPTION_FEATURES, second.frame)
    assert compute_option_update(lake_dir, ["BTC"], as_of=at[1]).start is None
    assert read_dataset(lake_dir, OPTION_FEATURES).height == 2
