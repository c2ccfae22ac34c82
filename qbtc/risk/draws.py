"""Seeded correlated normal factor moves for the Monte Carlo VaR (:mod:`qbtc.risk.montecarlo`).

Antithetic variates: each draw ``z`` is used as ``z`` and ``-z``. Random numbers come in fixed
blocks of :data:`BLOCK_SCENARIOS` scenarios, block ``b`` drawn from its own
``numpy.random.Generator`` seeded with ``SeedSequence(seed).spawn(n_blocks)[b]``, so a seed
gives the same moves however the revaluation is later chunked or threaded.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from qbtc.risk._checks import check_psd_eigh

Floats = NDArray[np.float64]

#: Scenarios drawn per random block (even: half are antithetic mirrors).
BLOCK_SCENARIOS = 1024


def simulate_factor_moves(covariance: Floats, scenarios: int, seed: int) -> Floats:
    """Correlated normal factor moves, shape (scenarios, n_factors), antithetic pairs.

    Parameters
    ----------
    covariance : ndarray, shape (k, k)
        Covariance of the factor moves over the horizon (positive semi-definite).
    scenarios : int
        Number of scenarios, even.
    seed : int
        Seed of the ``SeedSequence``; one child sequence per block of scenarios.
    """
    if scenarios < 2 or scenarios % 2:
        raise ValueError(f"scenarios must be an even number >= 2, got {scenarios}")
    _, values, vectors = check_psd_eigh(covariance)
    return correlate(values, vectors, scenarios, seed)


def correlate(values: Floats, vectors: Floats, scenarios: int, seed: int) -> Floats:
    """:func:`simulate_factor_moves` of a covariance of eigenvalues ``values`` and
    eigenvectors ``vectors`` (from :func:`check_psd_eigh`)."""
    # A A^T = covariance (from the eigen-decomposition: handles singular cases)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    out = np.empty((scenarios, root.shape[0]))
    start = 0
    factors = root.shape[0]
    draw = _cached_normal_blocks if scenarios * factors <= CACHED_NORMALS_MAX else _normal_blocks
    for block in draw(seed, scenarios, factors):
        out[start : start + block.shape[0]] = block @ root.T
        start += block.shape[0]
    return out


#: Largest draw (scenarios x factors floats) kept per process: 2 M floats, 16 MB. A bigger
#: one (a very large universe or scenario count) is drawn afresh at every call instead.
CACHED_NORMALS_MAX = 2_000_000


def _normal_blocks(seed: int, scenarios: int, factors: int) -> tuple[Floats, ...]:
    """The antithetic standard normals ``[z; -z]`` of each block of ``scenarios``."""
    children = np.random.SeedSequence(seed).spawn(-(-scenarios // BLOCK_SCENARIOS))
    blocks = []
    for b, child in enumerate(children):
        size = min(BLOCK_SCENARIOS, scenarios - b * BLOCK_SCENARIOS)
        z = np.random.Generator(np.random.PCG64(child)).standard_normal((size // 2, factors))
        blocks.append(np.concatenate([z, -z]))
    return tuple(blocks)


@lru_cache(maxsize=2)
def _cached_normal_blocks(seed: int, scenarios: int, factors: int) -> tuple[Floats, ...]:
    """:func:`_normal_blocks`, kept: they depend on the seed, the number of scenarios and
    of factors alone, not on the covariance, and a backtest draws them at every decision.
    Each block is backed by immutable bytes, so no caller can make it writable and change
    the draws of later calls."""
    return tuple(
        np.frombuffer(block.tobytes(), dtype=np.float64).reshape(block.shape)
        for block in _normal_blocks(seed, scenarios, factors)
    )
