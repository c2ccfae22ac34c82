"""How the simulated venue trades and settles its options.

The simulated options are **linear**: European options on BTC and ETH, premium, fees and
settlement in USDT per 1 coin of underlying (Binance European Options and OKX/Bybit USDT
options work this way; Deribit's coin-settled options are the inverse kind, traded through
ccxt). Linear keeps one currency, USDT, through marks, PnL and risk on the simulator; coin
amounts of inverse venues are converted by the one rule of :mod:`qbtc.market.contract_spec`.

- **Fills.** An order fills against the chain's quote at the venue clock: a buy at the ask
  when its limit is at or above it, a sell at the bid when its limit is at or below it, for at
  most the quoted size (``askVolume`` / ``bidVolume``); the rest of a limit order rests and
  fills, as a maker at its own price, when a later quote crosses it (the quote refreshes every
  minute, with its size). A market order takes what is quoted and the rest expires (IOC).
- **Fees** (Deribit's schedule): ``rate`` (0.03%) of the underlying's index per contract,
  capped at ``cap`` (12.5%) of the option's price: ``min(rate x index, cap x price) x qty``.
- **Settlement** (Deribit's rule): at expiry (08:00 UTC) each open position is settled at
  the delivery price, the average of the underlying's index over the 30 one-minute bars
  before expiry (07:30-08:00 UTC); the payoff per contract is ``max(S - K, 0)`` for a call
  and ``max(K - S, 0)`` for a put; a delivery fee of ``delivery_rate`` (0.015%) of the
  delivery price per contract, capped at 12.5% of the payoff, is charged on options that
  finish in the money. Open orders on the option expire with it.
- **Margin**: a long option needs its premium; a short one its mark plus
  ``max(0.15 x index - out-of-the-money amount, 0.1 x index)`` per contract (Deribit's
  standard margin for a short option, in USDT).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from qbtc.market.contracts import OptionContract, is_option_symbol, parse_option_symbol
from qbtc.market.settlement import expiry_value
from qbtc.market.sim.trading_state import AccountState, OrderRecord

SETTLEMENT_WINDOW_MS = 30 * 60_000


@dataclass(frozen=True)
class OptionFees:
    """Deribit-style option fee schedule (fractions)."""

    rate: float = 0.0003
    cap: float = 0.125
    delivery_rate: float = 0.00015


def option_fee(quantity: float, price: float, index: float, fees: OptionFees) -> float:
    """Trading fee (USDT) of ``quantity`` contracts at ``price``: ``min(rate x index, cap x
    price) x quantity``."""
    return min(fees.rate * index, fees.cap * price) * quantity


def delivery_fee(quantity: float, value: float, delivery_price: float, fees: OptionFees) -> float:
    """Delivery fee (USDT) of ``quantity`` contracts worth ``value`` each at expiry."""
    if value <= 0:
        return 0.0
    return min(fees.delivery_rate * delivery_price, fees.cap * value) * abs(quantity)


@dataclass(frozen=True)
class Touch:
    """The quote an option order meets: best bid and ask (USDT, None when not quoted),
    their sizes (contracts) and the underlying's index (USDT)."""

    bid: float | None
    ask: float | None
    bid_size: float
    ask_size: float
    index: float


def fillable(
    side: str, limit: float | None, touch: Touch, remaining: float, minutes: float
) -> tuple[float, float]:
    """Quantity and price an option order fills at now against ``touch``.

    ``minutes`` is how long the quote has had to refresh (1 for a new order): each refresh
    offers the quoted size again. Returns ``(0, 0)`` when nothing fills.
    """
    price = touch.ask if side == "buy" else touch.bid
    size = touch.ask_size if side == "buy" else touch.bid_size
    if price is None or size <= 0:
        return 0.0, 0.0
    if limit is not None and (price - limit) * (1 if side == "buy" else -1) > 0:
        return 0.0, 0.0
    return min(remaining, size * max(minutes, 1.0)), price


def short_margin(contract: OptionContract, mark: float, index: float) -> float:
    """Initial margin (USDT per contract) of a short option: mark plus Deribit's minimum."""
    if contract.is_call:
        out_of_money = max(contract.strike - index, 0.0)
    else:
        out_of_money = max(index - contract.strike, 0.0)
    return mark + max(0.15 * index - out_of_money, 0.1 * index)


def touch_of(ticker: Mapping[str, Any]) -> Touch:
    """The quote of a ccxt option ticker (bid, ask, their sizes, the index)."""
    return Touch(
        bid=ticker.get("bid"),
        ask=ticker.get("ask"),
        bid_size=float(ticker.get("bidVolume") or 0.0),
        ask_size=float(ticker.get("askVolume") or 0.0),
        index=float(ticker.get("indexPrice") or 0.0),
    )


def match_option(
    account: AccountState,
    order: OrderRecord,
    ticker: Mapping[str, Any],
    now: int,
    *,
    minutes: float,
    resting: bool,
    fees: OptionFees,
) -> bool:
    """Fill ``order`` against the option's quote at ``now``; True when the order changed.

    A resting limit order fills at its own price (a maker); a market order's unquoted rest
    expires (immediate or cancel).
    """
    touch = touch_of(ticker)
    quantity, price = fillable(order.side, order.price, touch, order.remaining, minutes)
    if quantity > 0:
        if resting and order.price is not None:
            price = order.price
        fee = option_fee(quantity, price, touch.index, fees)
        order.add_fill(quantity, price, fee, now)
        account.apply_fill(order.symbol, order.side, quantity, price, fee)
    if order.type == "market" and order.status == "open":
        order.status, order.updated_ms = "expired", now
        return True
    return quantity > 0


def is_expired(symbol: str, now: int) -> bool:
    """Whether ``symbol`` is an option whose expiry is at or before ``now`` (ms)."""
    if not is_option_symbol(symbol):
        return False
    return parse_option_symbol(symbol).expiry.timestamp() * 1000 <= now


def settle_expired(
    account: AccountState,
    now: int,
    delivery_price: Callable[[str, int], float],
    fees: OptionFees,
) -> None:
    """Expire open orders on options past expiry, then settle each such position at its
    delivery price (``delivery_price(underlying, expiry_ms)``), realising its PnL."""
    for order in account.orders.values():
        if order.status == "open" and is_expired(order.symbol, now):
            order.status, order.updated_ms = "expired", now
            account.touch(order)
    for symbol, position in sorted(account.positions.items()):
        if position.quantity == 0 or not is_expired(symbol, now):
            continue
        contract = parse_option_symbol(symbol)
        expiry_ms = int(contract.expiry.timestamp() * 1000)
        delivery = delivery_price(contract.base, expiry_ms)
        value = expiry_value(contract, delivery)
        fee = delivery_fee(position.quantity, value, delivery, fees)
        account.settle(symbol, contract, expiry_ms, delivery, value, fee)
