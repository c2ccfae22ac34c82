"""The backtest loop: the live cycle's decision at every decision time, on a simulated clock.

Per decision time ``t`` (see :mod:`qbtc.backtest.pointintime` for what ``t`` may see):

1. the feature snapshot of the last bars closed at ``t`` goes to the signal provider (rules,
   replay, gemini or a user strategy) exactly as the ``signals`` stage sends it;
2. the risk stage's inputs (book, marks, signals, prices, equity history, kill switch) are
   assembled in memory and assessed with :func:`qbtc.risk.cycle_report.assess_cycle`; a drawdown
   beyond the limit trips the backtest's own kill switch (:func:`enforce_drawdown`);
3. :func:`qbtc.risk.decision.decide_cycle` plans the intents, rounds them to the venue's
   lots and ticks (rules read once per backtest without options) and checks them, as the
   ``risk`` flow's tasks do;
4. the accepted intents are filled by the chosen fill model
   (:mod:`qbtc.backtest.execution`), as the ``orders`` stage does;
5. the ``hedge`` stage: on the book the orders left, the book is assessed again and
   :func:`qbtc.risk.decision.hedge_topup` tops up each planned perp hedge whose option delta
   drifted outside its band (an option leg that filled in part); its accepted intents are
   filled like the others. The book after them is valued at ``t``'s marks: that equity joins
   the history the next decision's drawdown and ratios are computed from.

Features come from one pass over the window, the ``rules`` signals of every decision time
from one vectorised pass over their snapshots (:mod:`qbtc.signals.rules_batch`), the book
is kept running in memory, and the Monte Carlo VaR runs ``var_scenarios`` scenarios per
decision (reported with the results).
The loop keeps BLAS on one thread: its matrices are small (1,440 closes x the perps), and a
threaded BLAS spends far longer waking its threads than computing, worst on a busy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from qbtc.backtest.book import SimFill, book_equity
from qbtc.backtest.config import BacktestConfig, BacktestInputError
from qbtc.backtest.execution import Execution, FillMarket
from qbtc.backtest.loop_state import CachedKillSwitch, EquityHistory
from qbtc.backtest.pointintime import PointInTime
from qbtc.backtest.window import MarketWindow
from qbtc.execution.intents import OrderIntent
from qbtc.execution.venue_rules import VenueRules
from qbtc.portfolio.structures import StructureConfig
from qbtc.quality import GateStatus
from qbtc.risk.cycle_inputs import CycleInputs, RiskConfig
from qbtc.risk.cycle_report import assess_cycle
from qbtc.risk.decision import (
    HedgeTarget,
    decide_cycle,
    hedge_topup,
    hedge_trades,
    holds_options,
    plan_config,
    rules_rule,
)
from qbtc.risk.inputs import Marks, close_expired_options
from qbtc.risk.stage import enforce_drawdown
from qbtc.risk.valuation import value_book
from qbtc.schemas import POSITIONS, SIGNALS, VOL_VIEWS
from qbtc.signals import (
    LlmCall,
    ReplayMissingError,
    RulesProvider,
    SignalProvider,
    signals_frame,
    vol_views_frame,
)
from qbtc.signals.rules_batch import rules_signal_frames

#: The lake's bars passed the quality gate when they were ingested.
GATE_PASSED = GateStatus(passed=True, run_id=None, timestamp=None, reasons=())


@dataclass(frozen=True)
class Decision:
    """What one decision time decided and what it filled."""

    at: datetime
    intents: tuple[OrderIntent, ...]
    fills: tuple[SimFill, ...]
    equity: float
    var: float
    fallback_reason: str | None


@dataclass
class BacktestRun:
    """Everything a backtest produced, in memory (stored by :mod:`qbtc.backtest.results`)."""

    backtest_id: str
    config: BacktestConfig
    data_snapshot: str
    decisions: list[Decision] = field(default_factory=list)
    holdings: list[np.ndarray] = field(default_factory=list)
    notionals: list[tuple[float, float]] = field(default_factory=list)
    fees: list[float] = field(default_factory=list)
    funding: list[float] = field(default_factory=list)
    calls: list[LlmCall] = field(default_factory=list)
    wall_s: float = 0.0
    caveat: str | None = None
    theta_pnl: float = 0.0
    vega_pnl: float = 0.0

    @property
    def intents(self) -> list[OrderIntent]:
        return [i for d in self.decisions for i in d.intents]

    @property
    def fills(self) -> list[SimFill]:
        return [f for d in self.decisions for f in d.fills]

    @property
    def final_equity(self) -> float:
        return self.decisions[-1].equity if self.decisions else self.config.initial_equity


def _marks_by_symbol(frame: pl.DataFrame) -> dict[str, float]:
    return dict(zip(frame["symbol"].to_list(), frame["mark"].to_list(), strict=True))


@threadpool_limits.wrap(limits=1, user_api="blas")
def run_backtest(
    config: BacktestConfig,
    window: MarketWindow,
    provider: SignalProvider,
    risk: RiskConfig,
    execution: Execution,
    *,
    backtest_id: str,
    rules: Mapping[str, VenueRules],
    options: StructureConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestRun:
    """Run every decision of ``config`` over ``window`` (see the module docstring);
    ``rules`` are the order venue's lots, ticks and minimums per symbol, ``options`` the
    option structures' knobs when the options leg trades (None: perps only)."""
    started = time.perf_counter()
    times = config.decision_times()
    loop = _Loop(config, window, provider, risk, execution, backtest_id, rules, options, times)
    for step, at in enumerate(times):
        loop.step(at)
        if progress is not None:
            progress(step + 1, len(times))
    loop.run.wall_s = time.perf_counter() - started
    return loop.run


class _Loop:
    """The state one backtest carries from a decision to the next (book, equity history,
    open option structures, marks' IVs)."""

    def __init__(
        self,
        config: BacktestConfig,
        window: MarketWindow,
        provider: SignalProvider,
        risk: RiskConfig,
        execution: Execution,
        backtest_id: str,
        rules: Mapping[str, VenueRules],
        options: StructureConfig | None,
        times: list[datetime],
    ) -> None:
        self.config, self.window, self.provider = config, window, provider
        self.risk, self.execution, self.backtest_id = risk, execution, backtest_id
        # option markets come and go with expiries: with options, read them as live does
        self.rule = rules_rule(rules) if options is None else None
        self.options = options
        self.pit = PointInTime(
            window, times, price_bars=risk.price_bars, option_marks=options is not None
        )
        self.planning = plan_config(risk, options=options)
        self.run = BacktestRun(backtest_id, config, window.snapshot)
        self.positions = POSITIONS.empty()
        self.history = EquityHistory(len(times))
        self.structure_ids: dict[str, str] = {}
        self.ivs: dict[str, float] = {}
        self.previous: datetime | None = None
        self.index = {s: j for j, s in enumerate(window.symbols)}
        self.answers = self.answer_all(times)
        self.switch = CachedKillSwitch(risk.state_dir)

    def answer_all(
        self, times: list[datetime]
    ) -> dict[datetime, tuple[pl.DataFrame, pl.DataFrame]] | None:
        """The ``rules`` signals and vol views of every decision time, the signals from one
        vectorised pass (equal to asking at each time); None for another provider."""
        if not isinstance(self.provider, RulesProvider):
            return None
        snapshots = {t: self.pit.snapshot(t, self.config.symbols) for t in times}
        known = {t: s for t, s in snapshots.items() if s is not None}
        answers = rules_signal_frames(self.provider, list(known.values()), run_id=self.backtest_id)
        return dict(zip(known, answers, strict=True))

    def ask(self, at: datetime) -> tuple[pl.DataFrame, pl.DataFrame, str | None]:
        """Signals, vol views and any fallback reason of the provider at ``at``."""
        if self.answers is not None:
            if at in self.answers:
                signals, vol_views = self.answers[at]
                return signals, vol_views, None
            return SIGNALS.empty(), VOL_VIEWS.empty(), None
        snapshot = self.pit.snapshot(at, self.config.symbols)
        if snapshot is None:
            return SIGNALS.empty(), VOL_VIEWS.empty(), None
        try:
            result = self.provider.propose(snapshot, run_id=self.backtest_id)
        except ReplayMissingError as exc:
            raise BacktestInputError(f"decision at {at:%Y-%m-%d %H:%M} UTC: {exc}") from None
        self.run.calls.extend(result.calls)
        signals = signals_frame(result.signals).sort("symbol")
        return signals, vol_views_frame(result.vol_views).sort("underlying"), result.fallback_reason

    def inputs(self, at: datetime, signals: pl.DataFrame, vol_views: pl.DataFrame) -> CycleInputs:
        """What the risk stage would read from the lake at ``at``."""
        return CycleInputs(
            as_of=at,
            # only the options leg holds options (that may have expired)
            positions=self.positions
            if self.options is None
            else close_expired_options(self.positions, at),
            marks=self.pit.marks(at),
            signals=signals,
            prices=self.pit.prices(at),
            equity_history=self.history.frame(),
            gate=GATE_PASSED,
            kill_switch=self.switch.status(),
            vol_views=vol_views,
            structure_ids=dict(self.structure_ids),
            working_orders=self.execution.working_orders(),
        )

    def step(self, at: datetime) -> None:
        """One decision: ask, assess, decide, fill, hedge, value the book after it."""
        signals, vol_views, reason = self.ask(at)
        inputs = self.inputs(at, signals, vol_views)
        report = assess_cycle(inputs, self.risk)
        enforce_drawdown(report, self.risk, self.switch)
        made = decide_cycle(
            inputs,
            report,
            self.risk,
            self.planning,
            self.backtest_id,
            rule=self.rule,
            switch=self.switch,
        )
        mark_prices = _marks_by_symbol(inputs.marks.perps)
        closes = dict(zip(self.window.symbols, self.pit.last_closes(at).tolist(), strict=True))
        market = FillMarket(closes, mark_prices, self.pit.funding_between(self.previous, at))
        fills = self.fill(at, made.intents, market)
        hedged = self.hedge(at, signals, vol_views, made.hedges)
        if any(i.status == "accepted" for i in hedged):  # the live hedge_orders stage
            fills += self.fill(at, hedged, FillMarket(closes, mark_prices))
        equity = self.equity(inputs, mark_prices, at)
        self.history.append(at, equity)
        self.run.decisions.append(
            Decision(
                at,
                made.intents + hedged,
                tuple(fills),
                equity,
                report.assessment.full.var,
                reason,
            )
        )
        _record_book(self.run, self.positions, mark_prices, self.index)
        self.previous = at

    def fill(
        self, at: datetime, intents: tuple[OrderIntent, ...], market: FillMarket
    ) -> list[SimFill]:
        """The ``orders`` stage: fill the accepted intents, keep the book they leave."""
        accepted = [i for i in intents if i.status == "accepted"]
        fills, self.positions = self.execution.step(at, accepted, market)
        self.structure_ids |= {
            i.symbol: i.structure_id for i in accepted if i.structure_id is not None
        }
        return fills

    def hedge(
        self,
        at: datetime,
        signals: pl.DataFrame,
        vol_views: pl.DataFrame,
        hedges: tuple[HedgeTarget, ...],
    ) -> tuple[OrderIntent, ...]:
        """The ``hedge`` stage: re-hedge on the book the orders left, as the live cycle does
        after its orders (nothing to do without a planned hedge or a held option, and no
        risk assessment while every hedge is inside its band)."""
        if not hedges:
            return ()
        inputs = self.inputs(at, signals, vol_views)
        if not holds_options(inputs.positions):
            return ()
        targets = {hedge.underlying: hedge for hedge in hedges}
        valued = value_book(inputs.positions, inputs.marks, list(self.config.symbols))
        if not hedge_trades(valued, targets, self.planning.max_symbol_notional)[0]:
            return ()
        report = assess_cycle(inputs, self.risk)
        return hedge_topup(
            inputs,
            report,
            self.risk,
            self.planning,
            self.backtest_id,
            targets,
            rule=self.rule,
            switch=self.switch,
        )

    def equity(self, inputs: CycleInputs, mark_prices: dict[str, float], at: datetime) -> float:
        """The book's equity after the decision, valued at ``at``'s marks (USDT)."""
        if self.options is None:
            return book_equity(self.positions, mark_prices, self.risk.capital)
        valued = value_book(self.positions, inputs.marks, list(self.config.symbols))
        elapsed = at - (self.previous or at)
        self.ivs = _option_pnl(self.run, inputs.positions, self.ivs, inputs.marks, elapsed)
        return valued.equity(self.risk.capital, self.positions)


def _option_pnl(
    run: BacktestRun,
    held: pl.DataFrame,
    before: dict[str, float],
    marks: Marks,
    elapsed: timedelta,
) -> dict[str, float]:
    """Add the theta and vega PnL (USDT) of the options held since the last decision.

    Theta: each position's theta (USDT per day) over the days elapsed. Vega: its vega (USDT
    per vol point) times the change of its mark IV in vol points. Returns the IVs now.
    """
    now = dict(
        zip(marks.options["symbol"].to_list(), marks.options["mark_iv"].to_list(), strict=True)
    )
    theta = vega = 0.0
    if not held.is_empty():
        options = held.filter((pl.col("type") == "option") & (pl.col("quantity") != 0))
        for symbol, position_theta, position_vega in options.select(
            "symbol", "theta", "vega"
        ).rows():
            theta += (position_theta or 0.0) * elapsed / timedelta(days=1)
            if symbol in before and symbol in now and now[symbol] is not None:
                vega += (position_vega or 0.0) * (now[symbol] - before[symbol]) * 100.0
    run.theta_pnl += theta
    run.vega_pnl += vega
    return {s: v for s, v in now.items() if v is not None}


def _record_book(
    run: BacktestRun, positions: pl.DataFrame, marks: dict[str, float], index: dict[str, int]
) -> None:
    held = np.zeros(len(index))
    gross = net = fees = funding = 0.0
    names = ("symbol", "quantity", "fees", "funding", "mark_price")
    for symbol, quantity, fee, paid, mark in zip(
        *(positions[name].to_list() for name in names), strict=True
    ):
        if symbol in index:
            held[index[symbol]] = quantity
        value = quantity * marks.get(symbol, mark or 0.0)
        gross, net = gross + abs(value), net + value
        fees, funding = fees + fee, funding + paid
    run.holdings.append(held)
    run.notionals.append((gross, net))
    run.fees.append(fees)
    run.funding.append(funding)
