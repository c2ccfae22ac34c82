"""``/api/orders/{client_order_id}/lineage`` and ``/api/llm-calls``: where an order came from.

``order_events.client_order_id`` -> ``order_intents`` (decision bar, pre-trade decision) ->
the run's pre-trade ``risk_metrics`` -> ``signals`` of the same run and symbol (rationale,
``feature_snapshot``) -> the ``features`` row at the decision bar -> the run's ``vol_views``
row of the underlying -> ``llm_calls`` of the run -> the ``runs`` manifest.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from qbtc.api.context import ApiContext, NotFoundError, api_sql, clean_row, get_context, to_models
from qbtc.api.errors import responses
from qbtc.api.models import (
    FillRow,
    Lineage,
    LlmCallRow,
    Order,
    OrderEventRow,
    Page,
    RiskMetric,
    Run,
    SignalRow,
    VolViewRow,
)
from qbtc.api.params import RUN_ID_PATTERN, Limit, Offset, RunFilter, Since, as_utc
from qbtc.symbols import base_currency, symbol_key

router = APIRouter(tags=["book"])

LINEAGE_DATASETS = (
    "order_intents",
    "order_events",
    "fills",
    "risk_metrics",
    "signals",
    "features",
    "llm_calls",
    "vol_views",
    "runs",
)


def _one(context: ApiContext, name: str, key: str, params: dict[str, Any]) -> list[dict]:
    """Rows of the named (filterable) query whose ``key`` column equals ``params[key]``."""
    sql = f"SELECT * FROM ({api_sql(name)}) WHERE {key} = ${key}"
    return context.query_sql(sql, params).to_dicts()


def build_lineage(context: ApiContext, client_order_id: str) -> Lineage:
    intents = _one(
        context,
        "orders",
        "client_order_id",
        {
            "client_order_id": client_order_id,
            "symbol": None,
            "run_id": None,
            "status": None,
            "since": None,
        },
    )
    if not intents:
        raise NotFoundError(f"unknown order {client_order_id}: no order intent with that id")
    intent = Order.model_validate(clean_row(intents[0]))
    by_order = {"client_order_id": client_order_id}
    run_id, symbol = intent.run_id, intent.symbol
    signals = context.query(
        "signals", {"symbol": symbol, "run_id": run_id, "direction": None, "since": None}
    )
    signal = to_models(signals.sort("created_at").tail(1), SignalRow)
    features = None
    if signal:
        at = {"key": symbol_key(symbol), "symbol": symbol, "at": signal[0].timestamp}
        rows = context.query("feature_row", at).to_dicts()
        features = clean_row(rows[0]) if rows else None
    runs = _one(
        context, "runs", "run_id", {"run_id": run_id, "flow": None, "status": None, "since": None}
    )
    llm = context.query("llm_calls", {"run_id": run_id, "status": None, "since": None})
    views = context.query(
        "vol_views", {"underlying": base_currency(symbol), "run_id": run_id, "since": None}
    )
    vol_view = to_models(views.sort("created_at").tail(1), VolViewRow)
    return Lineage(
        client_order_id=client_order_id,
        intent=intent,
        risk=to_models(context.query("run_pretrade_risk", {"run_id": run_id}), RiskMetric),
        events=to_models(context.query("order_events", by_order), OrderEventRow),
        fills=to_models(context.query("order_fills", by_order), FillRow),
        signal=signal[0] if signal else None,
        features=features,
        vol_view=vol_view[0] if vol_view else None,
        llm_calls=to_models(llm.sort("timestamp"), LlmCallRow),
        run=Run.model_validate(clean_row(runs[0])) if runs else None,
    )


@router.get(
    "/api/orders/{client_order_id}/lineage",
    response_model=Lineage,
    responses=responses(401, 404, 422, 429),
)
async def get_lineage(
    request: Request,
    client_order_id: Annotated[
        str,
        Path(pattern=RUN_ID_PATTERN, description="Client order id, as in /api/orders."),
    ],
) -> Response:
    """The order's intent, pre-trade risk, ledger, fills, signal, features, LLM calls and run."""
    context = get_context(request)
    return await context.respond(
        request,
        ("lineage", client_order_id),
        LINEAGE_DATASETS,
        lambda: build_lineage(context, client_order_id),
    )


@router.get("/api/llm-calls", response_model=Page[LlmCallRow], responses=responses(401, 422, 429))
async def list_llm_calls(
    request: Request,
    run_id: RunFilter = None,
    status: Literal["ok", "cached", "rejected", "error"] | None = None,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """LLM calls newest first: prompt, answer, model, tokens, latency (ms), cost (USD)."""
    context = get_context(request)
    params = {"run_id": run_id, "status": status, "since": as_utc(since)}
    return await context.respond_page(
        request,
        "llm_calls",
        params,
        order='"timestamp" DESC, call_id',
        limit=limit,
        offset=offset,
        model=LlmCallRow,
        datasets=("llm_calls",),
    )
