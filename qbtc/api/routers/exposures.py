"""``/api/exposures`` and ``/api/risk/stress``: the book on the latest marks.

The book is valued as the risk stage values it (:func:`qbtc.risk.valuation.value_book` on
the latest positions and marks), at the time of the newest tickers, option quotes or position
snapshots; Greeks, notionals, the hedge and stress come from :mod:`qbtc.risk`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import ApiContext, get_context
from qbtc.api.errors import responses
from qbtc.api.models import (
    Exposures,
    Stress,
    StressRow,
    SymbolNotional,
    UnderlyingExposure,
)
from qbtc.api.params import ID_PATTERN
from qbtc.config import Settings
from qbtc.risk import exposure, portfolio_greeks, stress_test
from qbtc.risk.exposure import options_delta_coin
from qbtc.risk.inputs import Marks, load_marks, load_positions
from qbtc.risk.valuation import ValuedBook, value_book

router = APIRouter(tags=["risk"])

#: Datasets the valued book is read from.
BOOK_DATASETS = ("positions", "tickers", "option_quotes")

PortfolioQuery = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="Portfolio (default: QBTC_PORTFOLIO_ID).")
]


@dataclass(frozen=True)
class BookAtMarks:
    """The valued book, or why there is none (no data, a position without a mark)."""

    as_of: datetime | None
    valued: ValuedBook | None
    note: str | None


def _newest(context: ApiContext, portfolio_id: str) -> datetime | None:
    sql = """
        SELECT greatest(
            (SELECT max("timestamp") FROM lake.tickers),
            (SELECT max("timestamp") FROM lake.option_quotes),
            (SELECT max("timestamp") FROM lake.positions WHERE portfolio_id = $portfolio_id))
    """
    value = context.query_sql(sql, {"portfolio_id": portfolio_id}).item()
    return value if isinstance(value, datetime) else None


def unmarked(positions: pl.DataFrame, marks: Marks) -> list[str]:
    """Held symbols without a ticker or option quote among ``marks`` (sorted)."""
    held = positions.filter(pl.col("quantity") != 0)["symbol"].to_list()
    known = set(marks.perps["symbol"].to_list()) | set(marks.options["symbol"].to_list())
    return sorted(set(held) - known)


def value_latest_book(context: ApiContext, settings: Settings, portfolio_id: str) -> BookAtMarks:
    """The portfolio's latest positions on the newest marks (blocking)."""
    as_of = _newest(context, portfolio_id)
    if as_of is None:
        return BookAtMarks(None, None, "no market data yet: run `qbtc ingest` or `qbtc run`")
    positions = load_positions(context.lake_dir, portfolio_id, as_of)
    marks = load_marks(context.lake_dir, as_of)
    missing = unmarked(positions, marks)
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        note = (
            f"no mark for {len(missing)} held position(s) ({shown}) at {as_of.isoformat()}: "
            "check the ingest of tickers and option_quotes"
        )
        return BookAtMarks(as_of, None, note)
    # Configured perps without a ticker yet are left out (held ones still need a mark).
    quoted = set(marks.perps["symbol"].to_list()) if marks.perps.height else set()
    symbols = [s for s in settings.symbols if s in quoted]
    try:
        valued = value_book(positions, marks, symbols)
    except ValueError as exc:  # MissingMarkError, or no price for an underlying
        return BookAtMarks(as_of, None, str(exc))
    return BookAtMarks(as_of, valued, None)


def cached_book(context: ApiContext, settings: Settings, portfolio_id: str) -> BookAtMarks:
    return context.cached(
        ("book_at_marks", portfolio_id),
        BOOK_DATASETS,
        lambda: value_latest_book(context, settings, portfolio_id),
    )


def build_exposures(context: ApiContext, settings: Settings, portfolio_id: str) -> Exposures:
    at = cached_book(context, settings, portfolio_id)
    band = settings.delta_hedge_band_usd
    if at.valued is None:
        return Exposures(
            portfolio_id=portfolio_id,
            as_of=at.as_of,
            gross_notional=0.0,
            net_notional=0.0,
            delta_usd=0.0,
            gamma_usd=0.0,
            vega_usd=0.0,
            theta_usd=0.0,
            hedge_band_usd=band,
            by_underlying=[],
            by_symbol=[],
            note=at.note,
        )
    book = at.valued.book
    greeks = portfolio_greeks(book)
    notional = exposure(book)
    options = options_delta_coin(book)
    rows = [
        UnderlyingExposure(
            underlying=g.underlying,
            spot=g.spot,
            delta_coin=g.delta_coin,
            delta_usd=g.delta_usd,
            gamma_usd=g.gamma_usd,
            vega_usd=g.vega_usd,
            theta_usd=g.theta_usd,
            options_delta_coin=options[g.underlying],
            perp_delta_coin=g.delta_coin - options[g.underlying],
        )
        for g in greeks.by_underlying
        if g.delta_coin or g.gamma_usd or g.vega_usd or options[g.underlying]
    ]
    return Exposures(
        portfolio_id=portfolio_id,
        as_of=at.as_of,
        gross_notional=notional.gross_notional,
        net_notional=notional.net_notional,
        delta_usd=greeks.delta_usd,
        gamma_usd=greeks.gamma_usd,
        vega_usd=greeks.vega_usd,
        theta_usd=greeks.theta_usd,
        hedge_band_usd=band,
        by_underlying=rows,
        by_symbol=[
            SymbolNotional(symbol=s, notional=v) for s, v in sorted(notional.by_symbol.items())
        ],
        note=None,
    )


def build_stress(context: ApiContext, settings: Settings, portfolio_id: str) -> Stress:
    at = cached_book(context, settings, portfolio_id)
    if at.valued is None:
        return Stress(portfolio_id=portfolio_id, as_of=at.as_of, scenarios=[], note=at.note)
    results = stress_test(at.valued.book)
    scenarios = [
        StressRow(name=r.name, spot_shift=r.spot_shift, vol_shift=r.vol_shift, pnl=r.pnl)
        for r in results
    ]
    return Stress(portfolio_id=portfolio_id, as_of=at.as_of, scenarios=scenarios, note=None)


@router.get("/api/exposures", response_model=Exposures, responses=responses(401, 422, 429))
async def get_exposures(request: Request, portfolio_id: PortfolioQuery = None) -> Response:
    """Delta, gamma, vega, theta per underlying (USDT), notionals and the perp hedge."""
    context, settings = get_context(request), request.app.state.settings
    portfolio = portfolio_id or settings.portfolio_id
    return await context.respond(
        request,
        ("exposures", portfolio),
        BOOK_DATASETS,
        lambda: build_exposures(context, settings, portfolio),
    )


@router.get("/api/risk/stress", response_model=Stress, responses=responses(401, 422, 429))
async def get_stress(request: Request, portfolio_id: PortfolioQuery = None) -> Response:
    """PnL of the book (USDT) under instant spot and implied-vol shocks, full revaluation."""
    context, settings = get_context(request), request.app.state.settings
    portfolio = portfolio_id or settings.portfolio_id
    return await context.respond(
        request,
        ("stress", portfolio),
        BOOK_DATASETS,
        lambda: build_stress(context, settings, portfolio),
    )
