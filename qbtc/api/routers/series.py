"""Time series for charts, as columns: ``/api/pnl`` (equity and PnL) and ``/api/risk/series``.

A window ends at the newest point of the series (not at the wall clock, so a replayed or
simulated book shows its own history); long series are thinned evenly to ``max_points``.
Columns rather than rows keep 100,000 points small and fast to send.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import numpy as np
import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import ApiContext, get_context
from qbtc.api.errors import responses
from qbtc.api.models import PnlSeries, RiskSeries
from qbtc.api.params import ID_PATTERN, Since, Until, as_utc

router = APIRouter()

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
#: VaR method shown when none is asked for (the one whose rows carry the equity history).
DEFAULT_METHOD = "monte_carlo"

PortfolioQuery = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="Portfolio (default: QBTC_PORTFOLIO_ID).")
]
WindowQuery = Annotated[
    Window, Query(description="Span ending at the newest point (all: the whole history).")
]
MaxPoints = Annotated[
    int, Query(ge=2, le=MAX_POINTS, description=f"Points at most, evenly thinned (2-{MAX_POINTS}).")
]


def thin(frame: pl.DataFrame, max_points: int) -> pl.DataFrame:
    """At most ``max_points`` rows, evenly spread over the frame; the last row is kept."""
    n = frame.height
    if n <= max_points:
        return frame
    rows = np.unique(np.arange(1, max_points + 1) * n // max_points - 1)
    return frame[rows]


def windowed(frame: pl.DataFrame, window: str, max_points: int) -> tuple[pl.DataFrame, int]:
    """The rows of ``window`` (ending at the newest), thinned; and how many there were."""
    width = WINDOWS[window]
    if width is not None and frame.height:
        frame = frame.filter(pl.col("timestamp") >= pl.col("timestamp").max() - width)
    return thin(frame, max_points), frame.height


def columns(frame: pl.DataFrame) -> dict[str, Any]:
    """Each column as a list; NaN becomes None (JSON has no NaN)."""
    floats = [name for name, dtype in frame.schema.items() if dtype == pl.Float64]
    clean = frame.with_columns(pl.col(floats).fill_nan(None))
    return {name: clean[name].to_list() for name in clean.columns}


def build_pnl(
    context: ApiContext,
    *,
    portfolio_id: str,
    capital: float,
    max_drawdown: float,
    window: str,
    since: datetime | None,
    until: datetime | None,
    max_points: int,
) -> PnlSeries:
    params = {"portfolio_id": portfolio_id, "since": since, "until": until}
    frame, total = windowed(context.query("pnl_series", params), window, max_points)
    frame = frame.with_columns(
        total_pnl=pl.col("realized_pnl")
        + pl.col("unrealized_pnl")
        - pl.col("fees")
        + pl.col("funding")
    )
    # Built from typed columns of a known query: validating 800,000 values again costs seconds.
    return PnlSeries.model_construct(
        portfolio_id=portfolio_id,
        capital=capital,
        max_drawdown=max_drawdown,
        total_points=total,
        **columns(frame),
    )


def build_risk_series(
    context: ApiContext,
    *,
    portfolio_id: str,
    method: str,
    var_limit: float,
    window: str,
    since: datetime | None,
    until: datetime | None,
    max_points: int,
) -> RiskSeries:
    params = {"portfolio_id": portfolio_id, "method": method, "since": since, "until": until}
    frame, total = windowed(context.query("risk_series", params), window, max_points)
    return RiskSeries.model_construct(
        portfolio_id=portfolio_id,
        method=method,
        var_limit=var_limit,
        total_points=total,
        **columns(frame),
    )


async def _respond(
    request: Request, key: tuple[Any, ...], datasets: tuple[str, ...], build: Callable[[], Any]
) -> Response:
    return await get_context(request).respond(request, key, datasets, build)


@router.get("/api/pnl", response_model=PnlSeries, responses=responses(401, 422, 429), tags=["book"])
async def get_pnl(
    request: Request,
    portfolio_id: PortfolioQuery = None,
    window: WindowQuery = "all",
    since: Since = None,
    until: Until = None,
    max_points: MaxPoints = 2000,
) -> Response:
    """Equity, drawdown and PnL (realised, unrealised, fees, funding; USDT) over time."""
    context, settings = get_context(request), request.app.state.settings
    portfolio = portfolio_id or settings.portfolio_id
    start, end = as_utc(since), as_utc(until)
    key = ("pnl", portfolio, window, start, end, max_points)
    return await _respond(
        request,
        key,
        ("positions", "risk_metrics"),
        lambda: build_pnl(
            context,
            portfolio_id=portfolio,
            capital=settings.capital,
            max_drawdown=settings.max_drawdown,
            window=window,
            since=start,
            until=end,
            max_points=max_points,
        ),
    )


@router.get(
    "/api/risk/series",
    response_model=RiskSeries,
    responses=responses(401, 422, 429),
    tags=["risk"],
)
async def get_risk_series(
    request: Request,
    portfolio_id: PortfolioQuery = None,
    method: Annotated[
        str, Query(pattern=ID_PATTERN, description="VaR method, e.g. monte_carlo.")
    ] = DEFAULT_METHOD,
    window: WindowQuery = "all",
    since: Since = None,
    until: Until = None,
    max_points: MaxPoints = 2000,
) -> Response:
    """VaR and CVaR (USDT, loss positive) before and after each cycle's orders, and the limit."""
    context, settings = get_context(request), request.app.state.settings
    portfolio = portfolio_id or settings.portfolio_id
    start, end = as_utc(since), as_utc(until)
    key = ("risk_series", portfolio, method, window, start, end, max_points)
    return await _respond(
        request,
        key,
        ("risk_metrics",),
        lambda: build_risk_series(
            context,
            portfolio_id=portfolio,
            method=method,
            var_limit=settings.max_var_99,
            window=window,
            since=start,
            until=end,
            max_points=max_points,
        ),
    )
