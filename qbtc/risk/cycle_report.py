"""The assessed book of a cycle: valuation, factor model, VaR and stress figures, equity,
drawdown, Sharpe and Sortino, and the limit breaches; option units added on demand.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from qbtc.risk.assessment import Assessment, assess_book, unit_risks
from qbtc.risk.cycle_inputs import CycleInputs, RiskConfig
from qbtc.risk.drawdown import current_drawdown
from qbtc.risk.factors import FactorModel, estimate_spot_risk, factor_model
from qbtc.risk.historical import historical_scenarios
from qbtc.risk.inputs import PriceHistory
from qbtc.risk.limits import Breach, UnitRisk, breaches
from qbtc.risk.ratios import sharpe, sortino
from qbtc.risk.valuation import ValuedBook, unit_book, value_book
from qbtc.symbols import base_currency


@dataclass(frozen=True)
class RiskReport:
    """The assessed book: valuation, factor model, risk figures, equity and breaches.

    Sharpe and Sortino are computed when first read (the records read them; a backtest's
    decisions never do), from the equity recorded before the cycle (``equity_history``).
    """

    as_of: datetime
    valued: ValuedBook
    model: FactorModel
    assessment: Assessment
    units: dict[str, UnitRisk]
    volatility: dict[str, float]
    correlation: dict[str, dict[str, float]]
    equity: float
    drawdown: float
    breaches: tuple[Breach, ...]
    equity_history: pl.DataFrame = field(repr=False, compare=False)

    @cached_property
    def _ratio_pair(self) -> tuple[float | None, ...]:
        return _ratios(self.equity_history, self.as_of, self.equity)

    @property
    def sharpe(self) -> float | None:
        return self._ratio_pair[0]

    @property
    def sortino(self) -> float | None:
        return self._ratio_pair[1]


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
    if idx == list(range(len(prices.symbols))):  # every perp, in order: no copy to pick them
        model = factor_model(underlyings, vols, corr)
    else:
        model = factor_model(underlyings, vols[idx], corr[np.ix_(idx, idx)])
    names = prices.symbols
    correlation = {
        a: dict(zip(names, row, strict=True)) for a, row in zip(names, corr.tolist(), strict=True)
    }
    return model, dict(zip(names, vols.tolist(), strict=True)), correlation


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
    history = np.append(inputs.equity_history["equity"].to_numpy(), equity)
    drawdown = current_drawdown(history) if equity > 0 else 1.0
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
        breaches=tuple(breaches(assessment.state, config.limits, max(equity, 1e-9))),
        equity_history=inputs.equity_history,
    )


#: Sharpe and Sortino: hourly equity returns over this window, annualised (365 × 24 hours).
RATIO_WINDOW = timedelta(days=30)
RATIO_STEP = timedelta(hours=1)
RATIO_PERIODS_PER_YEAR = 365.0 * 24.0
#: Hourly returns needed before the ratios are given (a day of history); None before that.
RATIO_MIN_RETURNS = 24
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _ratios(history: pl.DataFrame, as_of: datetime, equity: float) -> tuple[float | None, ...]:
    """Sharpe and Sortino of the book (``qbtc.units.RATIO_UNITS``); None until
    :data:`RATIO_MIN_RETURNS` hourly returns exist or when a ratio is undefined.

    The equity of each hour (UTC, from the epoch) is the last one recorded in it, ``equity``
    at ``as_of`` included; hours without a record are left out. Arrays, not a polars query:
    a backtest asks at every decision.
    """
    stamps = _epoch_us(history["timestamp"])
    recent = stamps >= (as_of - RATIO_WINDOW - _EPOCH) // _MICROSECOND
    stamps = np.append(stamps[recent], (as_of - _EPOCH) // _MICROSECOND)
    values = np.append(history["equity"].to_numpy()[recent], equity)
    order = np.argsort(stamps, kind="stable")
    hours = stamps[order] // (RATIO_STEP // _MICROSECOND)
    values = values[order][np.append(hours[1:] != hours[:-1], True)]
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


def _epoch_us(stamps: pl.Series) -> np.ndarray:
    """Microseconds since the epoch of a datetime column (its own integers when they are
    microseconds already: ``dt.epoch`` is a polars query, ~20 us at every decision)."""
    dtype = stamps.dtype
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "us" and not stamps.null_count():
        return stamps.cast(pl.Int64).to_numpy()
    return stamps.dt.epoch("us").to_numpy()


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
