"""``/api/quarantine`` and ``/api/vol-views``: what the gate refused, and the volatility views."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import get_context, to_models
from qbtc.api.errors import responses
from qbtc.api.models import Page, Quarantine, QuarantineCount, VolViewRow
from qbtc.api.params import UNDERLYING_PATTERN, Limit, Offset, RunFilter, Since, as_utc
from qbtc.api.status import quality_gate

router = APIRouter()


@router.get(
    "/api/quarantine",
    response_model=Quarantine,
    responses=responses(401, 429),
    tags=["operations"],
)
async def get_quarantine(request: Request) -> Response:
    """Rows the quality gate refused per dataset: in all and in the latest gate's run."""
    context = get_context(request)

    def build() -> Quarantine:
        gate_run = quality_gate(context).run_id
        counts = context.query("quarantine_counts", {"run_id": gate_run})
        return Quarantine(gate_run_id=gate_run, datasets=to_models(counts, QuarantineCount))

    return await context.respond(request, ("quarantine",), ("quarantine", "quality_results"), build)


@router.get(
    "/api/vol-views",
    response_model=Page[VolViewRow],
    responses=responses(401, 422, 429),
    tags=["book"],
)
async def list_vol_views(
    request: Request,
    underlying: Annotated[
        str | None, Query(pattern=UNDERLYING_PATTERN, description="Only this coin, e.g. BTC.")
    ] = None,
    run_id: RunFilter = None,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Volatility views newest first: vol_view in [-1, 1], confidence, surface inputs, rationale."""
    context = get_context(request)
    params = {"underlying": underlying, "run_id": run_id, "since": as_utc(since)}
    return await context.respond_page(
        request,
        "vol_views",
        params,
        order='"timestamp" DESC, underlying, view_id',
        limit=limit,
        offset=offset,
        model=VolViewRow,
        datasets=("vol_views",),
    )
