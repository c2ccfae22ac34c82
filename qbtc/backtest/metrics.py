"""Performance metrics of a backtest, each with its unit.

Returns are simple returns between decisions (fractions); annualisation uses 365 days a year
(crypto trades every day). The equity curve includes the initial equity at ``start``.
Ratios that are undefined (no dispersion, no loss, no drawdown) are NaN rather than a number
that would mislead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from qbtc.backtest.book import SimFill
from qbtc.execution.pnl import PositionBook
from qbtc.risk.drawdown import drawdown_series
from qbtc.risk.ratios import sharpe, sortino

YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str


def _ratio(function: object, returns: np.ndarray, per_year: float) -> float:
    try:
        return float(function(returns, per_year))  # type: ignore[operator]
    except ValueError:
        return math.nan


def drawdown_duration(times: Sequence[datetime], equity: np.ndarray) -> timedelta:
    """Longest time spent below a previous peak (from the peak to the recovery or the end)."""
    peak_at, longest, peak = times[0], timedelta(0), equity[0]
    for moment, value in zip(times, equity, strict=True):
        if value >= peak:
            peak, peak_at = value, moment
        longest = max(longest, moment - peak_at)
    return longest


def hit_rate(fills: Sequence[SimFill]) -> tuple[float, int]:
    """Share of position-reducing fills that realised a profit, and how many there were."""
    books: dict[str, PositionBook] = {}
    wins = closes = 0
    for fill in fills:
        book = books.setdefault(fill.intent.symbol, PositionBook())
        before = book.realized
        reduces = book.quantity != 0 and (book.quantity > 0) != (fill.intent.side == "buy")
        signed = fill.quantity if fill.intent.side == "buy" else -fill.quantity
        book.trade(signed, fill.price, 0.0, fill.timestamp)
        if reduces:
            closes += 1
            wins += book.realized > before
    return (wins / closes if closes else math.nan), closes


def compute_metrics(
    times: Sequence[datetime],
    equity: Sequence[float],
    fills: Sequence[SimFill],
    *,
    initial_equity: float,
    interval: timedelta,
    fees: float,
    funding: float,
) -> list[Metric]:
    """Every metric of ``backtest_metrics`` (see the module docstring)."""
    if not times:
        raise ValueError("a backtest without decisions has no metrics")
    curve = np.array([initial_equity, *equity], dtype=np.float64)
    stamps = [times[0] - interval, *times]
    span = stamps[-1] - stamps[0]
    years = span / YEAR
    total = float(curve[-1] / curve[0] - 1.0)
    annual = float((1.0 + total) ** (1.0 / years) - 1.0) if years > 0 and total > -1 else math.nan
    returns = curve[1:] / curve[:-1] - 1.0
    per_year = YEAR / interval
    drawdowns = drawdown_series(curve) if np.all(curve > 0) else np.ones_like(curve)
    deepest = float(drawdowns.max())
    traded = sum(abs(f.quantity * f.price) for f in fills)
    hits, reductions = hit_rate(fills)
    return [
        Metric("total_return", total, "fraction"),
        Metric("annual_return", annual, "fraction per year"),
        Metric("sharpe", _ratio(sharpe, returns, per_year), "annualised ratio"),
        Metric("sortino", _ratio(sortino, returns, per_year), "annualised ratio"),
        Metric("calmar", annual / deepest if deepest > 0 else math.nan, "ratio"),
        Metric("max_drawdown", deepest, "fraction of peak equity"),
        Metric(
            "max_drawdown_duration",
            drawdown_duration(stamps, curve) / timedelta(days=1),
            "days",
        ),
        Metric("turnover", traded / float(curve.mean()), "multiple of mean equity"),
        Metric("traded_notional", traded, "USDT"),
        Metric("hit_rate", hits, "fraction of position-reducing fills"),
        Metric("reducing_fills", float(reductions), "count"),
        Metric("trades", float(len(fills)), "count"),
        Metric("decisions", float(len(times)), "count"),
        Metric("fees", fees, "USDT paid"),
        Metric("funding", funding, "USDT received"),
        Metric("final_equity", float(curve[-1]), "USDT"),
    ]
