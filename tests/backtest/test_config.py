from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qbtc.backtest.config import BacktestConfig, BacktestInputError, parse_interval

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _config(**changes):
    base = {
        "start": T0,
        "end": T0 + timedelta(hours=2),
        "interval": "1h",
        "symbols": ("BTC/USDT:USDT",),
    }
    return BacktestConfig(**(base | changes))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5m", timedelta(minutes=5)), ("1h", timedelta(hours=1)), ("2d", timedelta(days=2))],
)
def test_intervals_are_minutes_hours_or_days(text, expected):
    assert parse_interval(text) == expected


@pytest.mark.parametrize("text", ["0m", "1w", "h", "90s", ""])
def test_a_bad_interval_says_what_is_valid(text):
    with pytest.raises(BacktestInputError, match="such as 5m, 1h or 1d"):
        parse_interval(text)


def test_decision_times_include_both_ends():
    assert _config().decision_times() == [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)]


def test_an_end_before_the_start_is_refused():
    with pytest.raises(BacktestInputError, match="is before start"):
        _config(end=T0 - timedelta(hours=1))


def test_the_id_depends_on_parameters_and_data_but_not_on_the_sweep():
    assert _config().backtest_id("a") == _config(sweep_id="sw1").backtest_id("a")
    assert _config().backtest_id("a") != _config().backtest_id("b")
    assert _config().backtest_id("a") != _config(fee_rate=0.001).backtest_id("a")


def test_naive_times_are_taken_as_utc():
    naive = _config(start=datetime(2026, 11, 1), end=datetime(2026, 11, 1, 1))
    assert naive.start == T0
