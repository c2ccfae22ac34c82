"""Input checks shared by the risk functions: finite 1-D arrays and valid confidence levels."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def finite_vector(values: ArrayLike, name: str, *, minimum: int = 1) -> NDArray[np.float64]:
    """``values`` as a finite 1-D float array of at least ``minimum`` items, or ValueError."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size < minimum:
        raise ValueError(f"{name} needs at least {minimum} value(s), got {array.size}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values: drop or fill them first")
    return array


def check_confidence(confidence: float) -> float:
    """A confidence level strictly inside (0, 1), e.g. 0.99, or ValueError."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be inside (0, 1), e.g. 0.99; got {confidence}")
    return float(confidence)
