"""Flow ``pipeline``: one cycle of the desk, end to end.

ingest → quality gate → features → signals → risk and portfolio → orders → book (re-valued
positions and risk metrics) → catalog. Each stage is the body of its own flow (deployable on
its own), run inside this flow run: its tasks, logs and artifacts show under the cycle in the
UI, and all of them write with this run's id, so every order traces back to the data,
features and signals of its cycle. A failed stage stops the stages
that depend on it; the run ends Failed with the stage and the reason. Every stage is
idempotent, so a failed run can simply be run again.

How the stages run in order is :mod:`flows.pipeline_stages`; how a cycle that fails or warns
is recorded is :mod:`flows.pipeline_outcome`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

import polars as pl
from prefect import flow, get_run_logger
from pydantic import BaseModel, ConfigDict, Field

from flows.alerts import STAGE_FAILED, raise_alert, trip_kill_switch
from flows.cluster import heavy_mapper
from flows.common import current_run_id, cycle_run, flow_settings, publish_markdown
from flows.features import features
from flows.heartbeat import flow_run_heartbeats
from flows.ingest import ingest
from flows.maintenance import refresh_catalog
from flows.orders import orders
from flows.pipeline_outcome import (
    StageFailedError,
    answering_model,
    failure_reason,
    record_failed_run,
    warnings_message,
)
from flows.pipeline_stages import STAGES, run_stages
from flows.progress import report_progress
from flows.risk import hedge, risk, risk_monitor
from flows.signals import signals
from qbtc.config import Settings, SignalProviderName
from qbtc.diskspace import is_disk_full
from qbtc.execution.modes import trading_mode
from qbtc.manifest import RunManifest, record_run
from qbtc.market.venue import SIM, check_sim_seed
from qbtc.portfolio.flatten import open_positions
from qbtc.report import read_cycle_summary, render_markdown
from qbtc.risk.killswitch import KillSwitch


class PipelineParameters(BaseModel):
    """Parameters of one cycle (the Prefect UI shows them as a form)."""

    model_config = ConfigDict(extra="forbid")

    symbols: list[str] | None = Field(
        None, description="Perpetuals in ccxt form (BTC/USDT:USDT); default QBTC_SYMBOLS."
    )
    signal_provider: SignalProviderName | None = Field(
        None, description="rules | gemini | replay | strategy; default QBTC_LLM_PROVIDER."
    )
    strategy: str | None = Field(
        None,
        description="User strategy (module:Class or a qbtc.strategies entry point) of the "
        "strategy provider; default QBTC_STRATEGY.",
    )
    seed: int | None = Field(
        None,
        description="Seed of the simulated venue (must be the data dir's) and of Monte Carlo; "
        "default QBTC_SEED.",
    )
    as_of: datetime | None = Field(
        None, description="Fixed clock (UTC) for a reproducible cycle; default: now."
    )
    mode: Literal["paper", "live"] = Field(
        "paper",
        description=(
            "paper: no order leaves qbtc (the simulated venue, or a dry-run at a real venue's "
            "live quotes); live: orders go to the venue, its testnet unless "
            "QBTC_EXCHANGE_TESTNET=false (needs keys)."
        ),
    )
    backfill_days: int | None = Field(
        None, ge=1, le=3650, description="Days back-filled when a symbol has no data yet."
    )
    kill_switch: Literal["on", "off"] | None = Field(
        None, description="Trip (on) or reset (off) the kill switch before this cycle."
    )
    sizing: Literal["vol_target", "mean_variance"] = Field(
        "vol_target",
        description="How perp targets are sized: vol_target (each signal scaled to the "
        "book's volatility target) or mean_variance (the constrained mean-variance optimiser "
        "on the signals' expected returns and the perps' covariance).",
    )


def cycle_clock(as_of: datetime | None) -> datetime:
    """The cycle's fixed clock: ``as_of`` or now, in UTC, to the second."""
    moment = as_of or datetime.now(UTC)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=0)


def held_elsewhere(s: Settings) -> list[str]:
    """Perps the book holds outside the cycle's symbols (a run on a subset leaves them alone)."""
    held = open_positions(s.lake_dir, s.portfolio_id)
    if held.is_empty():
        return []
    perps = held.filter(pl.col("type") == "perp")["symbol"].to_list()
    return sorted(set(perps) - set(s.symbols))


def stage_calls(
    p: PipelineParameters, s: Settings, at: datetime, run_id: str, results: dict[str, Any]
) -> list[tuple[str, Callable[[], Any]]]:
    """Each stage's flow body with this cycle's clock, seed and universe.

    The bodies run inside this flow run (``.fn``), not as subflows: their tasks, logs and
    artifacts show under the cycle in the UI, and the cycle does not pay a subflow run's
    overhead (about a second each on Prefect 3.8, for its heartbeat thread) six times.

    A cycle on a subset of symbols decides and trades only those; the perps the book holds
    in other symbols are left as they are (no order is sent for them), but their market data
    is fetched too, so the whole book is valued on fresh marks. ``results`` fills as stages
    end: the orders stage executes the intents the risk stage decided (or reused).
    """
    marked = [*s.symbols, *held_elsewhere(s)]
    return [
        (
            "ingest",
            lambda: ingest.fn(
                symbols=marked,
                days=s.backfill_days,
                as_of=at,
                seed=s.seed,
                live=p.mode == "live",
            ),
        ),
        ("features", lambda: features.fn(as_of=at, symbols=s.symbols)),
        (
            "signals",
            lambda: signals.fn(
                provider=s.llm_provider, as_of=at, symbols=s.symbols, strategy=s.strategy
            ),
        ),
        (
            "risk",
            lambda: risk.fn(as_of=at, seed=s.seed, symbols=s.symbols, sizing=p.sizing),
        ),
        (
            "orders",
            lambda: orders.fn(
                intents_run_id=results.get("risk", {}).get("intents_run_id", run_id),
                as_of=at,
                live=p.mode == "live",
                symbols=s.symbols,
                seed=s.seed,
            ),
        ),
        (
            "hedge",
            lambda: hedge.fn(
                as_of=at,
                symbols=s.symbols,
                intents_run_id=results.get("risk", {}).get("intents_run_id", run_id),
            ),
        ),
        (
            "hedge_orders",
            lambda: (
                orders.fn(
                    intents_run_id=results.get("hedge", {}).get("intents_run_id", run_id),
                    as_of=at,
                    live=p.mode == "live",
                    symbols=s.symbols,
                    seed=s.seed,
                )
                if results.get("hedge", {}).get("accepted")
                else {"skipped": "no hedge order"}
            ),
        ),
        ("book", lambda: risk_monitor.fn(as_of=at, symbols=s.symbols)),
    ]


def check_live_venue(settings: Settings, *, live: bool) -> None:
    """``--live`` sends orders to a real venue (its testnet first): refuse it on the simulator.

    Data and orders always share one environment: with ``QBTC_EXCHANGE_TESTNET=true`` both
    are the testnet's, otherwise both are the real venue's (see :mod:`qbtc.execution.modes`).
    """
    if not live:
        return
    if settings.exchange == "sim":
        raise ValueError(
            "--live sends orders to a venue: set QBTC_EXCHANGE (e.g. binanceusdm) and its keys; "
            "without --live a real venue runs as a dry-run on its live quotes"
        )


def apply_kill_switch_parameter(settings: Settings, action: str | None, run_id: str) -> None:
    """The ``kill_switch`` parameter, applied before any stage runs."""
    if action == "off":
        KillSwitch(settings.state_dir).reset()
    elif action == "on":
        reason = f"tripped by hand (pipeline parameter, run {run_id})"
        trip_kill_switch(settings.state_dir, settings.lake_dir, reason=reason, run_id=run_id)


@flow(name="pipeline", log_prints=True)
def pipeline(params: PipelineParameters | None = None) -> dict[str, Any]:
    """One full cycle on the configured venue; returns the cycle summary.

    Args:
        params: The cycle's universe, clock, seed, signal provider, sizing and mode; every
            field left empty takes its QBTC_* setting.
    """
    with flow_run_heartbeats():
        return run_pipeline_cycle(params or PipelineParameters())


def run_pipeline_cycle(p: PipelineParameters) -> dict[str, Any]:
    """The body of :func:`pipeline` (inside its flow run)."""
    settings = flow_settings(
        symbols=p.symbols,
        llm_provider=p.signal_provider,
        strategy=p.strategy,
        seed=p.seed,
        backfill_days=p.backfill_days,
        as_of=cycle_clock(p.as_of or flow_settings().as_of),
    )
    at = settings.as_of
    assert at is not None
    live = p.mode == "live" or settings.live
    check_live_venue(settings, live=live)
    if settings.exchange == SIM:  # another seed on this data dir is refused before any stage
        check_sim_seed(settings.state_dir, settings.seed, lake_dir=settings.lake_dir)
    p = p.model_copy(update={"mode": "live" if live else "paper"})
    mode = trading_mode(settings.exchange, live=live, testnet=settings.exchange_testnet)
    run_id = current_run_id()
    logger = get_run_logger()
    manifest = RunManifest(
        run_id=run_id,
        flow="pipeline",
        parameters=p.model_dump(mode="json") | {"mode": mode, "exchange": settings.exchange},
        seed=settings.seed,
        as_of=at,
        llm_model=settings.gemini_model if settings.llm_provider != "rules" else None,
    )
    try:
        record_run(settings.lake_dir, manifest)
        apply_kill_switch_parameter(settings, p.kill_switch, run_id)
        logger.info(
            "cycle %s at %s: %d symbols, provider %s, %s",
            run_id,
            at.isoformat(),
            len(settings.symbols),
            settings.llm_provider,
            mode,
        )
        report_progress("cycle", "pipeline", detail=run_id)
        # One Dask cluster (when configured) serves the cycle's heavy stages.
        with cycle_run(run_id), heavy_mapper(settings):
            results: dict[str, Any] = {}
            calls = stage_calls(p, settings, at, run_id, results)
            explain = partial(failure_reason, settings, run_id)
            results, durations, failure = run_stages(calls, results, explain)
    except BaseException as exc:  # the run is recorded as failed, whatever stopped it
        record_failed_run(settings, manifest, exc)
        if isinstance(exc, Exception) and is_disk_full(exc):
            raise StageFailedError(failure_reason(settings, run_id, exc)) from None
        raise
    report_progress("start", "catalog")
    started = time.perf_counter()
    try:  # a catalog problem never leaves the run unrecorded ("running" for good)
        refresh_catalog(settings.lake_dir, settings.catalog_path)
    except Exception as exc:
        logger.warning("catalog not refreshed: %s", exc)
    durations["catalog"] = time.perf_counter() - started
    report_progress("done", "catalog", durations["catalog"])
    message = f"stage {failure[0]} failed: {failure[1]}" if failure else None
    try:
        if not failure:
            message = warnings_message(settings, run_id, manifest.started_at)
        record_run(
            settings.lake_dir,
            manifest.finish(
                "failed" if failure else "completed",
                message,
                stage_durations=durations,
                snapshots=results,
                llm_model=answering_model(results.get("signals")),
            ),
        )
        report = read_cycle_summary(
            settings.lake_dir,
            run_id,
            portfolio_id=settings.portfolio_id,
            drawdown_limit=settings.max_drawdown,
        )
        publish_markdown("pipeline-summary", render_markdown(report), f"Cycle {run_id} at {at}")
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        # The disk filled: the run could not be recorded (it shows "running"); say it once.
        raise StageFailedError(message or failure_reason(settings, run_id, exc)) from None
    if failure:
        try:
            raise_alert(
                settings.lake_dir,
                event=STAGE_FAILED,
                run_id=run_id,
                message=message or "",
                severity="critical",
                details={"stage": failure[0]},
            )
        except Exception as exc:
            if not is_disk_full(exc):
                raise
        skipped = STAGES[STAGES.index(failure[0]) + 1 :] if failure[0] in STAGES else ()
        logger.error("%s; skipped: %s", message, ", ".join(skipped) or "none")
        raise StageFailedError(message)
    return report.to_dict()
