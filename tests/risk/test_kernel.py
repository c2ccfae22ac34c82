from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from qbtc.pricing import black76_price
from qbtc.risk.kernel import VOL_FLOOR, group_value, make_group


def reference(group, growth, vol_shift, expiry):
    """sum q V with qbtc.pricing.black76_price, scenario by scenario."""
    out = []
    for g, dv in zip(growth, vol_shift, strict=True):
        vol = np.maximum(group.vol + dv, VOL_FLOOR)
        values = black76_price(group.forward * g, group.strike, expiry, vol, group.is_call)
        out.append(float(np.sum(group.quantity * values)))
    return np.array(out)


def random_group(seed: int, n: int = 40):
    rng = np.random.default_rng(seed)
    forward = 50_000.0 * np.ones(n)
    return make_group(
        0,
        forward,
        forward * np.exp(rng.normal(0, 0.5, n)),  # deep in and out of the money too
        rng.uniform(0.05, 1.5, n),
        rng.random(n) < 0.5,
        rng.choice([-3.0, -1.0, 1.0, 2.0], n),
    )


@given(st.integers(0, 10_000), st.sampled_from([1 / 365, 0.1, 1.0, 3.0]))
def test_kernel_equals_the_pricing_library(seed, expiry):
    group = random_group(seed)
    rng = np.random.default_rng(seed + 1)
    growth = 1 + rng.normal(0, 0.2, 64)
    vol_shift = rng.normal(0, 0.3, 64)  # often below the floor
    mine = group_value(group, growth, vol_shift, expiry)
    theirs = reference(group, growth, vol_shift, expiry)
    scale = np.sum(np.abs(group.quantity_forward))
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-10 * scale)


def test_at_expiry_the_value_is_intrinsic():
    group = make_group(
        0,
        np.array([100.0, 100.0]),
        np.array([90.0, 95.0]),
        np.array([0.5, 0.5]),
        np.array([True, False]),
        np.array([2.0, 3.0]),
    )
    # F = 100 x 0.9 = 90: the call is worth 0, the put 5 x 3
    value = group_value(group, np.array([0.9, 1.1]), np.zeros(2), 0.0)
    np.testing.assert_allclose(value, [15.0, 2 * 20.0], rtol=1e-12)


def test_a_total_collapse_of_the_underlying_stays_finite():
    group = random_group(1)
    value = group_value(group, np.array([0.0, -0.5]), np.zeros(2), 0.5)
    assert np.all(np.isfinite(value))
