"""Validated request parameters shared by the routers (bounds and patterns live here)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator

MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000

#: Upper-case ccxt perpetual or spot symbol: ``BTC/USDT:USDT`` or ``BTC/USDT``.
SYMBOL_PATTERN = r"^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}(:[A-Z0-9]{1,20})?$"
UNDERLYING_PATTERN = r"^[A-Z0-9]{1,20}$"
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
RUN_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"

_ISO_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_time(value: object) -> object:
    """Only ISO 8601 text (pydantic alone also takes numbers as Unix times)."""
    if isinstance(value, str) and not _ISO_TIME.match(value):
        raise ValueError("expected an ISO 8601 time such as 2026-01-05T00:00:00Z")
    return value


def _iso_date(value: object) -> object:
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("expected an ISO 8601 date such as 2026-01-05")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1-{MAX_LIMIT}).")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
Since = Annotated[
    IsoTime | None,
    Query(description="Only items at or after this time (ISO 8601; UTC when no offset)."),
]
Until = Annotated[
    IsoTime | None,
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
