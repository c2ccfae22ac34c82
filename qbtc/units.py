"""The desk's units: one convention for Greeks and risk figures wherever they are shown.

Every Greek qbtc stores, serves or prints follows this convention (the pricing functions in
``qbtc.pricing.greeks`` compute raw derivatives, per 1.00 of vol and per year, and are scaled
to it at the edge: ``Greeks.vega_per_vol_point``, ``Greeks.theta_per_day``):

- **delta**: premium change per 1 USDT move of the underlying's forward, i.e. coin of the
  underlying per contract; a position's delta is in coins (quantity × delta). In risk,
  ``delta_usd`` is delta × spot: USDT of P&L per 100% move, to first order.
- **gamma**: change of delta per 1 USDT move of the forward (per contract; per position:
  times the quantity). In risk, ``gamma_usd`` is dollar gamma: the change of ``delta_usd``
  for a 1% move.
- **vega**: premium change for a rise of one vol point (0.01 of annualised implied vol).
- **theta**: premium change for one calendar day passing (1/365 of a year), all else equal.

Money is in the premium's currency: USDT for linear options and perps, coin for inverse
(coin-settled) options; ``*_usd`` figures are always USDT. Volatilities and implied vols are
annualised fractions (0.55 = 55%); drawdown is a fraction of peak equity.

The text of :data:`GREEK_UNITS` and :data:`RISK_UNITS` is what field descriptions, API models
and table headers show, so a unit is written once.
"""

from __future__ import annotations

VOL_POINT = 0.01
"""One vol point in vol units (annualised fraction)."""

ONE_PERCENT = 0.01
"""A 1% relative move of the underlying."""

DAYS_PER_YEAR = 365.0
"""Calendar days per year (ACT/365, as ``qbtc.pricing.year_fraction``)."""

GREEK_UNITS: dict[str, str] = {
    "delta": "coin of underlying per contract (premium change per 1 USDT move of the forward)",
    "gamma": "change of delta per 1 USDT move of the forward",
    "vega": "premium change per vol point (0.01 of implied vol)",
    "theta": "premium change per calendar day",
}
"""Units of a contract's (or a position's) Greeks, in the premium currency."""

POSITION_GREEK_UNITS: dict[str, str] = {
    "delta": "coins of underlying (quantity × delta per contract)",
    "gamma": "change of the position's delta (coins) per 1 USDT move of the forward",
    "vega": "USDT per vol point (0.01 of implied vol)",
    "theta": "USDT per calendar day",
}
"""Units of a position's Greeks (options: quantity × per-contract Greeks; perps: delta only)."""

RISK_UNITS: dict[str, str] = {
    "delta_usd": "USDT per 100% move of the underlyings (delta × spot)",
    "gamma_usd": "USDT change of delta_usd per 1% move",
    "vega_usd": "USDT per vol point (0.01 of implied vol)",
    "theta_usd": "USDT per calendar day",
}
"""Units of the book's Greeks in ``risk_metrics`` (summed over underlyings, USDT)."""

RATIO_UNITS = (
    "annualised, from hourly equity returns over the last 30 days; null until a day of "
    "history (24 hourly returns)"
)
"""Window and annualisation of ``sharpe`` and ``sortino`` (``qbtc.risk.cycle_report``)."""

SHORT_UNITS: dict[str, str] = {
    "delta_usd": "USDT/100%",
    "gamma_usd": "USDT/1%",
    "vega_usd": "USDT/vol pt",
    "theta_usd": "USDT/day",
    "delta": "coin",
    "gamma": "/USDT",
    "vega": "/vol pt",
    "theta": "/day",
}
"""Short unit labels for table headers (``vega (USDT/vol pt)``)."""


def header(name: str) -> str:
    """A table header naming the unit, e.g. ``header("vega_usd") == "vega_usd (USDT/vol pt)"``."""
    unit = SHORT_UNITS.get(name)
    return f"{name} ({unit})" if unit else name
