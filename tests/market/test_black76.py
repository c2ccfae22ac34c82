"""The market layer's small Black-76: golden values, parity and implied-vol round trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.market.black76 import black76_price, implied_vol


def test_golden_at_the_money_value() -> None:
    # ATM: F (2 N(sigma sqrt(T) / 2) - 1); F=100, sigma=0.2, T=1 -> 7.965567455405804
    assert float(black76_price(100.0, 100.0, 1.0, 0.2, True)) == pytest.approx(7.965567455405804)


@given(
    moneyness=st.floats(-1.0, 1.0),
    years=st.floats(0.002, 2.0),
    vol=st.floats(0.05, 2.5),
)
def test_parity_and_implied_vol_round_trip(moneyness: float, years: float, vol: float) -> None:
    forward, strike = 100.0, 100.0 * np.exp(moneyness)
    call = black76_price(forward, strike, years, vol, True)
    put = black76_price(forward, strike, years, vol, False)
    assert float(call - put) == pytest.approx(forward - strike, abs=1e-9)
    otm_is_call = strike >= forward
    price = float(call if otm_is_call else put)
    if price > 1e-6:
        assert float(implied_vol(price, forward, strike, years, otm_is_call)) == pytest.approx(
            vol, rel=1e-5
        )


def test_no_vol_fits_a_price_below_intrinsic_value() -> None:
    assert np.isnan(implied_vol(1.0, 120.0, 100.0, 0.5, True))
    with pytest.raises(ValueError, match="> 0"):
        black76_price(100.0, -1.0, 1.0, 0.2, True)
