from __future__ import annotations

import numpy as np
import pytest

from qbtc.portfolio import expected_returns_from_signals, mean_variance_weights

MU = np.array([0.10, 0.05, -0.02])
COV = np.array([[0.04, 0.006, 0.0], [0.006, 0.09, 0.01], [0.0, 0.01, 0.16]])


def test_unconstrained_solution_is_inverse_covariance_times_mu():
    out = mean_variance_weights(
        MU, COV, risk_aversion=5.0, max_weight=10.0, max_gross=100.0, target_vol=10.0
    )
    np.testing.assert_allclose(out.weights, np.linalg.solve(COV, MU) / 5.0, atol=1e-6)
    assert out.expected_return == pytest.approx(MU @ out.weights)


def test_weight_gross_and_vol_caps_bind():
    capped = mean_variance_weights(
        MU, COV, risk_aversion=0.1, max_weight=0.5, max_gross=0.8, target_vol=10.0
    )
    assert np.all(np.abs(capped.weights) <= 0.5 + 1e-9)
    assert np.abs(capped.weights).sum() == pytest.approx(0.8, abs=1e-6)
    vol_capped = mean_variance_weights(
        MU, COV, risk_aversion=0.1, max_weight=5.0, max_gross=10.0, target_vol=0.15
    )
    assert vol_capped.volatility == pytest.approx(0.15, abs=1e-6)
    # the direction of the unconstrained optimum is kept when only the vol cap binds
    free = np.linalg.solve(COV, MU)
    np.testing.assert_allclose(
        vol_capped.weights / np.linalg.norm(vol_capped.weights),
        free / np.linalg.norm(free),
        atol=1e-4,
    )


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="finite"):
        mean_variance_weights(
            [], np.zeros((0, 0)), risk_aversion=1, max_weight=1, max_gross=1, target_vol=1
        )
    with pytest.raises(ValueError, match="positive"):
        mean_variance_weights(MU, COV, risk_aversion=0, max_weight=1, max_gross=1, target_vol=1)


def test_expected_returns_from_signals_golden_value():
    out = expected_returns_from_signals([1.0, -0.5], [0.8, 1.0], [0.6, 0.4], information_ratio=0.5)
    np.testing.assert_allclose(out, [0.24, -0.1])
