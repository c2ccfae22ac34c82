"""Flow ``backtest``: one backtest (:mod:`flows.backtest_sweep` runs a grid of them).

A backtest replays the live cycle's decisions over a window of the lake on a simulated clock
(:mod:`qbtc.backtest`). On the simulated venue a window the lake lacks is back-filled first
by the ``ingest`` flow's body, as a live cycle's first run does, and the tickers and option
chains every live cycle would have snapped are snapped at each decision time. Results go to
the lake (``backtests``, ``backtest_equity``, ``backtest_trades``, ``backtest_metrics``,
``backtest_sweeps``) and the tear sheet to ``<data_dir>/reports/backtests/``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from flows.common import flow_settings, publish_markdown, publish_table
from qbtc.backtest.config import BacktestConfig, BacktestInputError
from qbtc.backtest.runner import BacktestOutcome, execute_backtest
from qbtc.backtest.window import MarketWindow, load_window
from qbtc.config import Settings
from qbtc.lake import scan_dataset, write_dataset
from qbtc.portfolio.structures import StructureConfig
from qbtc.risk.cycle_inputs import RiskConfig
from qbtc.schemas import OPTION_QUOTES, TICKERS
from qbtc.signals import (
    SignalProvider,
    StrategyLoadError,
    make_provider,
)
from qbtc.symbols import base_currency

BUILT_IN = ("rules", "replay", "gemini")


class BacktestParameters(BaseModel):
    """Parameters of one backtest (the Prefect UI shows them as a form)."""

    model_config = ConfigDict(extra="forbid")

    start: datetime = Field(description="First decision time (UTC).")
    end: datetime = Field(description="Last decision time (UTC), included.")
    interval: str = Field("1h", description="Decision interval: 5m, 1h, 1d ...")
    symbols: list[str] | None = Field(None, description="Perps (ccxt form); default QBTC_SYMBOLS.")
    provider: str = Field(
        "rules",
        description="rules | replay | gemini | a user strategy (module:Class or entry point).",
    )
    seed: int | None = Field(None, description="Seed of the simulated venue and Monte Carlo.")
    initial_equity: float | None = Field(None, gt=0, description="USDT; default QBTC_CAPITAL.")
    fill_model: Literal["bars", "venue"] = Field(
        "bars",
        description="bars: last close + slippage + fee rate; venue: the simulated venue's fills.",
    )
    fee_rate: float = Field(0.0005, ge=0, lt=0.1, description="Fee, fraction of notional (bars).")
    slippage_bps: float = Field(0.0, ge=0, lt=1000, description="Slippage, bps of price (bars).")
    var_scenarios: int | None = Field(
        None, ge=100, description="Monte Carlo VaR scenarios per decision; default as live."
    )
    options: bool = Field(
        False, description="Trade the options leg too (option structures; venue fills only)."
    )
    target_vol: float | None = Field(
        None, gt=0, le=5, description="Annualised volatility target of the sizing; default as live."
    )
    replay_run_id: str | None = Field(None, description="replay: answers of this run only.")
    backfill: bool = Field(True, description="Back-fill a missing window on the simulated venue.")


def backtest_config(
    p: BacktestParameters, settings: Settings, sweep_id: str | None = None
) -> BacktestConfig:
    """The library's config from the form and the settings (defaults as the live cycle)."""
    return BacktestConfig(
        start=p.start,
        end=p.end,
        interval=p.interval,
        symbols=tuple(p.symbols or settings.symbols),
        provider=p.provider,
        seed=settings.seed if p.seed is None else p.seed,
        initial_equity=p.initial_equity or settings.capital,
        fill_model=p.fill_model,
        fee_rate=p.fee_rate,
        slippage_bps=p.slippage_bps,
        var_scenarios=p.var_scenarios or settings.mc_scenarios,
        options=p.options,
        target_vol=p.target_vol,
        replay_run_id=p.replay_run_id,
        portfolio_id=settings.portfolio_id,
        sweep_id=sweep_id,
    )


def backtest_provider(config: BacktestConfig, settings: Settings) -> SignalProvider:
    """The provider a backtest asks: built-in by name, else the user strategy it names."""
    from flows.signals import gemini_api_key, gemini_config

    name = config.provider
    key = gemini_api_key(settings, None) if name == "gemini" else None
    try:
        return make_provider(
            name if name in BUILT_IN else "strategy",  # type: ignore[arg-type]
            gemini=gemini_config(settings, key),
            lake_dir=settings.lake_dir,
            state_dir=settings.state_dir,
            symbols=list(config.symbols),
            replay_run_id=config.replay_run_id,
            strategy=None if name in BUILT_IN else name,
            strategy_fallback=settings.strategy_fallback,
        )
    except StrategyLoadError as exc:
        raise BacktestInputError(str(exc)) from None


def max_gap(settings: Settings) -> timedelta:
    """Longest gap in bars a backtest accepts: the age at which the live checks refuse marks."""
    return timedelta(seconds=settings.max_data_age_s)


def snap_decision_market(settings: Settings, config: BacktestConfig) -> dict[str, int]:
    """Tickers and option chains at every decision time (what each live cycle snaps)."""
    from qbtc.market.ingest import fetch_option_chains, fetch_tickers
    from qbtc.market.venue import open_exchange

    times = config.decision_times()
    have = set(
        scan_dataset(
            settings.lake_dir, TICKERS, symbols=list(config.symbols), start=times[0], end=times[-1]
        )
        .filter(pl.col("timestamp").is_in(times))
        .group_by("timestamp")
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") >= len(config.symbols))
        .collect()["timestamp"]
        .to_list()
    )
    underlyings = sorted(
        {base_currency(s) for s in config.symbols} & set(settings.option_underlyings)
    )
    tickers, chains = [], []
    for at in (t for t in times if t not in have):
        venue = open_exchange("sim", seed=config.seed, as_of=at, symbols=config.symbols)
        tickers.append(fetch_tickers(venue, config.symbols, as_of=at))
        if underlyings:
            chains.append(fetch_option_chains(venue, underlyings, as_of=at))
    written = {"tickers": 0, "option_quotes": 0}
    if tickers:
        written["tickers"] = write_dataset(
            settings.lake_dir, TICKERS, pl.concat(tickers)
        ).rows_written
    if chains:
        frame = pl.concat(chains)
        written["option_quotes"] = write_dataset(
            settings.lake_dir, OPTION_QUOTES, frame
        ).rows_written
    return written


def backfill_window(settings: Settings, config: BacktestConfig) -> None:
    """Fetch the window's bars and funding from the simulated venue (a live first run's
    back-fill at ``start``, then everything up to ``end``)."""
    from flows.ingest import ingest

    symbols = list(config.symbols)
    days = settings.backfill_days
    ingest.fn(symbols=symbols, days=days, as_of=config.start, seed=config.seed)
    span = (config.end - config.start).days + 1 + days
    ingest.fn(symbols=symbols, days=span, as_of=config.end, seed=config.seed)


@task(cache_policy=NO_CACHE)
def window_task(settings: Settings, config: BacktestConfig, backfill: bool) -> MarketWindow:
    """The window's market data (back-filled on the simulated venue when it lacks some)."""
    if settings.exchange == "sim":
        from qbtc.market.venue import VenueSeedError, check_sim_seed

        try:  # the data dir's simulated market is one seed's: never mix another in
            check_sim_seed(settings.state_dir, config.seed, lake_dir=settings.lake_dir)
        except VenueSeedError as exc:
            raise BacktestInputError(str(exc)) from None
    if settings.exchange == "sim" and backfill:
        try:
            load_window(settings.lake_dir, config, max_gap=max_gap(settings))
        except BacktestInputError:
            get_run_logger().info("the lake lacks part of the window: back-filling it first")
            backfill_window(settings, config)
        snap_decision_market(settings, config)
    return load_window(settings.lake_dir, config, max_gap=max_gap(settings))


@task(cache_policy=NO_CACHE)
def simulate_task(
    settings: Settings, config: BacktestConfig, window: MarketWindow
) -> BacktestOutcome:
    """Run, measure and store one backtest."""
    provider = backtest_provider(config, settings)
    risk = RiskConfig.from_settings(settings)
    # the options parameter decides, whatever QBTC_OPTIONS_ENABLED says for live cycles
    options = StructureConfig.from_settings(settings.model_copy(update={"options_enabled": True}))
    return execute_backtest(
        config,
        window,
        provider,
        risk,
        lake_dir=settings.lake_dir,
        reports_dir=reports_dir(settings),
        options=options,
    )


def reports_dir(settings: Settings) -> Path:
    return settings.data_dir / "reports" / "backtests"


def backtest_summary(outcome: BacktestOutcome) -> dict[str, Any]:
    run = outcome.run
    return {
        "backtest_id": run.backtest_id,
        "decisions": len(run.decisions),
        "trades": len(run.fills),
        "final_equity": run.final_equity,
        "metrics": {m.name: m.value for m in outcome.metrics},
        "tear_sheet": str(outcome.tear_sheet) if outcome.tear_sheet else None,
        "var_scenarios": run.config.var_scenarios,
        "fill_model": run.config.fill_model,
        "caveat": run.caveat,
        "wall_s": round(run.wall_s, 3),
    }


def publish_backtest(outcome: BacktestOutcome) -> None:
    run = outcome.run
    rows = [{"metric": m.name, "value": m.value, "unit": m.unit} for m in outcome.metrics]
    publish_table(f"backtest-{run.backtest_id}", rows, f"Backtest {run.backtest_id} metrics")
    lines = [
        f"**Backtest {run.backtest_id}** ({run.config.provider}, {run.config.fill_model} fills, "
        f"{run.config.var_scenarios:,} VaR scenarios per decision)",
        "",
        f"- window: {run.config.start:%Y-%m-%d %H:%M} to {run.config.end:%Y-%m-%d %H:%M} UTC "
        f"every {run.config.interval}, {len(run.decisions)} decisions, {len(run.fills)} fills",
        f"- tear sheet: `{outcome.tear_sheet}` (API: `/api/backtests/{run.backtest_id}/tear-sheet`)",
    ]
    lines += [f"- **{m.name}**: {m.value:,.6g} {m.unit}" for m in outcome.metrics]
    if run.caveat:
        lines.insert(1, f"> **Caveat:** {run.caveat}")
    publish_markdown(f"backtest-report-{run.backtest_id}", "\n".join(lines), "Backtest tear sheet")


@flow(name="backtest")
def backtest(params: BacktestParameters) -> dict[str, Any]:
    """One backtest of the live cycle's decisions over a window of the lake.

    Args:
        params: The window, universe, signal provider or strategy, sizing and costs of the
            backtest; every field left empty takes the live cycle's setting.
    """
    settings = flow_settings(seed=params.seed)
    config = backtest_config(params, settings)
    backtest_provider(config, settings)  # a strategy that fails to load stops here
    window = window_task(settings, config, params.backfill)
    outcome = simulate_task(settings, config, window)
    publish_backtest(outcome)
    return backtest_summary(outcome)
