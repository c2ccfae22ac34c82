from __future__ import annotations

import numpy as np
import pytest

from qbtc.risk import monte_carlo_var, simulate_scenarios, var_delta_normal
from qbtc.risk.draws import BLOCK_SCENARIOS, simulate_factor_moves
from tests.risk.books import UNDERLYINGS, model, option_book, perp_book, single_option


def test_monte_carlo_var_of_a_linear_book_converges_to_the_parametric_value():
    book, factors = perp_book(), model()
    result = monte_carlo_var(book, factors, scenarios=40_000, seed=11)
    exposures = np.array([10.0 * 50_000.0, -100.0 * 3_000.0, 0.0, 0.0])
    expected = var_delta_normal(exposures, factors.covariance(1.0), 0.99)
    assert 0 < result.var_stderr < 0.03 * expected
    assert abs(result.var - expected) <= 3.0 * result.var_stderr
    assert result.cvar >= result.var
    # the error shrinks like 1/sqrt(n)
    small = monte_carlo_var(book, factors, scenarios=10_000, seed=11)
    assert small.var_stderr == pytest.approx(2.0 * result.var_stderr, rel=0.25)


@pytest.mark.parametrize(("chunk_size", "threads"), [(7, 1), (256, 2), (1000, 3), (5000, 2)])
def test_same_seed_gives_bit_identical_var_however_the_work_is_chunked(chunk_size, threads):
    book, factors = option_book(), model()
    reference = monte_carlo_var(book, factors, scenarios=5000, seed=42, chunk_size=5000, threads=1)
    result = monte_carlo_var(
        book, factors, scenarios=5000, seed=42, chunk_size=chunk_size, threads=threads
    )
    assert np.array_equal(result.pnl, reference.pnl)
    assert (result.var, result.cvar) == (reference.var, reference.cvar)


def test_another_seed_gives_another_sample():
    book, factors = option_book(), model()
    a = monte_carlo_var(book, factors, scenarios=2000, seed=1)
    b = monte_carlo_var(book, factors, scenarios=2000, seed=2)
    assert a.var != b.var


def test_draws_are_antithetic_within_each_block():
    moves = simulate_factor_moves(np.eye(3), 2 * BLOCK_SCENARIOS + 10, seed=3)
    half = BLOCK_SCENARIOS // 2
    np.testing.assert_array_equal(moves[:half], -moves[half:BLOCK_SCENARIOS])
    np.testing.assert_array_equal(moves[-10:-5], -moves[-5:])


def test_scenarios_have_the_model_covariance_over_the_horizon():
    factors = model()
    shocks = simulate_scenarios(factors, UNDERLYINGS, 10.0, 40_000, seed=9)
    sample = np.cov(np.hstack([shocks.spot_returns, shocks.vol_shifts]), rowvar=False)
    np.testing.assert_allclose(sample, factors.covariance(10.0), rtol=0.05, atol=1e-6)


def test_an_underlying_draws_the_same_moves_whatever_else_the_book_holds():
    factors = model()
    both = simulate_scenarios(factors, UNDERLYINGS, 1.0, 1000, seed=4)
    eth_only = simulate_scenarios(factors, ("ETH",), 1.0, 1000, seed=4)
    np.testing.assert_array_equal(both.spot_returns[:, 1], eth_only.spot_returns[:, 0])


def test_full_revaluation_and_delta_gamma_agree_for_small_moves_and_not_for_large():
    book = single_option(-10.0, expiry=7 / 365)  # short gamma, one week
    calm = monte_carlo_var(book, model(vol_of_vol=0.01), seed=5, horizon_days=0.01)
    calm_dg = monte_carlo_var(
        book, model(vol_of_vol=0.01), seed=5, horizon_days=0.01, method="delta_gamma"
    )
    assert calm_dg.var == pytest.approx(calm.var, rel=0.02)
    wild = monte_carlo_var(book, model(), seed=5, horizon_days=10.0)
    wild_dg = monte_carlo_var(book, model(), seed=5, horizon_days=10.0, method="delta_gamma")
    assert abs(wild_dg.var - wild.var) > 0.05 * wild.var


def test_empty_book_and_bad_arguments_raise():
    empty = perp_book(0.0, 0.0).__class__(UNDERLYINGS, perp_book().spot)
    with pytest.raises(ValueError, match="no position"):
        monte_carlo_var(empty, model())
    with pytest.raises(ValueError, match="even"):
        monte_carlo_var(perp_book(), model(), scenarios=1001)
    with pytest.raises(ValueError, match="method"):
        monte_carlo_var(perp_book(), model(), method="magic")
    with pytest.raises(ValueError, match="confidence"):
        monte_carlo_var(perp_book(), model(), confidence=1.0)
