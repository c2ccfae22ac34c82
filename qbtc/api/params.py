"""Validated request parameters shared by the routers (bounds and patterns live here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query

MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000

#: Upper-case ccxt perpetual or spot symbol: ``BTC/USDT:USDT`` or ``BTC/USDT``.
SYMBOL_PATTERN = r"^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}(:[A-Z0-9]{1,20})?$"
UNDERLYING_PATTERN = r"^[A-Z0-9]{1,20}$"
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
RUN_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1-{MAX_LIMIT}).")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
Since = Annotated[
    datetime | None,
    Query(description="Only items at or after this time (ISO 8601; UTC when no offset)."),
]
Until = Annotated[
    datetime | None,
    Query(description="Only items at or before this time (ISO 8601; UTC when no offset)."),
]
SymbolPath = Annotated[
    str,
    Path(
        pattern=SYMBOL_PATTERN,
        max_length=64,
        description="ccxt symbol, e.g. BTC/USDT:USDT (the slash is part of the path).",
        examples=["BTC/USDT:USDT"],
    ),
]
SymbolFilter = Annotated[
    str | None,
    Query(pattern=SYMBOL_PATTERN, max_length=64, description="Only this symbol."),
]
PortfolioFilter = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="Only this portfolio.")
]
RunFilter = Annotated[str | None, Query(pattern=RUN_ID_PATTERN, description="Only this run.")]


def as_utc(stamp: datetime | None) -> datetime | None:
    """A naive time is taken as UTC; an aware one is converted to UTC."""
    if stamp is None:
        return None
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC)
    try:
        return stamp.astimezone(UTC)
    except OverflowError:  # within hours of year 1 or 9999: clamp to the representable end
        end = datetime.min if stamp.year == 1 else datetime.max
        return end.replace(tzinfo=UTC)
