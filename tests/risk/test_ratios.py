from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from qbtc.risk import sharpe, sortino

returns_lists = st.lists(
    st.floats(-0.5, 0.5, allow_nan=False, allow_subnormal=False), min_size=2, max_size=100
)


def test_sharpe_golden_value():
    returns = [0.01, -0.01, 0.02, 0.0]  # mean 0.005, sample sd 0.012909944
    expected = 0.005 / np.std(returns, ddof=1) * np.sqrt(365)
    assert sharpe(returns, 365) == pytest.approx(expected, rel=1e-12)
    assert sharpe(returns, 365) == pytest.approx(7.3994, abs=1e-4)


def test_sortino_golden_value():
    returns = [0.01, -0.01, 0.02, 0.0]  # downside deviation sqrt(0.0001 / 4) = 0.005
    assert sortino(returns, 365) == pytest.approx(0.005 / 0.005 * np.sqrt(365), rel=1e-12)


@given(returns_lists, st.floats(0.01, 100.0))
def test_sharpe_and_sortino_are_unchanged_by_scaling_returns(returns, scale):
    assume(np.std(returns) > 1e-6)
    scaled = [r * scale for r in returns]
    assert sharpe(scaled, 252) == pytest.approx(sharpe(returns, 252), rel=1e-9, abs=1e-9)
    if min(returns) < -1e-6:
        assert sortino(scaled, 252) == pytest.approx(sortino(returns, 252), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("function", [sharpe, sortino])
def test_empty_returns_raise(function):
    with pytest.raises(ValueError, match="at least 2"):
        function([], 365)


def test_constant_returns_have_no_sharpe():
    with pytest.raises(ValueError, match="zero dispersion"):
        sharpe([0.01, 0.01, 0.01], 365)


def test_no_negative_return_has_no_sortino():
    with pytest.raises(ValueError, match="no negative return"):
        sortino([0.01, 0.02], 365)


def test_periods_per_year_must_be_positive():
    with pytest.raises(ValueError, match="periods_per_year"):
        sharpe([0.01, -0.02], 0)


@pytest.mark.parametrize("value", [0.001, 0.1, -0.003, 1e-7])
def test_constant_returns_whose_deviation_rounds_above_zero_have_no_sharpe(value):
    returns = np.full(30, value)
    with pytest.raises(ValueError, match="zero dispersion"):
        sharpe(returns, 365)


def test_a_downside_of_rounding_noise_has_no_sortino():
    returns = np.array([0.01, 0.02, -1e-19, 0.015])
    with pytest.raises(ValueError, match="no negative return"):
        sortino(returns, 365)


def test_tiny_but_real_dispersion_still_has_a_sharpe():
    returns = np.array([1e-6, 2e-6, 1.5e-6, 0.5e-6])
    assert sharpe(returns, 365) == pytest.approx(
        returns.mean() / returns.std(ddof=1) * np.sqrt(365)
    )
