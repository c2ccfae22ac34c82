"""What an option pays at expiry, in the book's units and in the venue's.

At the delivery price ``S`` an option pays ``max(S - K, 0)`` (call) or ``max(K - S, 0)``
(put) USD per coin of underlying: that is its value in the book's units (coins and USD, see
:mod:`qbtc.execution.venue_units`), whatever the venue. A venue pays it in the option's
settlement currency: USDT (at par) for linear options, coin for inverse ones (Deribit's
``BTC/USD:BTC-...`` pay ``max(S - K, 0) / S`` BTC). The coin/USD conversion is the one rule of
:mod:`qbtc.market.contract_spec` (:func:`~qbtc.market.contract_spec.usd_to_coin`), at the
delivery price.
"""

from __future__ import annotations

from qbtc.market.contract_spec import is_stablecoin, usd_to_coin
from qbtc.market.contracts import OptionContract


def expiry_value(contract: OptionContract, delivery_price: float) -> float:
    """USD per coin of underlying one contract is worth at expiry (the book's units)."""
    if contract.is_call:
        return max(delivery_price - contract.strike, 0.0)
    return max(contract.strike - delivery_price, 0.0)


def venue_expiry_value(contract: OptionContract, delivery_price: float) -> float:
    """What one contract pays at expiry in its settlement currency (coin for inverse)."""
    usd = expiry_value(contract, delivery_price)
    if is_stablecoin(contract.settle):
        return usd
    return usd_to_coin(usd, delivery_price)
