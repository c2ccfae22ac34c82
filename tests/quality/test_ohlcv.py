"""OHLCV rules: the timeframe grid and the jump score (spikes, level shifts, tick-bound prices)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from qbtc.quality import CheckContext, timeframe_step
from qbtc.quality.ohlcv import MIN_RETURNS, grid_offsets, jump_scores, ohlcv_rules, time_steps
from tests.factories import T0, ohlcv_frame

STEP = timedelta(minutes=1)
SIGMA = 12.0


def _bars(close: np.ndarray, *, start_minute: int = 0) -> pl.DataFrame:
    """One symbol's continuous bars: open = previous close, a tight range."""
    open_ = np.concatenate([[close[0]], close[:-1]])
    return pl.DataFrame(
        {
            "symbol": "BTC/USDT:USDT",
            "timeframe": "1m",
            "timestamp": [T0 + (start_minute + i) * STEP for i in range(close.size)],
            "open": open_,
            "high": np.maximum(open_, close),
            "low": np.minimum(open_, close),
            "close": close,
            "volume": 1.0,
            "source": "test",
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    )


def _walk(n: int, seed: int = 3) -> np.ndarray:
    return 100.0 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.001, n)))


def _flagged(frame: pl.DataFrame, reference: pl.DataFrame | None = None) -> list[int]:
    ctx = CheckContext(T0 + timedelta(days=1), STEP, SIGMA, reference)
    scores = jump_scores(frame, ctx)
    return [i for i, s in enumerate(scores.to_list()) if s is not None and s > SIGMA]


@pytest.mark.parametrize(
    ("timeframe", "seconds"), [("1m", 60), ("15m", 900), ("4h", 14_400), ("1d", 86_400)]
)
def test_timeframe_step(timeframe: str, seconds: int) -> None:
    assert timeframe_step(timeframe) == timedelta(seconds=seconds)


@pytest.mark.parametrize("timeframe", ["", "m", "0m", "1x", "1.5h"])
def test_unknown_timeframes_are_refused(timeframe: str) -> None:
    with pytest.raises(ValueError, match="unsupported timeframe"):
        timeframe_step(timeframe)


def test_grid_offsets_in_seconds() -> None:
    frame = ohlcv_frame(symbols=("BTC/USDT:USDT",), n=3).with_columns(
        pl.Series("timestamp", [T0, T0 + timedelta(seconds=90), T0 + timedelta(minutes=2)]).cast(
            pl.Datetime("us", "UTC")
        )
    )
    offsets = grid_offsets(frame, CheckContext(T0, step=STEP)).to_list()
    assert offsets == [0.0, 30.0, 0.0]


def test_a_level_shift_flags_only_the_bar_that_jumps() -> None:
    close = _walk(200)
    close[120:] *= 1.05
    assert _flagged(_bars(close)) == [120]


def test_a_one_bar_spike_flags_the_spike_not_the_return_to_normal() -> None:
    close = _walk(200)
    close[80] *= 1.05
    assert _flagged(_bars(close)) == [80]


def test_the_bar_after_a_quarantined_jump_is_not_flagged_in_the_next_run() -> None:
    close = _walk(300)
    close[200:] *= 1.05
    bars = _bars(close)
    stored = bars[:200]  # the jump bar 200 was quarantined, so the lake stops at 199
    later = bars[201:]
    assert _flagged(later, reference=stored) == []


def test_too_few_moves_are_not_scored() -> None:
    close = _walk(MIN_RETURNS - 1)
    close[-1] *= 1.2
    scores = jump_scores(_bars(close), CheckContext(T0, STEP, SIGMA))
    assert scores.null_count() == scores.len()


def test_tick_bound_prices_with_a_zero_mad_still_get_a_finite_scale() -> None:
    close = np.full(200, 100.0)
    close[::7] = 100.1  # most moves are zero, a few are one tick
    flagged = _flagged(_bars(close))
    scores = jump_scores(_bars(close), CheckContext(T0, STEP, SIGMA)).drop_nulls()
    assert flagged == []
    assert scores.is_finite().all()


def test_scores_line_up_with_input_rows_whatever_their_order() -> None:
    close = _walk(100)
    close[60:] *= 1.05
    bars = _bars(close)
    shuffled = bars.sample(fraction=1.0, shuffle=True, seed=5)
    scores = jump_scores(shuffled, CheckContext(T0, STEP, SIGMA))
    jumped = shuffled.with_columns(scores).filter(pl.col("_price_jump") > SIGMA)
    assert jumped["timestamp"].to_list() == [T0 + 60 * STEP]


def test_the_ohlcv_suite_does_not_grow_with_the_number_of_symbols() -> None:
    """Each expectation costs GX several milliseconds whatever the rows: one per symbol
    (the in-order check once was) made the gate's cost grow with the universe."""
    rules = ohlcv_rules()

    def size(symbols: int) -> int:
        names = tuple(f"S{i}/USDT:USDT" for i in range(symbols))
        ctx = CheckContext(T0, STEP, SIGMA, None, names)
        return sum(len(check.expect(ctx)) for check in rules.checks)

    assert size(200) == size(1) == len(rules.checks)


def test_time_going_back_within_a_symbol_is_out_of_order() -> None:
    frame = _bars(_walk(5))
    swapped = pl.concat([frame[:2], frame[3:4], frame[2:3], frame[4:]])
    steps = time_steps(swapped, CheckContext(T0, STEP, SIGMA))
    assert steps.to_list() == [None, 60.0, 120.0, -60.0, 120.0]
