"""``/api/alerts``: risk breaches, failed gates, kill-switch trips and failed stages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import get_context
from qbtc.api.errors import responses
from qbtc.api.models import Alert, Page
from qbtc.api.params import ID_PATTERN, Limit, Offset, Since, as_utc

router = APIRouter(tags=["operations"])


@router.get("/api/alerts", response_model=Page[Alert], responses=responses(401, 422, 429))
async def list_alerts(
    request: Request,
    severity: Annotated[
        Literal["info", "warning", "critical"] | None, Query(description="Only this severity.")
    ] = None,
    kind: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this kind, e.g. var_limit.")
    ] = None,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Alerts newest first (also streamed once each on `/ws/alerts`)."""
    context = get_context(request)
    params = {"severity": severity, "kind": kind, "since": as_utc(since)}
    return await context.respond_page(
        request,
        "alerts",
        params,
        order='"timestamp" DESC, alert_id',
        limit=limit,
        offset=offset,
        model=Alert,
        datasets=("alerts",),
    )
