"""``/api/orders``: order intents (accepted or refused) with their state in the ledger."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import get_context
from qbtc.api.errors import responses
from qbtc.api.models import Order, Page
from qbtc.api.params import Limit, Offset, RunFilter, Since, SymbolFilter, as_utc

router = APIRouter(tags=["book"])


@router.get("/api/orders", response_model=Page[Order], responses=responses(401, 422, 429))
async def list_orders(
    request: Request,
    symbol: SymbolFilter = None,
    run_id: RunFilter = None,
    status: Annotated[
        Literal["accepted", "refused"] | None,
        Query(description="Only orders the pre-trade checks accepted or refused."),
    ] = None,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Orders newest first (decision bar), with last ledger event and filled quantity."""
    context = get_context(request)
    start = as_utc(since)
    params = {"symbol": symbol, "run_id": run_id, "status": status, "since": start}

    return await context.respond_page(
        request,
        "orders",
        params,
        order='"timestamp" DESC, client_order_id',
        limit=limit,
        offset=offset,
        model=Order,
        datasets=("order_intents", "order_events"),
    )
