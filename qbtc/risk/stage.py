"""The risk stage of a cycle: load inputs, assess the book, trip the kill switch on a
drawdown breach, and build the context pre-trade checks run in.

Each public function is what one Prefect task of ``flows/risk.py`` calls.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from qbtc.execution.intents import OrderIntent
from qbtc.execution.modes import data_on_testnet, trading_mode
from qbtc.execution.venue_rules import VenueRules, listed_rules, refuse_all, rule_intents
from qbtc.market.contracts import is_option_symbol
from qbtc.parallel import Mapper
from qbtc.quality import GateStatus, latest_gate
from qbtc.risk.assessment import Assessment, assess_book, unit_risks
from qbtc.risk.drawdown import current_drawdown
from qbtc.risk.factors import FactorModel, estimate_spot_risk, factor_model
from qbtc.risk.historical import historical_scenarios
from qbtc.risk.inputs import (
    Marks,
    PriceHistory,
    close_expired_options,
    load_closes,
    load_equity_history,
    load_marks,
    load_positions,
    load_signals,
    load_structure_ids,
    load_vol_views,
    load_working_orders,
)
from qbtc.risk.killswitch import KillSwitch, KillSwitchState
from qbtc.risk.limits import Breach, Limits, UnitRisk, breaches
from qbtc.risk.pretrade import PretradeContext
from qbtc.risk.ratios import sharpe, sortino
from qbtc.risk.valuation import ValuedBook, unit_book, value_book
from qbtc.symbols import base_currency


@dataclass(frozen=True)
class RiskConfig:
    """Plain settings of the risk stage (built from ``qbtc.config.Settings`` by entry points)."""

    lake_dir: Path
    state_dir: Path
    portfolio_id: str
    capital: float
    target_vol: float
    symbols: tuple[str, ...]
    timeframe: str
    limits: Limits
    band_usd: float
    scenarios: int
    seed: int
    confidence: float = 0.99
    horizon_days: float = 1.0
    price_bars: int = 1440
    threads: int = 2
    mapper: Mapper | None = None
    strategy: str = "qbtc"
    min_order_notional: float = 10.0
    exchange: str = "sim"
    exchange_testnet: bool = True
    """Whether the venue's markets are read from its testnet (only when orders go there)."""
    exchange_base_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> RiskConfig:
        """The stage's config from a ``Settings`` object, with explicit overrides."""
        config = cls(
            lake_dir=settings.lake_dir,
            state_dir=settings.state_dir,
            portfolio_id=settings.portfolio_id,
            capital=settings.capital,
            target_vol=settings.target_vol,
            symbols=tuple(settings.symbols),
            timeframe=settings.timeframe,
            limits=Limits.from_settings(settings),
            band_usd=settings.delta_hedge_band_usd,
            scenarios=settings.mc_scenarios,
            seed=settings.seed,
            exchange=settings.exchange,
            exchange_testnet=data_on_testnet(
                trading_mode(
                    settings.exchange, live=settings.live, testnet=settings.exchange_testnet
                )
            ),
            exchange_base_url=settings.exchange_base_url,
        )
        return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class CycleInputs:
    """Everything read from the lake and the state directory for one cycle."""

    as_of: datetime
    positions: pl.DataFrame
    marks: Marks
    signals: pl.DataFrame
    prices: PriceHistory
    equity_history: pl.DataFrame
    gate: GateStatus
    kill_switch: KillSwitchState
    vol_views: pl.DataFrame = dataclasses.field(default_factory=pl.DataFrame)
    structure_ids: dict[str, str] = dataclasses.field(default_factory=dict)
    working_orders: dict[str, float] = dataclasses.field(default_factory=dict)


def hedge_symbols(symbols: tuple[str, ...], positions: pl.DataFrame) -> list[str]:
    """Perps whose prices drive risk: the configured ones plus any held perp."""
    held = positions.filter((pl.col("quantity") != 0) & (pl.col("type") == "perp"))
    return list(dict.fromkeys([*symbols, *held["symbol"].to_list()]))


def load_cycle_inputs(config: RiskConfig, as_of: datetime) -> CycleInputs:
    """Read positions, marks, signals, prices, equity history, gate and kill switch."""
    positions = close_expired_options(
        load_positions(config.lake_dir, config.portfolio_id, as_of), as_of
    )
    perps = hedge_symbols(config.symbols, positions)
    prices = load_closes(
        config.lake_dir, perps, as_of, timeframe=config.timeframe, bars=config.price_bars
    )
    return CycleInputs(
        as_of=as_of,
        positions=positions,
        marks=load_marks(config.lake_dir, as_of),
        signals=load_signals(config.lake_dir, as_of),
        prices=prices,
        equity_history=load_equity_history(config.lake_dir, config.portfolio_id, as_of),
        gate=latest_gate(config.lake_dir),
        kill_switch=KillSwitch(config.state_dir).status(),
        vol_views=load_vol_views(config.lake_dir, as_of),
        structure_ids=load_structure_ids(config.lake_dir, config.portfolio_id),
        working_orders=load_working_orders(config.lake_dir, config.portfolio_id),
    )


@dataclass(frozen=True)
class RiskReport:
    """The assessed book: valuation, factor model, risk figures, equity and breaches."""

    as_of: datetime
    valued: ValuedBook
    model: FactorModel
    assessment: Assessment
    units: dict[str, UnitRisk]
    volatility: dict[str, float]
    correlation: dict[str, dict[str, float]]
    equity: float
    drawdown: float
    sharpe: float | None
    sortino: float | None
    breaches: tuple[Breach, ...]


def spot_model(
    prices: PriceHistory, underlyings: tuple[str, ...]
) -> tuple[FactorModel, dict[str, float], dict[str, dict[str, float]]]:
    """Factor model of ``underlyings`` from perp closes; vol and correlations of the perps."""
    vols, corr = estimate_spot_risk(prices.closes, prices.periods_per_year)
    by_base: dict[str, int] = {}
    for i, symbol in enumerate(prices.symbols):
        by_base.setdefault(base_currency(symbol), i)
    missing = [u for u in underlyings if u not in by_base]
    if missing:
        raise ValueError(f"no perp price history for underlying(s) {missing}: add their perps")
    idx = [by_base[u] for u in underlyings]
    model = factor_model(underlyings, vols[idx], corr[np.ix_(idx, idx)])
    names = prices.symbols
    correlation = {
        a: {b: float(corr[i, j]) for j, b in enumerate(names)} for i, a in enumerate(names)
    }
    return model, {s: float(vols[i]) for i, s in enumerate(names)}, correlation


# BLAS on one thread: the eigen-decompositions of a few hundred factors take ~15 ms on one,
# and up to a second on two threads of a busy 2-core machine (OpenBLAS threads spin on a
# core another process holds). The Monte Carlo revaluation keeps its own threads.
@threadpool_limits.wrap(limits=1, user_api="blas")
def assess_cycle(inputs: CycleInputs, config: RiskConfig) -> RiskReport:
    """Value and assess the book, and measure it against the limits."""
    valued = value_book(inputs.positions, inputs.marks, list(config.symbols))
    model, volatility, correlation = spot_model(inputs.prices, valued.book.underlyings)
    try:
        past_moves = historical_scenarios(
            inputs.prices, valued.book.underlyings, config.horizon_days
        )
    except ValueError:
        past_moves = None  # too little history: the method is left out, not made up
    assessment = assess_book(
        valued.book,
        model,
        confidence=config.confidence,
        horizon_days=config.horizon_days,
        scenarios=config.scenarios,
        seed=config.seed,
        threads=config.threads,
        history=past_moves,
        mapper=config.mapper,
    )
    units = unit_risks(valued.instruments, assessment.scenarios, config.threads)
    held_options = {
        s: (q, units[s]) for s, q in valued.holdings.items() if s in units and units[s].is_option
    }
    assessment = dataclasses.replace(
        assessment, state=dataclasses.replace(assessment.state, options=held_options)
    )
    equity = valued.equity(config.capital, inputs.positions)
    history = [*inputs.equity_history["equity"].to_list(), equity]
    drawdown = current_drawdown(history) if equity > 0 else 1.0
    ratios = _ratios(inputs.equity_history, inputs.as_of, equity)
    return RiskReport(
        as_of=inputs.as_of,
        valued=valued,
        model=model,
        assessment=assessment,
        units=units,
        volatility=volatility,
        correlation=correlation,
        equity=equity,
        drawdown=drawdown,
        sharpe=ratios[0],
        sortino=ratios[1],
        breaches=tuple(breaches(assessment.state, config.limits, max(equity, 1e-9))),
    )


#: Sharpe and Sortino: hourly equity returns over this window, annualised (365 × 24 hours).
RATIO_WINDOW = timedelta(days=30)
RATIO_STEP = "1h"
RATIO_PERIODS_PER_YEAR = 365.0 * 24.0
#: Hourly returns needed before the ratios are given (a day of history); None before that.
RATIO_MIN_RETURNS = 24


def _ratios(history: pl.DataFrame, as_of: datetime, equity: float) -> tuple[float | None, ...]:
    """Sharpe and Sortino of the book (``qbtc.units.RATIO_UNITS``); None until
    :data:`RATIO_MIN_RETURNS` hourly returns exist or when a ratio is undefined."""
    now = pl.DataFrame({"timestamp": [as_of], "equity": [equity]}, schema=history.schema)
    hourly = (
        pl.concat([history.filter(pl.col("timestamp") >= as_of - RATIO_WINDOW), now])
        .sort("timestamp")
        .group_by_dynamic("timestamp", every=RATIO_STEP)
        .agg(pl.col("equity").last())
    )
    values = hourly["equity"].to_numpy()
    if values.size < RATIO_MIN_RETURNS + 1 or np.any(values <= 0):
        return None, None
    returns = values[1:] / values[:-1] - 1.0
    out: list[float | None] = []
    for ratio in (sharpe, sortino):
        try:
            out.append(ratio(returns, RATIO_PERIODS_PER_YEAR))
        except ValueError:
            out.append(None)
    return tuple(out)


def enforce_drawdown(report: RiskReport, config: RiskConfig) -> KillSwitchState | None:
    """Trip the kill switch when the drawdown exceeds its limit; the new state if it tripped."""
    if report.drawdown <= config.limits.max_drawdown:
        return None
    switch = KillSwitch(config.state_dir)
    if switch.status().on:
        return None
    return switch.trip(
        f"drawdown {report.drawdown:.2%} beyond the limit {config.limits.max_drawdown:.2%} "
        f"(equity {report.equity:,.2f} USDT)"
    )


def with_option_units(
    inputs: CycleInputs, report: RiskReport, symbols: list[str], threads: int = 2
) -> RiskReport:
    """``report`` with unit risks and mark ages of the option ``symbols`` it lacks.

    Options a cycle plans to open are valued on their latest quote and revalued on the
    cycle's scenarios, so their checks see the same risk as the book's.
    """
    valued = report.valued
    rows = {r["symbol"]: r for r in inputs.marks.options.iter_rows(named=True)}
    book = valued.book
    new = [
        s
        for s in dict.fromkeys(symbols)
        if s not in report.units and s in rows and base_currency(s) in book.underlyings
    ]
    if not new:
        return report
    books = {s: unit_book(s, rows[s], book.underlyings, book.spot, inputs.as_of) for s in new}
    units = {**report.units, **unit_risks(books, report.assessment.scenarios, threads)}
    ages = dict(valued.mark_age_s)
    ages.update({s: (inputs.as_of - rows[s]["timestamp"]).total_seconds() for s in new})
    instruments = {**valued.instruments, **books}
    prices = dict(valued.prices)
    prices.update({s: float(rows[s]["underlying_price"]) for s in new})
    valued = dataclasses.replace(valued, instruments=instruments, mark_age_s=ages, prices=prices)
    return dataclasses.replace(report, units=units, valued=valued)


def pretrade_context(
    inputs: CycleInputs, report: RiskReport, config: RiskConfig
) -> PretradeContext:
    """The context pre-trade checks run in, with the kill switch read now."""
    return PretradeContext(
        state=report.assessment.state,
        units=report.units,
        equity=report.equity,
        mark_age_s=report.valued.mark_age_s,
        gate_passed=inputs.gate.passed,
        gate_reasons=inputs.gate.reasons,
        kill_switch=KillSwitch(config.state_dir).status(),
        stale_reason=stale_reason(inputs, report, config.limits.max_data_age_s),
    )


def stale_reason(inputs: CycleInputs, report: RiskReport, max_age_s: float) -> str | None:
    """Why the book or the signals are too old to trade on, or None."""
    reasons = []
    ages = report.valued.mark_age_s
    old = sorted(s for s in report.valued.holdings if ages.get(s, np.inf) > max_age_s)
    if old:
        reasons.append(f"marks of held {', '.join(old)} older than {max_age_s:,.0f} s")
    if not inputs.signals.is_empty():
        bar: datetime = inputs.signals["timestamp"].max()  # type: ignore[assignment]
        age = (inputs.as_of - bar).total_seconds()
        if age > max_age_s:
            reasons.append(f"signals are {age:,.0f} s old (limit {max_age_s:,.0f} s)")
    return "; ".join(reasons) or None


def apply_venue_rules_to(
    intents: list[OrderIntent], config: RiskConfig, as_of: datetime, prices: dict[str, float]
) -> tuple[OrderIntent, ...]:
    """Round the cycle's intents to the order venue's lots and ticks, refuse those below its
    minimums (:mod:`qbtc.execution.venue_rules`).

    The rules come from the markets of ``config.exchange`` (the venue orders go to) at
    ``as_of`` on the simulated venue; when they cannot be loaded every intent is refused
    with the reason (nothing is sent off the venue's grid).
    """
    return CycleVenueRules(config, as_of)(intents, prices)


class CycleVenueRules:
    """:func:`apply_venue_rules_to` for the several batches of one cycle's intents (option
    legs, then perps): the venue's markets are read once for every symbol of the universe
    and the first batch, and again only for a symbol not asked for yet."""

    def __init__(self, config: RiskConfig, as_of: datetime) -> None:
        self.config, self.as_of = config, as_of
        self.rules: dict[str, VenueRules] = {}
        self.asked: set[str] = set()

    def __call__(
        self, intents: list[OrderIntent], prices: dict[str, float]
    ) -> tuple[OrderIntent, ...]:
        if not intents:
            return ()
        symbols = [i.symbol for i in intents]
        if not self.asked.issuperset(symbols):
            try:
                self._load([*self.config.symbols, *symbols])
            except Exception as exc:
                why = f"venue rules: the markets of {self.config.exchange} could not be loaded ({exc})"
                return refuse_all(intents, why[:400])
        return rule_intents(intents, self.rules, prices)

    def _load(self, symbols: list[str]) -> None:
        from qbtc.market.venue import open_exchange

        config = self.config
        perps = [s for s in dict.fromkeys(symbols) if not is_option_symbol(s)]
        simulated = config.exchange == "sim"
        key = (config.seed, self.as_of, tuple(perps))
        listed = _SIM_MARKETS.get(key) if simulated else None
        if listed is None:
            venue = open_exchange(
                config.exchange,
                seed=config.seed,
                as_of=self.as_of if simulated else None,
                symbols=perps,
                testnet=config.exchange_testnet,
                base_url=config.exchange_base_url,
            )
            listed = (venue.id, venue.load_markets())
            if simulated:
                _SIM_MARKETS[key] = listed
                while len(_SIM_MARKETS) > _SIM_MARKETS_KEPT:
                    _SIM_MARKETS.popitem(last=False)
        self.rules.update(listed_rules(listed[1], symbols, exchange_id=listed[0]))
        self.asked.update(symbols)


#: The simulated venue lists the same markets for the same seed, clock and perps however often
#: it is asked (the listing is generated, not fetched): the stages of one cycle in one process
#: (decision, hedge) read it once. A real venue's markets are read each time.
_SIM_MARKETS: OrderedDict[tuple[int, datetime, tuple[str, ...]], tuple[str, Any]] = OrderedDict()
_SIM_MARKETS_KEPT = 4
