from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.portfolio import vol_target_notional
from qbtc.portfolio.sizing import clip

CAPS = {"max_symbol_notional": 1e12, "max_gross_notional": 1e12}


def test_full_strength_position_has_the_target_vol_golden_value():
    # one symbol: 1,000,000 equity x 20% target / 80% vol = 250,000 USDT
    out = vol_target_notional({"BTC": 1.0}, {"BTC": 0.8}, equity=1e6, target_vol=0.2, **CAPS)
    assert out == {"BTC": pytest.approx(250_000.0)}


def test_budget_is_shared_and_scaled_by_strength():
    out = vol_target_notional(
        {"BTC": 0.5, "ETH": -1.0, "SOL": 0.0, "XRP": 1.0},
        {"BTC": 0.5, "ETH": 1.0, "SOL": 1.0, "XRP": 2.0},
        equity=1e6,
        target_vol=0.2,
        **CAPS,
    )
    budget = 1e6 * 0.2 / 2  # sqrt(4 symbols)
    assert out == pytest.approx(
        {"BTC": 0.5 * budget / 0.5, "ETH": -budget, "SOL": 0.0, "XRP": budget / 2}
    )


def test_caps_per_symbol_then_on_gross():
    out = vol_target_notional(
        {"BTC": 1.0, "ETH": -1.0},
        {"BTC": 0.1, "ETH": 0.4},
        equity=1e6,
        target_vol=0.2,
        max_symbol_notional=500_000.0,
        max_gross_notional=600_000.0,
    )
    # BTC capped at 500,000 then both scaled by 600,000 / (500,000 + 353,553)
    eth = 1e6 * 0.2 / np.sqrt(2) / 0.4
    scale = 600_000 / (500_000 + eth)
    assert out == pytest.approx({"BTC": 500_000 * scale, "ETH": -eth * scale})


@given(
    st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), st.floats(-1, 1), min_size=1),
    st.floats(1e3, 1e6),
    st.floats(1e3, 1e7),
)
def test_caps_always_hold(strengths, symbol_cap, gross_cap):
    out = vol_target_notional(
        strengths,
        dict.fromkeys(strengths, 0.3),
        equity=1e6,
        target_vol=0.5,
        max_symbol_notional=symbol_cap,
        max_gross_notional=gross_cap,
    )
    assert all(abs(v) <= symbol_cap * (1 + 1e-12) for v in out.values())
    assert sum(abs(v) for v in out.values()) <= gross_cap * (1 + 1e-12)
    assert all(np.sign(out[s]) == np.sign(strengths[s]) or out[s] == 0 for s in out)


def test_missing_volatility_and_bad_strength_raise():
    with pytest.raises(ValueError, match="volatility for ETH"):
        vol_target_notional({"ETH": 1.0}, {}, equity=1e6, target_vol=0.2, **CAPS)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        vol_target_notional({"ETH": 2.0}, {"ETH": 0.5}, equity=1e6, target_vol=0.2, **CAPS)


def test_no_signal_no_target():
    assert vol_target_notional({}, {}, equity=1e6, target_vol=0.2, **CAPS) == {}


SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 1e-300, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("value", SPECIAL)
@pytest.mark.parametrize("bound", [0.0, -0.0, 1.0, 2.5, math.inf])
def test_clip_is_numpys_clip_on_special_values(value, bound):
    """Bit for bit, the sign of zero and NaN included (a target is stored as computed)."""
    got, want = clip(value, -bound, bound), float(np.clip(value, -bound, bound))
    assert repr(got) == repr(want)
    got, want = clip(value, bound, bound), float(np.clip(value, bound, bound))
    assert repr(got) == repr(want)


@given(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=False, allow_infinity=True),
    st.floats(allow_nan=False, allow_infinity=True),
)
def test_clip_is_numpys_clip(value, low, high):
    assert repr(clip(value, low, high)) == repr(float(np.clip(value, low, high)))
