"""``/api/health``: lake freshness per dataset, last run, quality gate and kill switch."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from qbtc.api.context import get_context
from qbtc.api.errors import responses
from qbtc.api.models import Health
from qbtc.api.status import desk_status

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=Health, responses=responses(401, 429))
async def get_health(request: Request) -> Response:
    """State of the desk: 'degraded' with the problems when something needs attention.

    Always 200 while the API itself works; read `status` and `problems`.
    """
    status = await anyio.to_thread.run_sync(desk_status, get_context(request))
    problems = status.problems
    health = Health(
        status="degraded" if problems else "ok",
        time=status.now,
        problems=problems,
        datasets=status.datasets,
        last_run=status.last_run,
        quality_gate=status.gate,
        kill_switch=status.kill_switch,
    )
    return Response(health.model_dump_json(), media_type="application/json")
