from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.risk import current_drawdown, drawdown_series, max_drawdown

positive = st.floats(0.01, 1e9, allow_nan=False, allow_subnormal=False)


def test_max_drawdown_golden_value():
    # Peak 120, trough 90: a 25% fall; the later dip from 130 to 117 is only 10%.
    equity = [100.0, 120.0, 90.0, 110.0, 130.0, 117.0]
    assert max_drawdown(equity) == pytest.approx(0.25)
    assert current_drawdown(equity) == pytest.approx(0.10)
    np.testing.assert_allclose(drawdown_series(equity), [0, 0, 0.25, 1 / 12, 0, 0.1])


@given(st.lists(positive, min_size=1, max_size=100))
def test_max_drawdown_of_a_rising_series_is_zero(values):
    assert max_drawdown(sorted(values)) == 0.0


@given(st.lists(positive, min_size=1, max_size=100))
def test_drawdown_is_a_fraction(values):
    assert 0.0 <= max_drawdown(values) <= 1.0


def test_empty_equity_raises():
    with pytest.raises(ValueError, match="at least 1"):
        max_drawdown([])


def test_non_positive_equity_raises():
    with pytest.raises(ValueError, match="positive"):
        max_drawdown([100.0, 0.0])


@given(st.lists(positive, min_size=1, max_size=100))
def test_current_drawdown_is_the_last_point_of_the_series(values):
    # the fast path (one maximum) must equal the series' last point bit for bit
    assert current_drawdown(values) == float(drawdown_series(values)[-1])


def test_current_drawdown_refuses_what_the_series_refuses():
    with pytest.raises(ValueError, match="positive"):
        current_drawdown([100.0, -1.0, 50.0])
    with pytest.raises(ValueError, match="NaN"):
        current_drawdown([100.0, float("nan")])
