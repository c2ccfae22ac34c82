"""``/api/positions``: the latest snapshot of every position of the book."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import get_context
from qbtc.api.errors import responses
from qbtc.api.models import Page, Position
from qbtc.api.params import Limit, Offset, PortfolioFilter

router = APIRouter(tags=["book"])

PositionType = Annotated[
    Literal["perp", "option"] | None, Query(alias="type", description="Only perps or options.")
]


@router.get("/api/positions", response_model=Page[Position], responses=responses(401, 422, 429))
async def list_positions(
    request: Request,
    portfolio_id: PortfolioFilter = None,
    position_type: PositionType = None,
    include_flat: Annotated[bool, Query(description="Also positions with quantity 0.")] = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Latest position snapshots, by portfolio and type, option legs grouped by structure
    (quantity signed, PnL in USDT)."""
    context = get_context(request)
    params = {"portfolio_id": portfolio_id, "type": position_type, "include_flat": include_flat}

    return await context.respond_page(
        request,
        "positions",
        params,
        order='portfolio_id, "type" DESC, structure_id NULLS LAST, symbol',
        limit=limit,
        offset=offset,
        model=Position,
        datasets=("positions", "order_intents"),
    )
