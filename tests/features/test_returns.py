"""Log returns and the gap-aware bar segments they rest on."""

from __future__ import annotations

import math

import polars as pl
import pytest

from qbtc.features import add_bar_segments, add_log_returns
from qbtc.features.bars import POSITION, SEGMENT
from qbtc.features.perp import prepare_bars
from tests.features.fixtures import MINUTE, T0, bars


def test_log_returns_by_hand():
    frame = pl.DataFrame(
        {
            "symbol": ["X/USDT:USDT"] * 4,
            "timestamp": [T0 + MINUTE * k for k in range(4)],
            "close": [100.0, 110.0, 99.0, 120.0],
        }
    )
    out = add_log_returns(frame.lazy(), horizons=(1, 2)).collect()
    assert out.get_column("ret_1").to_list()[0] is None
    assert out.get_column("ret_1").to_list()[1:] == pytest.approx(
        [math.log(1.1), math.log(0.9), math.log(120 / 99)], rel=1e-15
    )
    assert out.get_column("ret_2").to_list()[:2] == [None, None]
    assert out.get_column("ret_2").to_list()[2:] == pytest.approx(
        [math.log(0.99), math.log(120 / 110)], rel=1e-15
    )


def test_segments_restart_at_new_symbols_and_missing_bars():
    frame = prepare_bars(bars(("A/USDT:USDT", "B/USDT:USDT"), n=6, missing=(3,)).lazy())
    out = add_bar_segments(frame).collect()
    assert out.get_column(POSITION).to_list() == [0, 1, 2, 0, 1] * 2
    assert out.get_column(SEGMENT).to_list() == [1, 1, 1, 2, 2, 3, 3, 3, 4, 4]


def test_returns_are_null_across_a_missing_bar():
    frame = prepare_bars(bars(("A/USDT:USDT",), n=8, missing=(4,)).lazy())
    out = add_log_returns(frame, horizons=(1, 2)).collect()
    # Bars 0 1 2 3 | 5 6 7: a return needs its bars inside one segment.
    ret_1 = out.get_column("ret_1").is_null().to_list()
    ret_2 = out.get_column("ret_2").is_null().to_list()
    assert ret_1 == [True, False, False, False, True, False, False]
    assert ret_2 == [True, True, False, False, True, True, False]


def test_horizons_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        add_log_returns(bars(n=3).lazy(), horizons=(0,))
