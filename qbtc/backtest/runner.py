"""One backtest end to end: decide over the window, measure, write the tear sheet, store.

Nothing is stored before the whole backtest has run: the tear sheet file is written
atomically and the lake rows go last (``backtests`` after the others), so a failure leaves
no half-written backtest behind.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qbtc.backtest.config import BacktestConfig, BacktestInputError
from qbtc.backtest.engine import BacktestRun, run_backtest
from qbtc.backtest.execution import BarExecution, Execution, VenueExecution
from qbtc.backtest.metrics import Metric, compute_metrics
from qbtc.backtest.results import equity_frame, write_results
from qbtc.backtest.tearsheet import render_tear_sheet
from qbtc.backtest.window import MarketWindow
from qbtc.execution.venue_rules import VenueRules, load_venue_rules
from qbtc.portfolio.structures import StructureConfig
from qbtc.risk.cycle_inputs import RiskConfig
from qbtc.signals import SignalProvider

GEMINI_CAVEAT = (
    "signals came from an LLM (gemini), answered from the cache first: a model may know what "
    "happened in its training window, so a backtest over that period can look better than "
    "the model could have done live. Trust only windows after the model's training cut-off."
)


@dataclass(frozen=True)
class BacktestOutcome:
    """A stored backtest: the run, its metrics, where its tear sheet is, when it was stored."""

    run: BacktestRun
    metrics: list[Metric]
    tear_sheet: Path | None
    stored_at: datetime | None

    def metric(self, name: str) -> float:
        return next(m.value for m in self.metrics if m.name == name)


def caveat_for(provider: str) -> str | None:
    """The caveat a backtest of ``provider`` carries in its results and report."""
    return GEMINI_CAVEAT if provider == "gemini" else None


def _execution(
    config: BacktestConfig, window: MarketWindow, risk: RiskConfig, scratch: Path, run_id: str
) -> Execution:
    if config.fill_model == "venue":
        return VenueExecution(
            scratch,
            seed=config.seed,
            symbols=config.symbols,
            capital=config.initial_equity,
            portfolio_id=config.portfolio_id,
            funding=window.funding,
            max_decision_age_s=risk.limits.max_data_age_s,
            run_id=run_id,
        )
    return BarExecution(
        capital=config.initial_equity,
        portfolio_id=config.portfolio_id,
        fee_rate=config.fee_rate,
        slippage_bps=config.slippage_bps,
    )


def venue_rules(risk: RiskConfig, config: BacktestConfig) -> dict[str, VenueRules]:
    """The order venue's lots, ticks and minimums of the symbols, read once at ``start``
    (the live risk stage reads the same markets at every decision)."""
    from qbtc.market.venue import open_exchange

    try:
        venue = open_exchange(
            risk.exchange,
            seed=config.seed,
            as_of=config.start if risk.exchange == "sim" else None,
            symbols=config.symbols,
            testnet=risk.exchange_testnet,
        )
        return load_venue_rules(venue, config.symbols)
    except Exception as exc:
        raise BacktestInputError(
            f"the lots and minimums of {risk.exchange} could not be read ({exc}): set "
            "QBTC_EXCHANGE=sim to backtest with the simulated venue's rules"
        ) from None


def simulate(
    config: BacktestConfig,
    window: MarketWindow,
    provider: SignalProvider,
    risk: RiskConfig,
    *,
    options: StructureConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestRun:
    """Run the backtest in a scratch directory (its own kill switch and, for ``venue``
    fills, its own simulated venue and ledger); nothing outside it is written."""
    backtest_id = config.backtest_id(window.snapshot)
    with tempfile.TemporaryDirectory(prefix="qbtc-backtest-") as scratch:
        where = Path(scratch)
        own = dataclasses.replace(
            risk,
            lake_dir=where / "lake",
            state_dir=where / "state",
            portfolio_id=config.portfolio_id,
            capital=config.initial_equity,
            symbols=config.symbols,
            scenarios=config.var_scenarios,
            seed=config.seed,
            strategy=config.strategy,
            target_vol=config.target_vol or risk.target_vol,
        )
        execution = _execution(config, window, own, where, backtest_id)
        run = run_backtest(
            config,
            window,
            provider,
            own,
            execution,
            backtest_id=backtest_id,
            rules=venue_rules(own, config),
            options=options if config.options else None,
            progress=progress,
        )
    run.caveat = caveat_for(config.provider)
    return run


def measure(run: BacktestRun) -> list[Metric]:
    """The metrics of a run."""
    if not run.decisions:
        raise BacktestInputError("the window has no decision time: widen it")
    metrics = compute_metrics(
        [d.at for d in run.decisions],
        [d.equity for d in run.decisions],
        run.fills,
        initial_equity=run.config.initial_equity,
        interval=run.config.step,
        fees=run.fees[-1],
        funding=run.funding[-1],
    )
    if run.config.options:
        metrics += [
            Metric("option_theta_pnl", run.theta_pnl, "USDT (theta x days held)"),
            Metric("option_vega_pnl", run.vega_pnl, "USDT (vega x mark IV change)"),
        ]
    return metrics


def write_tear_sheet(run: BacktestRun, metrics: list[Metric], reports_dir: Path) -> Path:
    """Write ``<reports_dir>/<backtest_id>.html`` atomically; returns its path."""
    config = run.config
    page = render_tear_sheet(
        title=f"Backtest {run.backtest_id}: {config.provider}, {config.start:%Y-%m-%d %H:%M} "
        f"to {config.end:%Y-%m-%d %H:%M} UTC every {config.interval}",
        equity=equity_frame(run),
        metrics=metrics,
        initial_equity=config.initial_equity,
        parameters=config.parameters(),
        caveat=run.caveat,
    )
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / f"{run.backtest_id}.html"
    with tempfile.NamedTemporaryFile(
        "w", dir=reports_dir, suffix=".tmp", delete=False, encoding="utf-8"
    ) as handle:
        handle.write(page)
    os.chmod(handle.name, 0o644)  # a report to share, not a secret
    os.replace(handle.name, target)
    return target


def execute_backtest(
    config: BacktestConfig,
    window: MarketWindow,
    provider: SignalProvider,
    risk: RiskConfig,
    *,
    lake_dir: Path,
    reports_dir: Path,
    options: StructureConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestOutcome:
    """Simulate, measure, write the tear sheet, then store the results in the lake;
    ``options`` are the option structures' knobs (used when ``config.options``)."""
    run = simulate(config, window, provider, risk, options=options, progress=progress)
    metrics = measure(run)
    sheet = write_tear_sheet(run, metrics, reports_dir)
    stored = write_results(lake_dir, run, metrics, tear_sheet=sheet)
    return BacktestOutcome(run, metrics, sheet, stored)
