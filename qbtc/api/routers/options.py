"""``/api/options/{underlying}/chain``: latest option quotes with IV and Greeks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

import numpy as np
import polars as pl
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from qbtc.api.context import ApiContext, NotFoundError, get_context, to_models
from qbtc.api.errors import responses
from qbtc.api.models import OptionChain, OptionQuote
from qbtc.api.params import UNDERLYING_PATTERN, IsoDate
from qbtc.pricing import greeks, year_fraction
from qbtc.units import GREEK_UNITS

router = APIRouter(tags=["options"])

#: Quotes older than this before the newest quote of the chain are left out (stale).
MAX_QUOTE_AGE = timedelta(hours=1)
GREEKS = ("delta", "gamma", "vega", "theta")
GREEKS_SOURCE = (
    "qbtc.pricing.greeks: Black-76 on mark IV, undiscounted, in the premium currency "
    "(USDT if linear, coin if inverse); "
    + "; ".join(f"{name}: {GREEK_UNITS[name]}" for name in GREEKS)
)
#: The desk's units (qbtc.units): vega per vol point, theta per calendar day.
DESK_GREEK = {
    "delta": "delta",
    "gamma": "gamma",
    "vega": "vega_per_vol_point",
    "theta": "theta_per_day",
}


def with_greeks(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``expiry_years`` (ACT/365) and Black-76 Greeks on the mark IV, per settlement,
    in the desk's units (``qbtc.units``: vega per vol point, theta per calendar day)."""
    years = year_fraction(frame["timestamp"].to_numpy(), frame["expiry"].to_numpy())
    inputs = {
        name: frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
        for name in ("underlying_price", "strike", "mark_iv")
    }
    is_call = (frame["option_type"] == "call").to_numpy()
    settlement = frame["settlement"].to_numpy()
    out = {name: np.full(frame.height, np.nan) for name in GREEKS}
    for kind in ("linear", "inverse"):
        rows = settlement == kind
        if not rows.any():
            continue
        result = greeks(
            inputs["underlying_price"][rows],
            inputs["strike"][rows],
            years[rows],
            inputs["mark_iv"][rows],
            is_call[rows],
            settlement=kind,
        )
        for name in GREEKS:
            out[name][rows] = getattr(result, DESK_GREEK[name])
    return frame.with_columns(
        pl.Series("expiry_years", years), *(pl.Series(name, out[name]) for name in GREEKS)
    )


def known_underlyings(context: ApiContext) -> list[str]:
    return context.cached(
        "underlyings",
        ("option_quotes",),
        lambda: context.query_sql("SELECT DISTINCT underlying FROM lake.option_quotes ORDER BY 1")[
            "underlying"
        ].to_list(),
    )


def build_chain(
    context: ApiContext, underlying: str, expiry: date | None, option_type: str | None
) -> OptionChain:
    universe = known_underlyings(context)
    if underlying not in universe:
        known = ", ".join(universe) or "none yet (run `qbtc ingest`)"
        raise NotFoundError(f"no option quotes for underlying {underlying}; known: {known}")
    params = {
        "underlying": underlying,
        "max_age": MAX_QUOTE_AGE,
        "expiry": expiry,
        "option_type": option_type,
    }
    frame = context.query("option_chain", params)
    quotes = to_models(with_greeks(frame), OptionQuote) if frame.height else []
    newest = max((q.timestamp for q in quotes), default=None)
    return OptionChain(underlying=underlying, timestamp=newest, greeks=GREEKS_SOURCE, quotes=quotes)


@router.get(
    "/api/options/{underlying}/chain",
    response_model=OptionChain,
    responses=responses(401, 404, 422, 429),
)
async def get_chain(
    request: Request,
    underlying: Annotated[
        str, Path(pattern=UNDERLYING_PATTERN, description="Coin, e.g. BTC.", examples=["BTC"])
    ],
    expiry: Annotated[IsoDate | None, Query(description="Only this expiry date (UTC).")] = None,
    option_type: Annotated[
        Literal["call", "put"] | None, Query(description="Only calls or puts.")
    ] = None,
) -> Response:
    """Latest quote of every live option: bid/ask/mark, IVs (fractions) and Greeks."""
    context = get_context(request)
    return await context.respond(
        request,
        ("chain", underlying, expiry, option_type),
        ("option_quotes",),
        lambda: build_chain(context, underlying, expiry, option_type),
    )
