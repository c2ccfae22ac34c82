"""Year fractions for option expiries: ACT/365 (fixed), to the second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from qbtc.pricing.inputs import PricingInputError

SECONDS_PER_YEAR = 365.0 * 86400.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def year_fraction(start: datetime | ArrayLike, end: datetime | ArrayLike) -> Any:
    """ACT/365 year fraction from ``start`` to ``end`` (negative when ``end`` is earlier).

    Parameters
    ----------
    start, end : datetime or array_like of numpy.datetime64
        UTC-aware ``datetime`` objects, or ``datetime64`` values/arrays (read as UTC).
        They broadcast against each other.

    Returns
    -------
    float or numpy.ndarray
        ``(end − start)`` in seconds divided by 365 × 86 400.
    """
    if isinstance(start, datetime) and isinstance(end, datetime):
        if start.tzinfo is None or end.tzinfo is None:
            raise PricingInputError(
                "year_fraction needs UTC-aware datetimes: pass datetime(..., tzinfo=UTC)"
            )
        return (end - start).total_seconds() / SECONDS_PER_YEAR
    start_ns = _as_datetime64(start)
    end_ns = _as_datetime64(end)
    seconds = (end_ns - start_ns) / np.timedelta64(1, "s")
    fraction = np.asarray(seconds, dtype=np.float64) / SECONDS_PER_YEAR
    return fraction[()] if fraction.ndim == 0 else fraction


def _as_datetime64(value: Any) -> np.ndarray:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PricingInputError(
                "year_fraction needs UTC-aware datetimes: pass datetime(..., tzinfo=UTC)"
            )
        micros = (value - _EPOCH) // timedelta(microseconds=1)
        return np.datetime64(micros, "us").astype("datetime64[ns]")
    array = np.asarray(value)
    if array.dtype.kind != "M":
        raise PricingInputError(
            f"year_fraction takes datetimes or datetime64 arrays, got dtype {array.dtype}"
        )
    return array.astype("datetime64[ns]")
