"""One execution cycle: reconcile with the venue, submit the accepted intents, snapshot the book.

Each step is a plain function so a flow can run it as a task. :func:`execution_lock` keeps
two cycles on one data directory from ever running at once (the flow also holds a Prefect
concurrency slot; this lock covers ``.fn()`` calls and scripts).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from qbtc.execution.brokers import Broker
from qbtc.execution.circuit import CircuitBreaker
from qbtc.execution.intents import OrderIntent
from qbtc.execution.ledger import Ledger
from qbtc.execution.ledger_view import CheckpointedLedger
from qbtc.execution.pnl import with_marks
from qbtc.execution.positions import OptionMark, option_mark_from_ticker, position_rows
from qbtc.execution.reconcile import Reconciler, ReconcileReport, Tolerance
from qbtc.execution.submit import KillSwitchLike, SubmissionResult, Submitter
from qbtc.lake import write_dataset
from qbtc.market.contracts import is_option_symbol
from qbtc.schemas import POSITIONS
from qbtc.statefile import exclusive_lock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExecutionConfig:
    """Where the book lives and the execution limits (from :class:`qbtc.config.Settings`)."""

    lake_dir: Path
    state_dir: Path
    portfolio_id: str = "main"
    capital: float = 1_000_000.0
    symbols: tuple[str, ...] = ()
    venue_error_threshold: int = 5
    circuit_cooldown_s: float = 300.0
    max_decision_age_s: float | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)

    def ledger(self) -> Ledger:
        """A ledger for one stage of one cycle, read through the book checkpoint in
        ``<state_dir>/ledger`` (:class:`~qbtc.execution.ledger_view.CheckpointedLedger`)."""
        return CheckpointedLedger(self.lake_dir, self.portfolio_id, self.state_dir / "ledger")

    def circuit(self) -> CircuitBreaker:
        return CircuitBreaker(
            self.state_dir,
            threshold=self.venue_error_threshold,
            cooldown_s=self.circuit_cooldown_s,
        )


def execution_lock(state_dir: Path) -> AbstractContextManager[None]:
    """Exclusive lock of the execution stage of one data directory (waits for the holder)."""
    return exclusive_lock(state_dir / "execution.lock")


def reconcile_book(
    broker: Broker, config: ExecutionConfig, *, run_id: str, kill_switch: KillSwitchLike
) -> ReconcileReport:
    """Reconcile the ledger with the venue (see :mod:`qbtc.execution.reconcile`)."""
    reconciler = Reconciler(
        broker,
        config.ledger(),
        kill_switch,
        run_id=run_id,
        capital=config.capital,
        symbols=config.symbols,
        tolerance=config.tolerance,
    )
    return reconciler.run()


def submit_intents(
    broker: Broker,
    config: ExecutionConfig,
    intents: Sequence[OrderIntent],
    *,
    run_id: str,
    kill_switch: KillSwitchLike,
    hold: str | None = None,
) -> list[SubmissionResult]:
    """Submit each intent once (idempotent: safe to retry or re-run); ``hold`` blocks risk-adding orders."""
    submitter = Submitter(
        broker,
        config.ledger(),
        config.circuit(),
        kill_switch,
        run_id=run_id,
        hold=hold,
        max_decision_age_s=config.max_decision_age_s,
    )
    return submitter.submit_all(intents)


def venue_marks(
    broker: Broker, symbols: Sequence[str]
) -> tuple[dict[str, float], dict[str, OptionMark]]:
    """Marks (USD per coin) of held ``symbols``: the venue's positions, else its tickers.

    An inverse option's coin mark is valued at the forward its ticker quotes (Deribit's
    0.2168 BTC at 38,992.71 is 8,453.62 USD); option forwards and IVs come with it. A symbol
    the venue cannot price (an expired option) is left out and logged.
    """
    marks: dict[str, float] = {}
    for position in broker.fetch_positions():
        if position.get("markPrice") is not None:
            marks[str(position["symbol"])] = float(position["markPrice"])
    option_marks: dict[str, OptionMark] = {}
    for symbol in symbols:
        if symbol in marks and not is_option_symbol(symbol):
            continue
        try:
            ticker = broker.exchange.fetch_ticker(symbol)
        except Exception as exc:
            log.warning("no mark for %s: %s", symbol, exc)
            continue
        option_mark = option_mark_from_ticker(ticker) if is_option_symbol(symbol) else None
        if option_mark is not None:
            option_marks[symbol] = option_mark
        if symbol not in marks:
            price = float(ticker.get("markPrice") or ticker.get("last") or 0.0)
            forward = option_mark.forward if option_mark is not None else None
            spec = broker.spec(symbol)
            if spec.premium_in_coin and forward is None:
                log.warning("no forward for %s: its coin mark cannot be valued in USD", symbol)
                continue
            marks[symbol] = spec.usd_price(price, forward)
    return marks, option_marks


def snapshot_positions(
    broker: Broker, config: ExecutionConfig, *, timestamp: datetime | None = None
) -> pl.DataFrame:
    """Write and return the book's positions at the venue clock, valued at venue marks."""
    ledger = config.ledger()
    at = timestamp or datetime.fromtimestamp(broker.exchange.milliseconds() / 1000, tz=UTC)
    unmarked = ledger.positions(until=at)
    ledger.save_checkpoint()
    held = [s for s, book in unmarked.items() if book.quantity != 0]
    marks, option_marks = venue_marks(broker, held)
    books = with_marks(unmarked, marks)
    frame = position_rows(
        books, portfolio_id=config.portfolio_id, timestamp=at, option_marks=option_marks
    )
    if frame.height:
        write_dataset(config.lake_dir, POSITIONS, frame)
    return frame


@dataclass(frozen=True)
class ExecutionReport:
    """One cycle: reconciliation, one result per intent, the positions written."""

    reconciliation: ReconcileReport
    results: tuple[SubmissionResult, ...]
    positions: pl.DataFrame


def run_execution(
    broker: Broker,
    config: ExecutionConfig,
    intents: Sequence[OrderIntent],
    *,
    run_id: str,
    kill_switch: KillSwitchLike,
) -> ExecutionReport:
    """Reconcile, submit and snapshot under :func:`execution_lock`."""
    with execution_lock(config.state_dir):
        report = reconcile_book(broker, config, run_id=run_id, kill_switch=kill_switch)
        results = submit_intents(broker, config, intents, run_id=run_id, kill_switch=kill_switch)
        positions = snapshot_positions(broker, config)
    return ExecutionReport(report, tuple(results), positions)
