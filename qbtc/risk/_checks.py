"""Input checks shared by the risk functions: finite arrays, confidence levels, dispersion,
positive semi-definite covariances."""

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
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values: drop or fill them first")
    return array


def check_confidence(confidence: float) -> float:
    """A confidence level strictly inside (0, 1), e.g. 0.99, or ValueError."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be inside (0, 1), e.g. 0.99; got {confidence}")
    return float(confidence)


#: Dispersion below this fraction of the values' magnitude is rounding noise, not risk: the
#: standard deviation of constant returns is ~1e-18, not 0, and dividing by it gives ~1e16.
DISPERSION_RTOL = 1e-12


def is_degenerate_dispersion(dispersion: float, values: NDArray[np.float64]) -> bool:
    """True when ``dispersion`` is zero up to rounding relative to the size of ``values``."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    return not dispersion > DISPERSION_RTOL * scale or not dispersion > 0.0


def check_psd(covariance: ArrayLike, name: str = "covariance") -> NDArray[np.float64]:
    """``covariance`` as a finite, square, symmetric positive semi-definite matrix, or ValueError.

    Symmetrised first; an eigenvalue below ``-1e-10`` times the largest is refused (a
    covariance estimated from too few or inconsistent samples), rather than letting a
    variance come out negative and be clipped to zero (a VaR of 0 on a risky book).
    """
    sym = _symmetrised(covariance, name)
    _refuse_negative(np.linalg.eigvalsh(sym), name)
    return sym


#: A matrix whose ``eigh`` eigenvalues are all above this fraction of the largest (in
#: magnitude) passes :func:`check_psd`: its own eigenvalues differ from them by rounding
#: (~1e-15 of the largest), far less than the distance to its limit.
_CLEAR_PSD = -0.5e-10


def check_psd_eigh(
    covariance: ArrayLike, name: str = "covariance"
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """:func:`check_psd` of ``covariance`` (the same matrix or the same ValueError) and
    ``np.linalg.eigh`` of the matrix it returns: ``(matrix, eigenvalues, eigenvectors)``.

    A matrix clearly positive semi-definite by its ``eigh`` eigenvalues is not decomposed a
    second time for the check; one near the limit or past it gets :func:`check_psd`'s own.
    """
    sym = _symmetrised(covariance, name)
    values, vectors = np.linalg.eigh(sym)
    if values.size and values.min() < _CLEAR_PSD * max(float(np.abs(values).max()), 1e-300):
        _refuse_negative(np.linalg.eigvalsh(sym), name)
    return sym, values, vectors


def _symmetrised(covariance: ArrayLike, name: str) -> NDArray[np.float64]:
    cov = np.asarray(covariance, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.shape[0] == 0:
        raise ValueError(f"{name} must be a square matrix, got shape {cov.shape}")
    if not np.all(np.isfinite(cov)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return (cov + cov.T) / 2.0


def _refuse_negative(values: NDArray[np.floating], name: str) -> None:
    if values.min() < -1e-10 * max(float(np.abs(values).max()), 1e-300):
        raise ValueError(
            f"{name} is not positive semi-definite (smallest eigenvalue {values.min():.3g}): "
            "estimate it from consistent samples or repair it (e.g. nearest PSD matrix)"
        )
