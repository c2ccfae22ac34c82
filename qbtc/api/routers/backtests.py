"""``/api/backtests``: completed backtests, one backtest in full, its tear sheet."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, Response

from qbtc.api.context import ApiContext, NotFoundError, get_context, to_models
from qbtc.api.errors import responses
from qbtc.api.models import Page
from qbtc.api.models.backtest import (
    BacktestDetail,
    BacktestEquityPoint,
    BacktestMetric,
    BacktestSummary,
    BacktestTrade,
)
from qbtc.api.params import ID_PATTERN, Limit, Offset, Since, as_utc

router = APIRouter(tags=["backtests"])

DATASETS = ("backtests", "backtest_metrics", "backtest_equity", "backtest_trades")
BacktestId = Annotated[str, Path(pattern=ID_PATTERN, description="Backtest id (bt...).")]


def _filters(backtest_id: str | None = None) -> dict[str, object]:
    return {"backtest_id": backtest_id, "provider": None, "sweep_id": None, "since": None}


@router.get(
    "/api/backtests", response_model=Page[BacktestSummary], responses=responses(401, 422, 429)
)
async def list_backtests(
    request: Request,
    provider: Annotated[
        str | None, Query(max_length=200, description="Only this provider or strategy.")
    ] = None,
    sweep_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="One sweep.")] = None,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Completed backtests newest first, with total return, Sharpe and max drawdown."""
    context = get_context(request)
    params = {**_filters(), "provider": provider, "sweep_id": sweep_id, "since": as_utc(since)}
    return await context.respond_page(
        request,
        "backtests",
        params,
        order='"timestamp" DESC, backtest_id',
        limit=limit,
        offset=offset,
        model=BacktestSummary,
        datasets=("backtests", "backtest_metrics"),
    )


def summary_of(context: ApiContext, backtest_id: str) -> BacktestSummary:
    found = to_models(context.query("backtests", _filters(backtest_id)), BacktestSummary)
    if not found:
        raise NotFoundError(f"unknown backtest {backtest_id}: see /api/backtests")
    return found[0]


def build_detail(context: ApiContext, backtest_id: str) -> BacktestDetail:
    by_id = {"backtest_id": backtest_id}
    return BacktestDetail(
        backtest=summary_of(context, backtest_id),
        metrics=to_models(context.query("backtest_metrics", by_id), BacktestMetric),
        equity=to_models(context.query("backtest_equity", by_id), BacktestEquityPoint),
        trades=to_models(context.query("backtest_trades", by_id), BacktestTrade),
    )


@router.get(
    "/api/backtests/{backtest_id}",
    response_model=BacktestDetail,
    responses=responses(401, 404, 422, 429),
)
async def get_backtest(request: Request, backtest_id: BacktestId) -> Response:
    """One backtest: parameters, metrics (with units), equity curve and trades."""
    context = get_context(request)
    return await context.respond(
        request, ("backtest", backtest_id), DATASETS, lambda: build_detail(context, backtest_id)
    )


@router.get(
    "/api/backtests/{backtest_id}/tear-sheet",
    response_class=FileResponse,
    responses={
        **responses(401, 404, 422, 429),
        200: {"content": {"text/html": {}}, "description": "The tear sheet (HTML)."},
    },
)
def get_tear_sheet(request: Request, backtest_id: BacktestId) -> FileResponse:
    """The backtest's tear sheet: equity, drawdown, exposure, monthly returns (offline HTML)."""
    context = get_context(request)
    try:
        summary = summary_of(context, backtest_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    reports = (context.lake_dir.parent / "reports" / "backtests").resolve()
    path = FilePath(summary.tear_sheet or "").resolve()
    if not summary.tear_sheet or path.parent != reports or not path.is_file():
        raise HTTPException(
            status_code=404,
            detail=f"the tear sheet of backtest {backtest_id} is not on this server",
        )
    return FileResponse(path, media_type="text/html")
