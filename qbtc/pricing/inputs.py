"""Turning user inputs into float64 arrays: broadcasting, option kind, settlement."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
Settlement = Literal["linear", "inverse"]
SETTLEMENTS: tuple[str, ...] = ("linear", "inverse")

_CALL_WORDS = frozenset({"c", "call"})
_PUT_WORDS = frozenset({"p", "put"})


class PricingInputError(ValueError):
    """Inputs that cannot be priced at all (wrong kind, unknown settlement, bad shapes)."""


def as_float_arrays(*values: ArrayLike) -> tuple[FloatArray, ...]:
    """Broadcast numeric inputs against each other as float64 arrays (no copy when possible)."""
    try:
        arrays = [np.asarray(value, dtype=np.float64) for value in values]
        return tuple(np.broadcast_arrays(*arrays))
    except ValueError as exc:
        raise PricingInputError(
            f"pricing inputs do not broadcast together ({exc}): pass arrays of one shape or scalars"
        ) from exc


def broadcast_shape(*arrays: np.ndarray) -> tuple[int, ...]:
    """The common shape of ``arrays``, or a clear error."""
    try:
        return np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError as exc:
        raise PricingInputError(
            f"pricing inputs do not broadcast together ({exc}): pass arrays of one shape or scalars"
        ) from exc


def as_column(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A 0-d array for a single value (it broadcasts), else ``array`` as 1-d of ``shape``."""
    if array.size == 1 and array.shape != shape:
        return array.reshape(())
    if array.shape != shape:
        array = np.broadcast_to(array, shape)
    return np.ascontiguousarray(array).reshape(-1)


def as_call_flags(is_call: ArrayLike) -> NDArray[np.bool_]:
    """Read the option kind: booleans (True = call) or the words call/put (c/p, any case).

    Numbers are refused on purpose: ``-1`` or ``0.5`` are not a clear kind.
    """
    flags = np.asarray(is_call)
    if flags.dtype == np.bool_:
        return flags
    if flags.dtype.kind in "US":
        words = np.char.lower(np.char.strip(flags.astype(str)))
        calls = np.isin(words, list(_CALL_WORDS))
        puts = np.isin(words, list(_PUT_WORDS))
        if not np.all(calls | puts):
            bad = sorted(set(words[~(calls | puts)].ravel().tolist()))[:5]
            raise PricingInputError(
                f"unknown option kind {bad}: use True/False or 'call'/'put' ('c'/'p')"
            )
        return calls
    if flags.dtype.kind in "iu" and np.all((flags == 0) | (flags == 1)):
        return flags.astype(np.bool_)
    raise PricingInputError(
        f"is_call must be booleans or 'call'/'put' strings, got dtype {flags.dtype}"
    )


def check_settlement(settlement: str) -> Settlement:
    """Validate the settlement keyword."""
    if settlement not in SETTLEMENTS:
        raise PricingInputError(
            f"unknown settlement {settlement!r}: use 'linear' (USDT premium) or 'inverse' "
            "(coin premium, Deribit-style)"
        )
    return settlement  # type: ignore[return-value]


def unwrap(array: FloatArray) -> Any:
    """Return 0-d results as numpy scalars, arrays unchanged."""
    return array[()] if array.ndim == 0 else array
