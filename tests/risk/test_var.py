from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from qbtc.risk import (
    cvar_historical,
    var_delta_gamma,
    var_delta_normal,
    var_historical,
    var_parametric,
)

PNL = [-10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0]

pnl_lists = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False), min_size=1, max_size=200
)
levels = st.floats(0.5, 0.999)


def test_historical_var_and_cvar_golden_values():
    # Losses sorted: -35 ... 0, 5, 10. The 90% quantile is 5; beyond it only the loss of 10.
    assert var_historical(PNL, 0.90) == 5.0
    assert cvar_historical(PNL, 0.90) == pytest.approx(10.0)
    assert var_historical(PNL, 0.80) == 0.0
    assert cvar_historical(PNL, 0.80) == pytest.approx(7.5)  # mean of the two worst losses


def test_var_is_a_positive_loss_and_negative_when_the_tail_still_gains():
    assert var_historical([-100.0] * 5 + [50.0] * 95, 0.99) == 100.0
    assert var_historical([10.0, 20.0, 30.0], 0.5) == -20.0


def test_parametric_var_golden_value():
    # mean 0, sample sd sqrt(4/3), z_0.99 = 2.3263478740408408
    expected = 2.3263478740408408 * np.sqrt(4.0 / 3.0)
    assert var_parametric([1.0, -1.0, 1.0, -1.0], 0.99) == pytest.approx(expected, rel=1e-12)
    assert var_parametric([11.0, 9.0, 11.0, 9.0], 0.99) == pytest.approx(expected - 10.0)


def test_delta_normal_var_golden_value():
    delta = [100.0, 50.0]
    cov = [[0.04, 0.01], [0.01, 0.09]]  # variance of P&L: 400 + 100 + 225 = 725
    expected = 1.6448536269514722 * np.sqrt(725.0)
    assert var_delta_normal(delta, cov, 0.95) == pytest.approx(expected, rel=1e-12)
    assert var_delta_normal(delta, cov, 0.95, drift=-5.0) == pytest.approx(expected + 5.0)


def test_delta_gamma_without_gamma_is_delta_normal():
    delta, cov = [100.0, -40.0], [[0.04, 0.01], [0.01, 0.09]]
    zero = np.zeros((2, 2))
    assert var_delta_gamma(delta, zero, cov, 0.99) == pytest.approx(
        var_delta_normal(delta, cov, 0.99), rel=1e-12
    )


def test_delta_gamma_matches_simulation_of_the_quadratic_form():
    delta = np.array([1000.0, 300.0])
    gamma = np.array([[-20000.0, 0.0], [0.0, 0.0]])  # short gamma: a fat left tail
    cov = np.array([[0.0025, 0.0005], [0.0005, 0.0016]])
    x = np.random.default_rng(3).multivariate_normal(np.zeros(2), cov, size=400_000)
    pnl = x @ delta + 0.5 * np.einsum("ni,ij,nj->n", x, gamma, x)
    simulated = var_historical(pnl, 0.99)
    assert var_delta_gamma(delta, gamma, cov, 0.99) == pytest.approx(simulated, rel=0.03)
    # ... and the short-gamma tail is worse than the delta-normal one
    assert var_delta_gamma(delta, gamma, cov, 0.99) > var_delta_normal(delta, cov, 0.99)


@given(pnl_lists, levels, levels)
def test_var_and_cvar_are_monotone_in_confidence(pnl, a, b):
    low, high = min(a, b), max(a, b)
    assert var_historical(pnl, low) <= var_historical(pnl, high)
    assert cvar_historical(pnl, low) <= cvar_historical(pnl, high) + 1e-9 * (
        1 + max(abs(v) for v in pnl)
    )


@given(pnl_lists, levels)
def test_cvar_is_never_below_var(pnl, level):
    assert cvar_historical(pnl, level) >= var_historical(pnl, level)


@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), min_size=2))
def test_parametric_var_is_monotone_in_confidence(pnl):
    assume(np.std(pnl) > 0)
    assert var_parametric(pnl, 0.95) <= var_parametric(pnl, 0.99)


@pytest.mark.parametrize("function", [var_historical, cvar_historical, var_parametric])
def test_empty_input_raises(function):
    with pytest.raises(ValueError, match="at least"):
        function([], 0.99)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1])
def test_confidence_outside_the_unit_interval_raises(bad):
    with pytest.raises(ValueError, match="confidence"):
        var_historical(PNL, bad)


def test_nan_input_raises_with_advice():
    with pytest.raises(ValueError, match="NaN"):
        cvar_historical([1.0, float("nan")], 0.99)


def test_parametric_var_needs_two_samples():
    with pytest.raises(ValueError, match="at least 2"):
        var_parametric([1.0], 0.99)


def test_mismatched_covariance_raises():
    with pytest.raises(ValueError, match="covariance"):
        var_delta_normal([1.0, 2.0], [[1.0]], 0.99)


NOT_PSD = [[1.0, 2.0], [2.0, 1.0]]  # eigenvalues 3 and -1


def test_delta_normal_var_refuses_a_covariance_that_is_not_positive_semidefinite():
    # d.cov.d = 1 + 1 - 4 = -2 < 0: this used to be clipped to a VaR of 0.0
    with pytest.raises(ValueError, match="not positive semi-definite"):
        var_delta_normal([1.0, -1.0], NOT_PSD, 0.99)


def test_delta_gamma_var_refuses_a_covariance_that_is_not_positive_semidefinite():
    with pytest.raises(ValueError, match="not positive semi-definite"):
        var_delta_gamma([1.0, -1.0], np.zeros((2, 2)), NOT_PSD, 0.99)


def test_a_singular_but_positive_semidefinite_covariance_is_accepted():
    cov = [[1.0, 1.0], [1.0, 1.0]]
    assert var_delta_normal([1.0, -1.0], cov, 0.99) == pytest.approx(0.0, abs=1e-9)


def test_lower_quantile_is_numpys_inverted_cdf_quantile():
    import numpy as np

    from qbtc.risk.var import lower_quantile

    rng = np.random.default_rng(13)
    for n in (1, 2, 3, 7, 100, 199, 200, 256, 1000, 1441):
        values = rng.normal(0.0, 1.0, n)
        ties = np.round(values, 1)  # repeated values
        for level in (0.5, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 1e-3, 0.01, 0.37):
            for sample in (values, ties):
                expected = float(np.quantile(sample, level, method="inverted_cdf"))
                assert lower_quantile(sample, level) == expected, (n, level)
