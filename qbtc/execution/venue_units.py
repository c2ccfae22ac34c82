"""Venue order and position structures in the book's units: coins and USD.

The ledger, PnL, positions and risk count quantities in coins of the underlying and money in
USD. A venue answers in its own units (see :mod:`qbtc.market.contract_spec`): Deribit sizes
its inverse perpetuals in USD and prices its options and fees in coin. These functions take a
ccxt order or position structure and return the same structure in the book's units, so
everything after the broker sees one convention:

- ``amount``, ``filled``, ``contracts``: coins of the underlying (``contractSize`` 1);
- ``price``, ``average``, ``entryPrice``, ``markPrice``: USD per coin (a coin premium times
  the underlying price the venue quotes with the option);
- ``fee.cost``, ``unrealizedPnl``: USD (a coin amount times the coin's price), with the
  venue's original figures kept under ``venue``;
- ``clientOrderId``: the venue's client id field when ccxt leaves it empty (Deribit's
  ``label``, Bybit's ``orderLinkId``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qbtc.market.contract_spec import ContractSpec, coin_to_usd, is_stablecoin

_CLIENT_ID_KEYS = ("label", "orderLinkId", "clOrdId", "clientOrderId", "newClientOrderId")


def _number(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def client_id_of(order: Mapping[str, Any]) -> str | None:
    """The client order id of a ccxt order, from ccxt's field or the venue's own."""
    if order.get("clientOrderId"):
        return str(order["clientOrderId"])
    info = order.get("info") or {}
    for key in _CLIENT_ID_KEYS:
        if info.get(key):
            return str(info[key])
    return None


def underlying_price_of(order: Mapping[str, Any]) -> float | None:
    """The underlying price the venue quoted with an option order's trades (Deribit's
    ``underlying_price`` on each trade), when the answer carries trades."""
    for trade in (order.get("info") or {}).get("trades") or order.get("trades") or []:
        source = trade.get("info", trade) if isinstance(trade, Mapping) else {}
        value = _number(source.get("underlying_price"))
        if value:
            return value
    return None


def _usd_fee(fee: Any, spec: ContractSpec, *, coin_price: float | None) -> dict[str, Any] | None:
    """A fee in the instrument's coin converted to USD; a stablecoin fee as is; a fee in a
    third currency (BNB) is left in it."""
    if not isinstance(fee, Mapping) or fee.get("cost") is None:
        return None
    cost = float(fee["cost"])
    currency = str(fee.get("currency") or spec.settle)
    if currency in (spec.base, spec.settle) and not is_stablecoin(currency):
        if not coin_price:
            raise ValueError(f"{spec.symbol}: a fee in {currency} needs its price to count USD")
        return {"cost": coin_to_usd(cost, coin_price), "currency": "USD"}
    return {"cost": cost, "currency": currency}


def order_in_book_units(
    order: Mapping[str, Any],
    spec: ContractSpec,
    *,
    underlying_price: float | None = None,
    reference_price: float | None = None,
) -> dict[str, Any]:
    """A ccxt order structure in coins and USD (see the module docstring).

    ``underlying_price`` (USD per coin) values an inverse option's premium and a coin fee;
    ``reference_price`` (USD per coin) converts a USD amount with nothing filled yet.
    """
    out = dict(order)
    out["clientOrderId"] = client_id_of(order)
    underlying = underlying_price_of(order) or underlying_price
    average, price = _number(order.get("average")), _number(order.get("price"))
    if spec.premium_in_coin:
        average = None if average is None else spec.usd_price(average, underlying)
        price = None if price is None else spec.usd_price(price, underlying)
    valuation = average or price or reference_price or underlying
    amount, filled = _number(order.get("amount")), _number(order.get("filled"))
    if spec.amount_in_usd or (spec.inverse and not spec.option):
        if valuation is None:
            raise ValueError(f"{spec.symbol}: a USD-sized order needs a price to count coins")
        filled_at = average or valuation
        amount = None if amount is None else spec.coins(amount, valuation)
        filled = None if filled is None else spec.coins(filled, filled_at)
    else:
        amount = None if amount is None else spec.coins(amount, 1.0)
        filled = None if filled is None else spec.coins(filled, 1.0)
    coin_price = underlying if spec.option and underlying else valuation
    fee = _usd_fee(order.get("fee"), spec, coin_price=coin_price)
    out.update(amount=amount, filled=filled, average=average, price=price, fee=fee)
    # the USD price of the underlying the coin premium and fee were converted at (a paper
    # book that filled a coin option in USD says it itself: qbtc.market.dryrun)
    out["underlyingPrice"] = (
        underlying if spec.premium_in_coin else _number(order.get("underlyingPrice"))
    )
    out["venue"] = {k: order.get(k) for k in ("amount", "filled", "average", "price", "fee")}
    return out


def signed_venue_size(position: Mapping[str, Any]) -> float:
    """A ccxt position's size in the venue's own amount unit, signed (long > 0).

    ccxt's ``contracts`` is positive on most venues but Deribit's ``size`` is signed
    already, so the sign comes from ``side``, never from multiplying the two.
    """
    size = abs(float(position.get("contracts") or 0.0))
    return -size if position.get("side") == "short" else size


def position_in_book_units(
    position: Mapping[str, Any], spec: ContractSpec, *, underlying_price: float | None = None
) -> dict[str, Any]:
    """A ccxt position structure in coins and USD (``contracts`` in coins, positive).

    ``underlying_price`` values an inverse option's coin mark and entry price (and any coin
    PnL); a USD-sized perpetual is counted in coins at its mark (Deribit's
    ``size_currency`` when given).
    """
    info = position.get("info") or {}
    out = dict(position)
    mark, entry = _number(position.get("markPrice")), _number(position.get("entryPrice"))
    size = abs(signed_venue_size(position))
    if spec.premium_in_coin:
        mark = None if mark is None else spec.usd_price(mark, underlying_price)
        entry = None if entry is None else spec.usd_price(entry, underlying_price)
    if spec.amount_in_usd or (spec.inverse and not spec.option):
        in_coin = _number(info.get("size_currency"))
        valuation = mark or entry
        if in_coin is not None:
            coins = abs(in_coin)
        elif valuation:
            coins = spec.coins(size, valuation)
        else:
            raise ValueError(f"{spec.symbol}: a USD-sized position needs a mark to count coins")
    else:
        coins = spec.coins(size, 1.0)
    pnl = _number(position.get("unrealizedPnl"))
    if pnl is not None and spec.inverse:
        coin_price = underlying_price if spec.option else mark
        pnl = coin_to_usd(pnl, coin_price or 0.0)
    out.update(
        contracts=coins,
        contractSize=1.0,
        markPrice=mark,
        entryPrice=entry,
        unrealizedPnl=pnl,
        venueSize=signed_venue_size(position),
    )
    return out
