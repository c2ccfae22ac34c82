"""Portfolio Greeks and notional exposure across perps and options.

Units (all money in USDT; the desk's convention, ``qbtc.units``):

* ``delta_coin``: coins of the underlying the book is long (perps plus option deltas).
* ``delta_usd``: ``delta_coin`` times the spot price (P&L per 100% move, to first order).
* ``gamma_usd``: change of ``delta_usd`` for a 1% move up (``sum q Gamma F^2 / 100``).
* ``vega_usd``: P&L for a one vol point rise of implied vol (0.01 in vol units).
* ``theta_usd``: first-order portfolio theta per calendar day, ``sum q * theta / 365`` (the
  Black-76 ``theta`` of each option held, USDT per year, over 365): the linear estimate of one
  day passing with spot and vol unchanged, not a full revaluation a day later.

Option deltas are Black-76 forward deltas scaled by ``F / S`` (forwards move with spot), and
options count in notional at their delta-equivalent ``|q Delta F|``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qbtc.risk.book import Book
from qbtc.risk.revaluation import Sensitivities, option_greeks, sensitivities
from qbtc.units import DAYS_PER_YEAR, ONE_PERCENT, VOL_POINT


@dataclass(frozen=True)
class UnderlyingGreeks:
    """Greeks of every position on one underlying (units in the module docstring)."""

    underlying: str
    spot: float
    delta_coin: float
    delta_usd: float
    gamma_usd: float
    vega_usd: float
    theta_usd: float


@dataclass(frozen=True)
class PortfolioGreeks:
    """Greeks per underlying and summed in USDT (coin deltas do not add across coins)."""

    by_underlying: tuple[UnderlyingGreeks, ...]
    delta_usd: float
    gamma_usd: float
    vega_usd: float
    theta_usd: float


@dataclass(frozen=True)
class Exposure:
    """Notional exposure: gross (sum of absolute), net (signed sum), per symbol (signed)."""

    gross_notional: float
    net_notional: float
    by_symbol: dict[str, float]

    def leverage(self, equity: float) -> float:
        """Gross notional over equity (USDT / USDT)."""
        if not equity > 0:
            raise ValueError(f"equity must be positive to compute leverage, got {equity}")
        return self.gross_notional / equity


def portfolio_greeks(
    book: Book, *, per_underlying: bool = True, sens: Sensitivities | None = None
) -> PortfolioGreeks:
    """Delta (coin and USDT), dollar gamma, vega and theta of the book per underlying
    (``per_underlying=False``: the sums alone, ``by_underlying`` empty); ``sens``: the
    book's :func:`~qbtc.risk.revaluation.sensitivities` when the caller has them."""
    sens = sensitivities(book) if sens is None else sens
    delta_usd = sens.delta
    gamma, vega, theta = sens.gamma * ONE_PERCENT, sens.vega * VOL_POINT, sens.theta / DAYS_PER_YEAR
    rows: tuple[UnderlyingGreeks, ...] = ()
    if per_underlying:  # element-wise arrays as Python floats at once (tolist), then rows
        rows = tuple(
            UnderlyingGreeks(name, *values)
            for name, *values in zip(
                book.underlyings,
                book.spot.tolist(),
                (delta_usd / book.spot).tolist(),
                delta_usd.tolist(),
                gamma.tolist(),
                vega.tolist(),
                theta.tolist(),
                strict=True,
            )
        )
    return PortfolioGreeks(
        by_underlying=rows,
        delta_usd=float(delta_usd.sum()),
        gamma_usd=float(gamma.sum()),
        vega_usd=float(vega.sum()),
        theta_usd=float(theta.sum()),
    )


def exposure(book: Book) -> Exposure:
    """Signed notional per symbol, gross and net notional of the book (USDT)."""
    by_symbol: dict[str, float] = {}
    perps, opts = book.perps, book.options
    for symbol, qty, price in zip(perps.symbols, perps.quantity, perps.price, strict=True):
        by_symbol[symbol] = by_symbol.get(symbol, 0.0) + float(qty * price)
    if opts.size:
        deltas = option_greeks(opts)["delta"] * opts.quantity * opts.forward
        for symbol, value in zip(opts.symbols, deltas, strict=True):
            by_symbol[symbol] = by_symbol.get(symbol, 0.0) + float(value)
    values = np.array(list(by_symbol.values()) or [0.0])
    return Exposure(
        gross_notional=float(np.abs(values).sum()),
        net_notional=float(values.sum()),
        by_symbol=by_symbol,
    )


def options_delta_coin(book: Book, *, expired: bool = True) -> dict[str, float]:
    """Net delta of the option legs alone per underlying, in coins (``sum q Delta F / S``).

    ``expired=False`` leaves out legs at or past expiry (awaiting settlement: nothing to hedge).
    """
    out = dict.fromkeys(book.underlyings, 0.0)
    opts = book.options
    if opts.size:
        deltas = option_greeks(opts)["delta"] * opts.quantity * opts.forward
        live = np.ones(opts.size, bool) if expired else opts.expiry > 0
        for u, value, keep in zip(opts.underlying, deltas, live, strict=True):
            if keep:
                out[book.underlyings[u]] += float(value / book.spot[u])
    return out
