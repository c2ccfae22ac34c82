"""``/metrics``: Prometheus text format, read from the lake at scrape time (cached).

Gauges: data lag per dataset, last run age and status, quality gate, kill switch, order
intents by status and ledger events by kind, PnL per portfolio (USDT), latest VaR, CVaR,
equity and drawdown per portfolio and method.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from qbtc.api.context import ApiContext, get_context
from qbtc.api.errors import responses
from qbtc.api.status import PROBLEM_KINDS, desk_status

router = APIRouter(tags=["metrics"])

_RISK_FIELDS = {
    "var": "Latest Value at Risk, USDT (loss positive).",
    "cvar": "Latest expected shortfall, USDT (loss positive).",
    "equity": "Latest equity of the book, USDT.",
    "drawdown": "Latest drawdown, fraction of peak equity.",
}


class LakeCollector:
    """Prometheus collector over the API's lake context (one per app)."""

    def __init__(self, context: ApiContext) -> None:
        self.context = context

    def collect(self) -> Iterator[Metric]:
        yield from self._desk()
        yield from self._orders()
        yield from self._pnl()
        yield from self._risk()

    def _desk(self) -> Iterator[Metric]:
        status = desk_status(self.context)
        lag = GaugeMetricFamily(
            "qbtc_data_lag_seconds",
            "Seconds since the newest row of each dataset.",
            labels=["dataset"],
        )
        for item in status.datasets:
            if item.lag_seconds is not None:
                lag.add_metric([item.dataset], item.lag_seconds)
        yield lag
        run_age = GaugeMetricFamily(
            "qbtc_last_run_age_seconds", "Seconds since the last run started."
        )
        run_status = GaugeMetricFamily(
            "qbtc_last_run_status", "1 for the status of the last run.", labels=["flow", "status"]
        )
        if status.last_run is not None:
            run_age.add_metric([], status.last_run.age_seconds)
            run_status.add_metric([status.last_run.flow, status.last_run.status], 1.0)
        yield run_age
        yield run_status
        yield GaugeMetricFamily(
            "qbtc_quality_gate_passed",
            "1 when the latest quality gate passed.",
            value=float(status.gate.passed),
        )
        yield GaugeMetricFamily(
            "qbtc_kill_switch_on",
            "1 while the kill switch is on.",
            value=float(status.kill_switch.on),
        )
        checks = status.checks
        yield GaugeMetricFamily(
            "qbtc_health_degraded",
            "1 when /api/health is degraded (see qbtc_health_problems).",
            value=float(bool(checks)),
        )
        problems = GaugeMetricFamily(
            "qbtc_health_problems",
            "Problems /api/health names, by kind.",
            labels=["kind"],
        )
        for kind in PROBLEM_KINDS:
            problems.add_metric([kind], float(sum(k == kind for k, _ in checks)))
        yield problems
        unreadable = GaugeMetricFamily(
            "qbtc_dataset_unreadable",
            "1 for a dataset with a file that cannot be read.",
            labels=["dataset"],
        )
        for item in status.datasets:
            unreadable.add_metric([item.dataset], float(item.error is not None))
        yield unreadable
        stalled = status.scheduler_stalled_s
        yield GaugeMetricFamily(
            "qbtc_scheduler_stalled_seconds",
            "Seconds without a completed pipeline run beyond the allowance while served (0: fine).",
            value=stalled or 0.0,
        )

    def _orders(self) -> Iterator[Metric]:
        rows = self.context.cached(
            "metrics_orders",
            ("order_intents", "order_events"),
            lambda: self.context.query("metrics_orders").rows(),
        )
        intents = GaugeMetricFamily(
            "qbtc_orders",
            "Order intents by pre-trade status (accepted|refused).",
            labels=["status"],
        )
        events = GaugeMetricFamily(
            "qbtc_order_events",
            "Order ledger events by kind (rejected = venue rejects).",
            labels=["event"],
        )
        rejects = 0.0
        for kind, label, count in rows:
            (intents if kind == "intent" else events).add_metric([label], float(count))
            if kind == "event" and label == "rejected":
                rejects = float(count)
        yield intents
        yield events
        yield GaugeMetricFamily("qbtc_order_rejects", "Orders the venue rejected.", value=rejects)

    def _pnl(self) -> Iterator[Metric]:
        rows = self.context.cached(
            "metrics_pnl", ("positions",), lambda: self.context.query("metrics_pnl").to_dicts()
        )
        pnl = GaugeMetricFamily(
            "qbtc_pnl_usdt",
            "PnL of the book by component, USDT.",
            labels=["portfolio_id", "component"],
        )
        for row in rows:
            for component in ("unrealized", "realized", "fees", "funding"):
                if row[component] is not None:
                    pnl.add_metric([row["portfolio_id"], component], float(row[component]))
        yield pnl

    def _risk(self) -> Iterator[Metric]:
        params = {"portfolio_id": None, "method": None, "phase": None}
        rows = self.context.cached(
            "metrics_risk",
            ("risk_metrics",),
            lambda: self.context.query("risk_latest", params).to_dicts(),
        )
        for field, documentation in _RISK_FIELDS.items():
            family = GaugeMetricFamily(
                f"qbtc_risk_{field}", documentation, labels=["portfolio_id", "method", "phase"]
            )
            for row in rows:
                if row[field] is not None:
                    labels = [row["portfolio_id"], row["method"], row["phase"]]
                    family.add_metric(labels, float(row[field]))
            yield family


def build_registry(context: ApiContext) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LakeCollector(context))
    return registry


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text format.",
        },
        **responses(401, 429),
    },
)
async def get_metrics(request: Request) -> Response:
    """Desk metrics in Prometheus text format (version 0.0.4)."""
    registry: CollectorRegistry = request.app.state.registry
    get_context(request)  # fails early when the lifespan did not run
    body = await anyio.to_thread.run_sync(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
