"""Venue rules for every order, perps and options: lots, ticks, contract size and minimums.

A venue takes an order only on its grid: the amount a whole number of lots, the price a whole
number of ticks, and the order at least the venue's minimum amount and notional. These rules
come from the ccxt market structure (``precision`` and ``limits``), read once into
:class:`VenueRules`, and every order goes through :func:`apply_venue_rules` before it is sent,
on the simulated venue exactly as on a real one:

- **amount** (``precision.amount``, the lot, in contracts) is *truncated* towards zero, as
  ccxt's ``amount_to_precision`` does: rounding never sends more than was asked for;
- **price** (``precision.price``, the tick) is rounded to the nearest tick, half away from
  zero, as ccxt's ``price_to_precision`` does; a limit price that must not get worse
  (a buy's cap, a sell's floor) is rounded ``down`` for a buy and ``up`` for a sell instead;
- **contract size**: quantities in qbtc are in coins of the underlying (the intent's
  ``quantity``); a venue counts contracts of ``contractSize`` coins (1 on Binance USD-M, on
  Binance and Deribit options, and on the simulated venue), so the coin lot is
  ``precision.amount x contractSize``;
- **minimums**: an amount below ``limits.amount.min``, or a notional below
  ``limits.cost.min`` (quote currency), is refused with a reason before anything is sent.
  Like Binance (-4164 "unless you choose reduce only"), a reduce-only order is exempt from
  the minimum notional, so a small remainder can always be closed. An amount above
  ``limits.amount.max`` is refused too.

Markets are read in ccxt's ``TICK_SIZE`` precision mode (``precision.amount = 0.001`` is a
lot of 0.001), the mode of Binance, Deribit and the simulated venue in ccxt 4.5; a
``DECIMAL_PLACES`` market (``precision.amount = 3``) is converted with ``precision_mode``.
The arithmetic is decimal (``Decimal(str(x))``) and equals ccxt's ``decimal_to_precision``
(a property test checks it against ccxt itself), without importing ccxt here.

Intents are put on the grid (or refused) by :mod:`qbtc.execution.ruled_intents`; option
limit orders are priced by :mod:`qbtc.execution.limit_prices` (the limit-price policy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Literal

from qbtc.execution.intents import Side
from qbtc.market.contract_spec import market_in_coins
from qbtc.market.protocol import Exchange

PrecisionMode = Literal["tick_size", "decimal_places"]
Rounding = Literal["round", "down", "up"]


@dataclass(frozen=True)
class VenueRules:
    """The grid and minimums of one market (ccxt ``precision`` and ``limits``).

    Attributes
    ----------
    symbol : str
        The ccxt symbol.
    amount_step : float or None
        Lot size in contracts (None: no amount grid).
    price_step : float or None
        Tick size in the quote currency (coin for inverse options); None: no price grid.
    contract_size : float
        Coins of the underlying per contract (``contractSize``, 1 when the market says none).
    min_amount, max_amount : float or None
        Order size bounds in contracts.
    min_cost : float or None
        Minimum order notional in the quote currency (``limits.cost.min``).
    min_price, max_price : float or None
        Price bounds (quote currency).
    """

    symbol: str
    amount_step: float | None = None
    price_step: float | None = None
    contract_size: float = 1.0
    min_amount: float | None = None
    max_amount: float | None = None
    min_cost: float | None = None
    min_price: float | None = None
    max_price: float | None = None

    @classmethod
    def from_market(
        cls, market: Mapping[str, Any], *, precision_mode: PrecisionMode = "tick_size"
    ) -> VenueRules:
        """The rules of a ccxt market structure (``precision``, ``limits``, ``contractSize``)."""
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}

        def bound(kind: str, side: str) -> float | None:
            value = (limits.get(kind) or {}).get(side)
            return None if value is None else float(value)

        def step(value: Any) -> float | None:
            if value is None:
                return None
            if precision_mode == "decimal_places":
                return 10.0 ** -int(value)
            return float(value)

        return cls(
            symbol=str(market["symbol"]),
            amount_step=step(precision.get("amount")),
            price_step=step(precision.get("price")),
            contract_size=float(market.get("contractSize") or 1.0),
            min_amount=bound("amount", "min"),
            max_amount=bound("amount", "max"),
            min_cost=bound("cost", "min"),
            min_price=bound("price", "min"),
            max_price=bound("price", "max"),
        )

    def lot(self) -> float | None:
        """The coin quantity of one lot (``amount_step x contract_size``)."""
        return None if self.amount_step is None else self.amount_step * self.contract_size

    def round_quantity(self, quantity: float) -> float:
        """``quantity`` (coins, >= 0) truncated to whole lots: never more than asked for."""
        size = _step_decimal(self.contract_size)
        contracts = _decimal(quantity) / size
        if self.amount_step is not None:
            contracts = _truncate(contracts, _positive(self.amount_step, "lot size"))
        return float(contracts * size)

    def round_price(self, price: float, rounding: Rounding = "round") -> float:
        """``price`` on the tick grid (``round``: ccxt's ``price_to_precision``)."""
        if self.price_step is None:
            return price
        return price_to_precision(price, self.price_step, rounding=rounding)


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


@lru_cache(maxsize=4096, typed=True)
def _step_decimal(value: float) -> Decimal:
    """:func:`_decimal` of a market's lot, tick or contract size, made once per value: every
    order of every cycle is rounded on the same few steps."""
    return _decimal(value)


def _positive(step: float, name: str) -> Decimal:
    if not (step > 0 and math.isfinite(step)):
        raise ValueError(f"a {name} must be positive and finite, got {step}")
    return _step_decimal(step)


def _truncate(dec: Decimal, lot: Decimal) -> Decimal:
    missing = abs(dec) % lot
    return dec + missing if dec < 0 else dec - missing


def amount_to_precision(amount: float, step: float) -> float:
    """``amount`` truncated towards zero to a multiple of ``step`` (ccxt, TICK_SIZE)."""
    return float(_truncate(_decimal(amount), _positive(step, "lot size")))


def price_to_precision(price: float, step: float, *, rounding: Rounding = "round") -> float:
    """``price`` on a multiple of ``step``.

    ``round`` is ccxt's ``price_to_precision`` (nearest tick, half away from zero); ``down``
    and ``up`` round towards minus and plus infinity (a buy's cap, a sell's floor).
    """
    tick = _positive(step, "tick size")
    mode = {"round": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}[rounding]
    ticks = (_decimal(price) / tick).quantize(Decimal(1), rounding=mode)
    return float(ticks * tick)


@dataclass(frozen=True)
class RuledOrder:
    """An order on the venue's grid, or why it may not be sent.

    ``quantity`` in coins (rounded; the request when refused), ``price`` the rounded limit
    price (None for a market order), ``refusal`` None when the order may be sent.
    """

    quantity: float
    price: float | None
    refusal: str | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None


def apply_venue_rules(
    rules: VenueRules,
    quantity: float,
    *,
    reference_price: float,
    limit_price: float | None = None,
    side: Side = "buy",
    reduce_only: bool = False,
    price_rounding: Rounding = "round",
) -> RuledOrder:
    """Round an order to the venue's grid and check its minimums (see the module docstring).

    Parameters
    ----------
    rules : VenueRules
        The market's rules.
    quantity : float
        Requested size in coins (positive).
    reference_price : float
        Price (quote currency per coin) that values a market order's notional.
    limit_price : float, optional
        Limit price; rounded with ``price_rounding`` (``round``, or ``down``/``up``).
    side : {'buy', 'sell'}
        Only used in messages.
    reduce_only : bool
        Reduce-only orders are exempt from the minimum notional (as on Binance).

    Returns
    -------
    RuledOrder
        Rounded quantity and price, or the refusal reason (the order must not be sent).
    """
    symbol = rules.symbol
    rounded = rules.round_quantity(quantity)
    contracts = rounded / rules.contract_size
    price = None if limit_price is None else rules.round_price(limit_price, price_rounding)
    lot = rules.lot()

    def refuse(why: str) -> RuledOrder:
        return RuledOrder(quantity, price, f"venue rules: {why}")

    if rounded <= 0:
        return refuse(
            f"{side} {quantity:.10g} {symbol} is less than one lot ({lot:g}): nothing to send"
        )
    if rules.min_amount is not None and contracts < rules.min_amount * (1 - 1e-12):
        return refuse(
            f"amount {contracts:.10g} below the venue minimum {rules.min_amount:g} "
            f"contract(s) of {symbol}"
        )
    if rules.max_amount is not None and contracts > rules.max_amount * (1 + 1e-12):
        return refuse(
            f"amount {contracts:.10g} above the venue maximum {rules.max_amount:g} "
            f"contract(s) of {symbol}: slice the order"
        )
    if price is not None and price <= 0:
        return refuse(f"limit price {limit_price:g} rounds to no tick of {symbol}")
    if price is not None and rules.min_price is not None and price < rules.min_price:
        return refuse(f"limit price {price:g} below the venue minimum {rules.min_price:g}")
    if price is not None and rules.max_price is not None and price > rules.max_price:
        return refuse(f"limit price {price:g} above the venue maximum {rules.max_price:g}")
    notional = rounded * (price if price is not None else reference_price)
    if rules.min_cost is not None and not reduce_only and notional < rules.min_cost:
        return refuse(
            f"notional {notional:,.4f} below the venue minimum {rules.min_cost:g} "
            f"of {symbol} (only reduce-only orders may be smaller)"
        )
    return RuledOrder(rounded, price)


def market_rules(
    markets: Mapping[str, Mapping[str, Any]],
    symbols: Sequence[str],
    *,
    precision_mode: PrecisionMode = "tick_size",
) -> dict[str, VenueRules]:
    """Rules of the ``symbols`` a venue lists in ``markets`` (ccxt ``load_markets()``)."""
    return {
        s: VenueRules.from_market(markets[s], precision_mode=precision_mode)
        for s in symbols
        if s in markets
    }


def load_venue_rules(exchange: Exchange, symbols: Sequence[str]) -> dict[str, VenueRules]:
    """Rules of ``symbols`` from the venue's markets (``load_markets()``; network on ccxt).

    A symbol the venue does not list is absent, so
    :func:`qbtc.execution.ruled_intents.rule_intents` refuses its orders.
    A USD-sized market (Deribit's inverse perpetual) is read with amounts in coins
    (:func:`qbtc.market.contract_spec.market_in_coins`), as intents count them.
    """
    return listed_rules(exchange.load_markets(), symbols, exchange_id=exchange.id)


def listed_rules(
    markets: Mapping[str, Mapping[str, Any]], symbols: Sequence[str], *, exchange_id: str
) -> dict[str, VenueRules]:
    """:func:`load_venue_rules` on markets already loaded from the venue ``exchange_id``."""
    wanted = list(dict.fromkeys(symbols))
    in_coins = {
        s: market_in_coins(markets[s], exchange_id=exchange_id) for s in wanted if s in markets
    }
    return market_rules(in_coins, wanted)
