"""The normalised solver: table guess, fast steps, and the Jäckel path it falls back on."""

from __future__ import annotations

import numpy as np
import pytest

from qbtc.pricing.guesstable import table_guess
from qbtc.pricing.jaeckel import jaeckel_implied_vol
from qbtc.pricing.normalised import normalised_black_call
from qbtc.pricing.solver import CHUNK, normalised_implied_vol


def _cases(seed: int, n: int, depth: float = 10.0):
    rng = np.random.default_rng(seed)
    s = np.exp(rng.uniform(np.log(1e-3), np.log(5.0), n))
    x = rng.uniform(-depth, 0.0, n) * s
    x[: n // 20] = 0.0  # at the money
    beta = normalised_black_call(x, s)
    keep = (beta > 1e-300) & (beta < np.exp(0.5 * x))
    return s[keep], x[keep], beta[keep], np.exp(0.5 * x[keep])


def test_fast_solver_recovers_total_vol_to_a_few_ulps_over_several_chunks():
    s, x, beta, b_max = _cases(1, 3 * CHUNK + 17)
    solved = normalised_implied_vol(beta, x, b_max)
    assert np.all(np.abs(solved - s) <= 1e-11 * s + 1e-15)


def test_jaeckel_path_recovers_total_vol_on_its_own():
    s, x, beta, b_max = _cases(2, 5_000)
    solved = jaeckel_implied_vol(beta, x, b_max)
    assert np.all(np.abs(solved - s) <= 1e-11 * s + 1e-15)


def test_table_guess_is_within_ten_percent_inside_its_domain():
    s, x, beta, b_max = _cases(3, 20_000, depth=12.0)
    with np.errstate(all="ignore"):
        guess, outside = table_guess(beta, x, b_max)
    inside = ~outside
    assert inside.mean() > 0.9
    assert np.max(np.abs(guess[inside] / s[inside] - 1.0)) < 0.1
    assert np.median(np.abs(guess[inside] / s[inside] - 1.0)) < 1e-4


@pytest.mark.parametrize(
    ("x", "s"), [(-40.0, 1.5), (-1e-12, 0.3), (0.0, 8.0), (-3.0, 0.2), (-1e-3, 1e-4)]
)
def test_edges_of_the_domain(x, s):
    xs, ss = np.array([x]), np.array([s])
    beta = normalised_black_call(xs, ss)
    solved = normalised_implied_vol(beta, xs, np.exp(0.5 * xs))[0]
    assert solved == pytest.approx(s, rel=1e-10)
