"""``/api/positions``: the latest snapshot of every position of the book."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import ApiContext, get_context
from qbtc.api.errors import responses
from qbtc.api.models import Page, Position
from qbtc.api.params import Limit, Offset, PortfolioFilter
from qbtc.optionsbook import with_structure_state
from qbtc.risk.inputs import load_structure_ids

router = APIRouter(tags=["book"])

PositionType = Annotated[
    Literal["perp", "option"] | None, Query(alias="type", description="Only perps or options.")
]


#: What the state of a structure is read from.
STRUCTURE_DATASETS = ("positions", "order_intents")


def with_leg_states(context: ApiContext, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of the ``positions`` query with ``structure_state``
    (:func:`qbtc.optionsbook.with_structure_state`, as ``qbtc positions`` shows it).

    A leg's state depends on its sibling legs, which a page, a type filter or the hiding of
    flat positions may leave out: each portfolio's legs are judged on all the options it holds
    and the structure ids of its accepted intents (read once per change of the lake, for
    every page and filter alike; blocking).
    """
    state = pl.lit(None, dtype=pl.String).alias("structure_state")
    portfolios = set(frame.filter(pl.col("structure_id").is_not_null())["portfolio_id"])
    if not portfolios:
        return frame.with_columns(state)
    parts = []
    for (portfolio_id,), rows in frame.with_row_index("_row").group_by("portfolio_id"):
        if portfolio_id not in portfolios:
            parts.append(rows.with_columns(state))
            continue
        ids, book = context.cached(
            ("structure_legs", portfolio_id),
            STRUCTURE_DATASETS,
            partial(_structure_legs, context, str(portfolio_id)),
        )
        parts.append(with_structure_state(rows, ids, book=book))
    return pl.concat(parts, how="vertical").sort("_row").drop("_row")


def _structure_legs(context: ApiContext, portfolio_id: str) -> tuple[dict[str, str], pl.DataFrame]:
    """Option symbol -> structure id, and the options held, of ``portfolio_id``."""
    ids = load_structure_ids(context.lake_dir, portfolio_id)
    return ids, context.query("option_holdings", {"portfolio_id": portfolio_id})


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
    with the structure's state (quantity signed, PnL in USDT)."""
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
        datasets=STRUCTURE_DATASETS,
        derive=partial(with_leg_states, context),
    )
