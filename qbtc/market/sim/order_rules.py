"""The simulated venue's checks of an order against its market, with Binance's answers.

The same rules as :mod:`qbtc.execution.venue_rules` (which rounds before sending), seen from
the venue's side: an order that is off the grid or outside the limits is refused with the
code, ccxt class and message Binance USD-M uses:

- ``-1111`` ``BadRequest`` "Precision is over the maximum defined for this asset." (amount
  not a whole number of lots);
- ``-4004`` / ``-4005`` ``BadRequest`` (amount below / above the limits);
- ``-4014`` ``BadRequest`` "Price not increased by tick size.";
- ``-4164`` ``InvalidOrder`` "Order's notional must be no smaller than N (unless you choose
  reduce only)." (reduce-only orders are exempt).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from qbtc.execution.venue_rules import VenueRules, amount_to_precision

#: (ccxt error class name, Binance code, message)
Refusal = tuple[str, int, str]


def on_grid(value: float, step: float) -> bool:
    """Whether ``value`` is a whole number of ``step`` (decimal arithmetic, as the venue)."""
    return amount_to_precision(value, step) == value or math.isclose(
        round(value / step) * step, value, rel_tol=1e-12, abs_tol=0.0
    )


def venue_refusal(
    market: Mapping[str, Any],
    amount: float,
    price: float | None,
    *,
    reduce_only: bool,
    mark: Callable[[], float],
) -> Refusal | None:
    """Why the venue refuses this order, or None; ``mark()`` values a market order."""
    rules = VenueRules.from_market(market)
    lot = rules.amount_step
    if lot is not None and not on_grid(amount / rules.contract_size, lot):
        return ("BadRequest", -1111, "Precision is over the maximum defined for this asset.")
    if rules.min_amount is not None and amount < rules.min_amount * (1 - 1e-12):
        return ("BadRequest", -4004, "Quantity less than min quantity.")
    if rules.max_amount is not None and amount > rules.max_amount * (1 + 1e-12):
        return ("BadRequest", -4005, "Quantity greater than max quantity.")
    step = rules.price_step
    if price is not None and step is not None and not on_grid(price, step):
        return ("BadRequest", -4014, "Price not increased by tick size.")
    if rules.min_cost is not None and not reduce_only:
        notional = amount * rules.contract_size * (price or mark())
        if notional < rules.min_cost:
            return (
                "InvalidOrder",
                -4164,
                f"Order's notional must be no smaller than {rules.min_cost:g} "
                "(unless you choose reduce only).",
            )
    return None
