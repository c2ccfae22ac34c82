"""Counter-based random numbers keyed by (seed, name, time bucket).

Every stream is a ``numpy.random.Generator`` over ``Philox`` whose 128-bit key is a hash of
its identity, e.g. ``(seed, "BTC/USDT:USDT", "minute", day)``. A window of simulated data
therefore regenerates identically whatever else was generated before, and in whatever order.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream_key(seed: int, *parts: object) -> int:
    """A 128-bit Philox key derived from ``seed`` and the stream's identity ``parts``."""
    text = "|".join(str(part) for part in (seed, *parts))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "little")


def generator(seed: int, *parts: object) -> np.random.Generator:
    """The random generator of stream ``(seed, *parts)`` (fresh, at its first draw)."""
    return np.random.Generator(np.random.Philox(key=stream_key(seed, *parts)))


def unit_hash(seed: int, *parts: object) -> float:
    """A deterministic number in [0, 1) for ``(seed, *parts)`` (for per-instrument constants)."""
    return (stream_key(seed, *parts) >> 75) / float(1 << 53)
