from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.api.greeks import black76_greeks


def test_golden_at_the_money_values():
    # F = K = 100, T = 1y, vol 20%: d1 = 0.1; N(0.1) = 0.5398278373, phi(0.1) = 0.3969525475.
    g = black76_greeks(
        np.array([100.0, 100.0]),
        np.array([100.0, 100.0]),
        np.array([1.0, 1.0]),
        np.array([0.2, 0.2]),
        np.array([True, False]),
    )
    assert g.delta == pytest.approx([0.5398278373, 0.5398278373 - 1.0])
    assert g.gamma == pytest.approx([0.3969525475 / 20.0] * 2)
    assert g.vega == pytest.approx([39.69525475] * 2)


def test_unusable_inputs_give_nan_without_warnings():
    g = black76_greeks(
        np.array([100.0, 100.0, np.nan, 100.0]),
        np.array([100.0, 0.0, 100.0, 100.0]),
        np.array([0.0, 1.0, 1.0, 1.0]),
        np.array([0.2, 0.2, 0.2, -0.1]),
        np.array([True, True, True, True]),
    )
    assert np.isnan(g.delta).all()
    assert np.isnan(g.gamma).all()
    assert np.isnan(g.vega).all()


positive = st.floats(min_value=1e-2, max_value=1e6)


@given(
    forward=positive,
    strike=positive,
    expiry=st.floats(min_value=1e-4, max_value=5.0),
    vol=st.floats(min_value=1e-3, max_value=3.0),
)
def test_parity_and_signs(forward, strike, expiry, vol):
    args = [np.array([x, x]) for x in (forward, strike, expiry, vol)]
    g = black76_greeks(*args, np.array([True, False]))
    assert g.delta[0] - g.delta[1] == pytest.approx(1.0)
    assert 0.0 <= g.delta[0] <= 1.0
    assert g.gamma[0] == pytest.approx(g.gamma[1])
    assert g.gamma[0] >= 0.0
    assert g.vega[0] >= 0.0
