"""Account equity across every collateral currency a venue reports, in USD at marks.

A Deribit account holds BTC, ETH, USDC and USDT; a Binance USD-M account may hold USDC and
BNB margin beside USDT. Equity is the sum of each currency's total (ccxt ``balance.total``)
times its USD price: 1 for a stablecoin, else the venue's mark (or index) of that coin
(:func:`qbtc.market.contract_spec.coin_to_usd`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qbtc.market.contract_spec import coin_to_usd, is_stablecoin


@dataclass(frozen=True)
class Equity:
    """Equity in USD; ``holdings`` currency -> (total, USD price); ``unpriced`` currencies
    with a balance the venue gave no price for (left out of ``usd``)."""

    usd: float
    holdings: Mapping[str, tuple[float, float]]
    unpriced: tuple[str, ...] = ()

    @property
    def coin_collateral(self) -> bool:
        """Whether any collateral is a coin (its USD value moves with the market)."""
        return any(not is_stablecoin(c) for c in self.holdings)

    def describe(self) -> str:
        """``BTC 1.5 at 68,000.00 + USDC 500 = 102,500.00 USD``."""
        parts = [
            f"{c} {total:g}" + ("" if is_stablecoin(c) else f" at {price:,.2f}")
            for c, (total, price) in sorted(self.holdings.items())
        ]
        text = " + ".join(parts) or "no balance"
        missing = f" (no price for {', '.join(self.unpriced)})" if self.unpriced else ""
        return f"{text} = {self.usd:,.2f} USD{missing}"


def balance_totals(balance: Mapping[str, Any]) -> dict[str, float]:
    """Non-zero totals per currency of a ccxt balance structure."""
    totals = balance.get("total") or {}
    return {str(c): float(v) for c, v in totals.items() if v not in (None, "") and float(v) != 0}


def collateral_equity(totals: Mapping[str, float], prices: Mapping[str, float]) -> Equity:
    """Equity of ``totals`` (currency -> amount) at ``prices`` (coin -> USD per coin)."""
    holdings: dict[str, tuple[float, float]] = {}
    unpriced: list[str] = []
    for currency, total in sorted(totals.items()):
        price = 1.0 if is_stablecoin(currency) else prices.get(currency)
        if price is None or not price > 0:
            unpriced.append(currency)
            continue
        holdings[currency] = (total, price)
    usd = sum(coin_to_usd(total, price) for total, price in holdings.values())
    return Equity(usd, holdings, tuple(unpriced))
