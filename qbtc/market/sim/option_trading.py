"""How the simulated venue trades and settles its options (pure functions, no state).

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

from dataclasses import dataclass

from qbtc.market.contracts import OptionContract

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
