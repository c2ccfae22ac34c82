"""``/api/signals``: signals of every run, newest first."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import get_context
from qbtc.api.errors import responses
from qbtc.api.models import Page, SignalRow
from qbtc.api.params import Limit, Offset, RunFilter, Since, SymbolFilter, as_utc

router = APIRouter(tags=["book"])


@router.get("/api/signals", response_model=Page[SignalRow], responses=responses(401, 422, 429))
async def list_signals(
    request: Request,
    symbol: SymbolFilter = None,
    run_id: RunFilter = None,
    direction: Annotated[
        Literal["long", "short", "flat"] | None, Query(description="Only this direction.")
    ] = None,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Signals newest first: direction, strength in [-1, 1], provider and rationale."""
    context = get_context(request)
    start = as_utc(since)
    params = {"symbol": symbol, "run_id": run_id, "direction": direction, "since": start}

    return await context.respond_page(
        request,
        "signals",
        params,
        order='"timestamp" DESC, symbol, signal_id',
        limit=limit,
        offset=offset,
        model=SignalRow,
        datasets=("signals",),
    )
