"""Every deployment of qbtc with its schedule: the one source of truth.

Used by ``make up`` (``deployments.serve``: a local server serving them with their schedules)
and by the production path (``prefect.yaml`` for a process work pool, generated from these
definitions by ``python -m deployments.export`` and checked by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WORK_POOL = "qbtc-process"


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: flow entrypoint, schedule (interval seconds or cron) and defaults."""

    name: str
    entrypoint: str
    description: str
    interval_s: int | None = None
    cron: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ("qbtc",)
    concurrency_limit: int | None = 1

    @property
    def flow_module(self) -> str:
        return self.entrypoint.split(":", 1)[0].removesuffix(".py").replace("/", ".")

    @property
    def flow_function(self) -> str:
        return self.entrypoint.split(":", 1)[1]


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name="pipeline",
        entrypoint="flows/pipeline.py:pipeline",
        description="One full cycle: ingest, gate, features, signals, risk, orders, book.",
        interval_s=300,
        tags=("qbtc", "trading"),
    ),
    DeploymentSpec(
        name="ingest",
        entrypoint="flows/ingest.py:ingest",
        description="Market data (OHLCV, tickers, funding, option chains) behind the quality gate.",
        interval_s=60,
        tags=("qbtc", "market-data"),
    ),
    DeploymentSpec(
        name="risk-monitor",
        entrypoint="flows/risk.py:risk_monitor",
        description="Re-values the book on the latest marks; alerts on a limit breach.",
        interval_s=60,
        tags=("qbtc", "risk"),
    ),
    DeploymentSpec(
        name="compaction",
        entrypoint="flows/maintenance.py:compaction",
        description="Merges small Parquet files per partition (no row lost or duplicated).",
        cron="15 0 * * *",
        tags=("qbtc", "maintenance"),
    ),
    DeploymentSpec(
        name="kill-switch",
        entrypoint="flows/maintenance.py:kill_switch",
        description="Manual: turn the kill switch on/off, or flatten the book (reduce-only).",
        parameters={"action": "status"},
        tags=("qbtc", "manual"),
    ),
    DeploymentSpec(
        name="backtest",
        entrypoint="flows/backtest.py:backtest",
        description="Manual: the live cycle's decisions replayed over a window of the lake.",
        tags=("qbtc", "manual", "research"),
        concurrency_limit=None,
    ),
    DeploymentSpec(
        name="backtest-sweep",
        entrypoint="flows/backtest_sweep.py:backtest_sweep",
        description="Manual: one backtest per parameter set of a grid, with a comparison table.",
        tags=("qbtc", "manual", "research"),
        concurrency_limit=None,
    ),
)


def get_spec(name: str) -> DeploymentSpec:
    for spec in DEPLOYMENTS:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown deployment {name!r}; known: {[d.name for d in DEPLOYMENTS]}")
