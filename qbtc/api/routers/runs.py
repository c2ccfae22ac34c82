"""``/api/runs``: pipeline run manifests, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import get_context
from qbtc.api.errors import responses
from qbtc.api.models import Page, Run
from qbtc.api.params import ID_PATTERN, Limit, Offset, Since, as_utc

router = APIRouter(tags=["runs"])


@router.get("/api/runs", response_model=Page[Run], responses=responses(401, 422, 429))
async def list_runs(
    request: Request,
    flow: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this flow.")] = None,
    status: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this status, e.g. failed.")
    ] = None,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Run manifests newest first: parameters, seed, code and package versions, durations."""
    context = get_context(request)
    start = as_utc(since)
    params = {"flow": flow, "status": status, "since": start}

    return await context.respond_page(
        request,
        "runs",
        params,
        order='"timestamp" DESC, run_id',
        limit=limit,
        offset=offset,
        model=Run,
        datasets=("runs",),
    )
