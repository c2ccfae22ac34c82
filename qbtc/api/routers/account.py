"""``/api/pnl``: equity and PnL of a portfolio over a window (the dashboard's account chart)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

import numpy as np
import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import ApiContext, get_context, to_models
from qbtc.api.errors import responses
from qbtc.api.models import PnlPoint, PnlSeries
from qbtc.api.params import ID_PATTERN, Since, Until, as_utc

router = APIRouter(tags=["book"])

Window = Literal["1h", "6h", "1d", "7d", "30d", "all"]
WINDOWS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
MAX_POINTS = 100_000


def thin(frame: pl.DataFrame, max_points: int) -> pl.DataFrame:
    """At most ``max_points`` rows, evenly spread over the frame; the last row is kept."""
    n = frame.height
    if n <= max_points:
        return frame
    rows = np.unique(np.arange(1, max_points + 1) * n // max_points - 1)
    return frame[rows]


def build_pnl(
    context: ApiContext,
    *,
    portfolio_id: str,
    capital: float,
    max_drawdown: float,
    window: str,
    since: object,
    until: object,
    max_points: int,
) -> PnlSeries:
    params = {"portfolio_id": portfolio_id, "since": since, "until": until}
    frame = context.query("pnl_series", params)
    width = WINDOWS[window]
    if width is not None and frame.height:
        frame = frame.filter(pl.col("timestamp") >= pl.col("timestamp").max() - width)
    total = frame.height
    frame = thin(frame, max_points).with_columns(
        total_pnl=pl.col("realized_pnl")
        + pl.col("unrealized_pnl")
        - pl.col("fees")
        + pl.col("funding")
    )
    return PnlSeries(
        portfolio_id=portfolio_id,
        capital=capital,
        max_drawdown=max_drawdown,
        points=to_models(frame, PnlPoint),
        total_points=total,
    )


@router.get("/api/pnl", response_model=PnlSeries, responses=responses(401, 422, 429))
async def get_pnl(
    request: Request,
    portfolio_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Portfolio (default: QBTC_PORTFOLIO_ID).")
    ] = None,
    window: Annotated[
        Window, Query(description="Span ending at the newest point (all: the whole history).")
    ] = "all",
    since: Since = None,
    until: Until = None,
    max_points: Annotated[
        int, Query(ge=2, le=MAX_POINTS, description="Points at most (evenly thinned).")
    ] = 2000,
) -> Response:
    """Equity, drawdown and PnL (realised, unrealised, fees, funding; USDT) over time."""
    context = get_context(request)
    settings = request.app.state.settings
    portfolio = portfolio_id or settings.portfolio_id
    start, end = as_utc(since), as_utc(until)
    key = ("pnl", portfolio, window, start, end, max_points)

    def build() -> PnlSeries:
        return build_pnl(
            context,
            portfolio_id=portfolio,
            capital=settings.capital,
            max_drawdown=settings.max_drawdown,
            window=window,
            since=start,
            until=end,
            max_points=max_points,
        )

    return await context.respond(request, key, ("positions", "risk_metrics"), build)
