"""``/api/risk/metrics``: latest risk of each book and its history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qbtc.api.context import get_context, to_models
from qbtc.api.errors import responses
from qbtc.api.models import RiskMetric, RiskMetrics, UnderlyingGreeksRow
from qbtc.api.params import ID_PATTERN, Limit, Offset, PortfolioFilter, Since, Until, as_utc

router = APIRouter(tags=["risk"])

MethodFilter = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="Only this VaR method, e.g. monte_carlo.")
]
PhaseFilter = Annotated[
    Literal["pre_trade", "book"] | None,
    Query(description="Only this phase: pre_trade (before a cycle's orders) or book (as held)."),
]


@router.get("/api/risk/metrics", response_model=RiskMetrics, responses=responses(401, 422, 429))
async def get_risk_metrics(
    request: Request,
    portfolio_id: PortfolioFilter = None,
    method: MethodFilter = None,
    phase: PhaseFilter = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Latest row per portfolio, method and phase, the history newest first (paginated), and
    the latest Greeks per underlying with the perp hedge (``greeks``)."""
    context = get_context(request)
    start, end = as_utc(since), as_utc(until)
    filters = {"portfolio_id": portfolio_id, "method": method, "phase": phase}

    def build() -> RiskMetrics:
        latest = to_models(context.query("risk_latest", filters), RiskMetric)
        history = context.page(
            "risk_history",
            {**filters, "since": start, "until": end},
            order='"timestamp" DESC, portfolio_id, method, phase',
            limit=limit,
            offset=offset,
            model=RiskMetric,
        )
        greeks = to_models(
            context.query("book_greeks_latest", {"portfolio_id": portfolio_id, "phase": phase}),
            UnderlyingGreeksRow,
        )
        return RiskMetrics(latest=latest, history=history, greeks=greeks)

    key = ("risk", portfolio_id, method, phase, start, end, limit, offset)
    return await context.respond(request, key, ("risk_metrics", "book_greeks"), build)
