from __future__ import annotations

import shutil
from datetime import timedelta

import numpy as np
import polars as pl

from qbtc.lake import read_dataset, write_dataset
from qbtc.risk.inputs import load_closes, load_signals
from qbtc.schemas import OHLCV, SIGNALS
from tests.risk.lake import AS_OF, BAR, BTC, ETH, write_prices


def _signal(run_id: str, symbol: str, direction: str, created_minutes: int) -> dict:
    return {
        "signal_id": f"{run_id}|{symbol}",
        "run_id": run_id,
        "symbol": symbol,
        "timestamp": BAR,
        "direction": direction,
        "strength": 0.5 if direction == "long" else -0.5,
        "confidence": 0.7,
        "horizon_minutes": 60,
        "provider": "rules",
        "model": None,
        "rationale": "test",
        "feature_snapshot": "snap",
        "fallback_reason": None,
        "created_at": BAR + timedelta(minutes=created_minutes),
    }


def test_only_the_newest_run_of_the_latest_bar_is_used(lake_dir):
    rows = [
        _signal("older", BTC, "long", 0),
        _signal("older", ETH, "long", 0),
        _signal("newer", BTC, "short", 1),
        _signal("newer", ETH, "short", 1),
    ]
    write_dataset(lake_dir, SIGNALS, pl.DataFrame(rows, schema=SIGNALS.schema))
    chosen = load_signals(lake_dir, AS_OF)
    assert chosen["run_id"].to_list() == ["newer", "newer"]
    assert chosen["symbol"].to_list() == sorted([BTC, ETH])
    assert set(chosen["direction"]) == {"short"}


def test_options_past_expiry_are_held_as_closed_until_their_settlement_is_booked() -> None:
    from datetime import UTC, datetime

    import polars as pl

    from qbtc.risk.inputs import close_expired_options
    from qbtc.schemas import POSITIONS

    expiry = datetime(2026, 1, 6, 8, tzinfo=UTC)
    rows = [
        {
            "id": "main:C",
            "symbol": "BTC/USDT:USDT-260106-86500-C",
            "type": "option",
            "side": "short",
            "quantity": -0.91,
            "unrealized_pnl": -22.9,
            "realized_pnl": 0.0,
            "fees": 11.0,
            "expiry": expiry,
        },
        {
            "id": "main:P",
            "symbol": "BTC/USDT:USDT-260107-86500-P",
            "type": "option",
            "side": "long",
            "quantity": 1.0,
            "unrealized_pnl": 5.0,
            "realized_pnl": 0.0,
            "fees": 1.0,
            "expiry": datetime(2026, 1, 7, 8, tzinfo=UTC),
        },
        {
            "id": "main:BTC",
            "symbol": "BTC/USDT:USDT",
            "type": "perp",
            "side": "long",
            "quantity": 0.5,
            "unrealized_pnl": 3.0,
            "realized_pnl": 0.0,
            "fees": 2.0,
            "expiry": None,
        },
    ]
    frame = pl.DataFrame(rows).cast({k: v for k, v in POSITIONS.schema.items() if k in rows[0]})
    after = close_expired_options(frame, datetime(2026, 1, 6, 9, tzinfo=UTC))
    assert after["quantity"].to_list() == [0.0, 1.0, 0.5]
    assert after["unrealized_pnl"].to_list() == [0.0, 5.0, 3.0]
    assert after["side"].to_list() == ["flat", "long", "long"]
    assert after["fees"].to_list() == [11.0, 1.0, 2.0]  # what was paid stays booked
    before = close_expired_options(frame, datetime(2026, 1, 6, 7, tzinfo=UTC))
    assert before["quantity"].to_list() == [-0.91, 1.0, 0.5]


def test_closes_read_the_whole_history_when_gaps_leave_the_recent_window_short(
    lake_dir,
) -> None:
    """The window read first holds too few complete rows (ETH has a gap): the result is the
    one the whole history gives, the last ``bars`` timestamps both symbols have."""
    write_prices(lake_dir, bars=400)
    frame = read_dataset(lake_dir, OHLCV)
    gap = (pl.col("symbol") == ETH) & (pl.col("timestamp") > AS_OF - timedelta(minutes=60))
    kept = frame.filter(~gap | (pl.col("timestamp") > AS_OF - timedelta(minutes=20)))
    shutil.rmtree(lake_dir / "ohlcv")
    write_dataset(lake_dir, OHLCV, kept)
    prices = load_closes(lake_dir, [BTC, ETH], AS_OF, timeframe="1m", bars=100)
    complete = (
        kept.pivot(on="symbol", index="timestamp", values="close")
        .drop_nulls()
        .sort("timestamp")
        .tail(100)
    )
    assert prices.closes.shape == (100, 2)
    assert np.array_equal(prices.closes, complete.select(BTC, ETH).to_numpy())
    # 40 minutes of the last 60 are missing for ETH: the rows reach back past the window
    assert complete["timestamp"].min() < AS_OF - timedelta(minutes=125)


def test_closes_of_a_full_window_are_its_last_bars(lake_dir) -> None:
    write_prices(lake_dir, bars=400)
    prices = load_closes(lake_dir, [BTC, ETH], AS_OF, timeframe="1m", bars=100)
    every = read_dataset(lake_dir, OHLCV).pivot(on="symbol", index="timestamp", values="close")
    assert np.array_equal(
        prices.closes, every.sort("timestamp").tail(100).select(BTC, ETH).to_numpy()
    )


def test_closes_asked_again_are_read_again_once_a_file_of_the_window_changed(lake_dir) -> None:
    write_prices(lake_dir, bars=400)
    first = load_closes(lake_dir, [BTC, ETH], AS_OF, timeframe="1m", bars=100)
    assert load_closes(lake_dir, [BTC, ETH], AS_OF, timeframe="1m", bars=100) is first
    assert not first.closes.flags.writeable
    last = read_dataset(lake_dir, OHLCV).filter(pl.col("timestamp") == BAR)
    late = last.with_columns(pl.col("timestamp") + timedelta(minutes=1), pl.col("close") * 1.01)
    write_dataset(lake_dir, OHLCV, late)  # a bar stamped AS_OF arrives
    again = load_closes(lake_dir, [BTC, ETH], AS_OF, timeframe="1m", bars=100)
    assert again is not first
    assert np.array_equal(again.closes[:-1], first.closes[1:])
    assert np.allclose(again.closes[-1], first.closes[-1] * 1.01)
