"""How a venue counts and prices one instrument, and the one rule that turns coin into USD.

qbtc's book is in coins of the underlying (quantities) and USD (prices, fees, PnL); venues
are not. From a ccxt market structure (``linear``/``inverse``, ``option``, ``contractSize``,
``settle``) :class:`ContractSpec` converts both ways:

- **linear** (USDT or USDC settled; Binance USD-M, Bybit USDC options, the simulated venue):
  an amount is contracts of ``contractSize`` coins; prices and fees are in the settle
  currency, a USD stablecoin.
- **inverse options** (coin settled; Deribit ``BTC/USD:BTC-...``): amounts are coins
  (``contractSize`` 1) and the premium is in coin per coin of underlying. Its USD value is
  the coin premium times the underlying (forward) price the venue quotes with the option,
  the inverse Black-76 convention of :mod:`qbtc.pricing` (premium ``P = V / F``).
- **inverse perpetuals and futures** (Deribit ``BTC/USD:BTC``): the price is USD per coin,
  but the amount is USD: ccxt passes Deribit's own unit through ("for perpetual and inverse
  futures the amount is in USD units", ccxt ``deribit.create_order``), so a size of 50 is
  50 USD, ``50 / price`` coins. Elsewhere (Binance COIN-M) an amount is contracts of
  ``contractSize`` USD.
- **fees and balances** in a coin are worth ``coin x price`` USD; stablecoins count 1:1.

:func:`coin_to_usd` is that rule; every conversion of an inverse instrument goes through it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Currencies counted 1:1 as USD.
STABLECOINS = frozenset({"USD", "USDT", "USDC", "FDUSD", "BUSD", "DAI", "TUSD", "USDE"})

#: Venues whose ccxt amounts of inverse perpetuals and futures are USD, not contracts.
AMOUNT_IN_USD_VENUES = frozenset({"deribit"})


def coin_to_usd(value: float, price: float) -> float:
    """USD worth of ``value`` coins (a premium, fee, balance or PnL) at ``price`` USD per coin."""
    return value * price


def usd_to_coin(value: float, price: float) -> float:
    """Coins worth ``value`` USD at ``price`` USD per coin (the inverse of :func:`coin_to_usd`)."""
    if not price > 0:
        raise ValueError(f"a coin price must be positive to convert USD to coin, got {price}")
    return value / price


def _first(mapping: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = mapping.get(key)
        if value not in (None, ""):
            return float(value)
    return None


def underlying_price_from_ticker(ticker: Mapping[str, Any]) -> float | None:
    """The forward (USD) a venue quotes with an option's ticker, in either venue's shape:
    ``info.forwardPrice`` / ``info.underlyingPrice`` (Binance, the simulated venue),
    ``info.underlying_price`` (Deribit), else ccxt's ``underlyingPrice`` / ``indexPrice``."""
    info = ticker.get("info") or {}
    found = _first(info, "forwardPrice", "underlyingPrice", "underlying_price")
    return found or _first(ticker, "underlyingPrice", "indexPrice")


def mark_iv_from_ticker(ticker: Mapping[str, Any]) -> float | None:
    """Mark implied vol (annualised fraction) of an option ticker: ``info.markIV`` (a
    fraction: Binance, the simulated venue), ``info.mark_iv`` (percent: Deribit's 61.27 is
    0.6127), else ccxt's ``impliedVolatility``."""
    info = ticker.get("info") or {}
    iv = _first(info, "markIV", "markIv")
    if iv is None and (percent := _first(info, "mark_iv")) is not None:
        iv = percent / 100.0
    return iv if iv is not None else _first(ticker, "impliedVolatility")


def is_stablecoin(currency: str) -> bool:
    return currency.upper() in STABLECOINS


def market_in_coins(market: Mapping[str, Any], *, exchange_id: str) -> dict[str, Any]:
    """``market`` with order amounts in coins of the underlying, as qbtc's intents count them.

    Only a USD-sized market changes (an inverse perpetual or future: Deribit's amounts are
    USD, Binance COIN-M's contracts of ``contractSize`` USD): its USD lot is no fixed number
    of coins, so it has no amount grid here, and its minimum amount becomes a minimum
    notional (USD). The venue's own lot still applies when the amount is sent (ccxt's
    ``amount_to_precision``). Every other market is returned as is.
    """
    spec = ContractSpec.from_market(market, exchange_id=exchange_id)
    out = copy.deepcopy(dict(market))
    if not spec.inverse or spec.option:
        return out
    limits = {k: dict(v or {}) for k, v in (out.get("limits") or {}).items()}
    least = (limits.get("amount") or {}).get("min")
    per_amount = 1.0 if spec.amount_in_usd else spec.contract_size
    usd = None if least is None else float(least) * per_amount
    limits["amount"] = {"min": None, "max": None}
    limits["cost"] = {"min": usd, "max": None}
    precision = {**(out.get("precision") or {}), "amount": None}
    out.update(contractSize=1.0, precision=precision, limits=limits)
    return out


@dataclass(frozen=True)
class ContractSpec:
    """How one market counts amounts and quotes prices (see the module docstring).

    ``amount_in_usd``: an order amount is USD (Deribit inverse perpetuals and futures);
    ``premium_in_coin``: prices are coin per coin of underlying (inverse options).
    """

    symbol: str
    base: str
    settle: str
    inverse: bool
    option: bool
    contract_size: float = 1.0
    amount_in_usd: bool = False

    @classmethod
    def from_market(cls, market: Mapping[str, Any], *, exchange_id: str) -> ContractSpec:
        """The spec of a ccxt market structure listed by ``exchange_id``."""
        settle = str(market.get("settle") or market.get("quote") or "USDT")
        inverse = bool(market.get("inverse")) and not is_stablecoin(settle)
        option = bool(market.get("option"))
        return cls(
            symbol=str(market["symbol"]),
            base=str(market.get("base") or str(market["symbol"]).split("/", 1)[0]),
            settle=settle,
            inverse=inverse,
            option=option,
            contract_size=float(market.get("contractSize") or 1.0),
            amount_in_usd=inverse and not option and exchange_id in AMOUNT_IN_USD_VENUES,
        )

    @classmethod
    def linear(cls, symbol: str) -> ContractSpec:
        """A linear market of one coin per contract (what a venue without metadata gets)."""
        return cls(symbol, symbol.split("/", 1)[0], "USDT", inverse=False, option=False)

    @property
    def premium_in_coin(self) -> bool:
        return self.inverse and self.option

    def coins(self, amount: float, price: float) -> float:
        """Coins of the underlying in a venue ``amount`` (``price``: USD per coin)."""
        if self.amount_in_usd:
            return usd_to_coin(amount, price)
        if self.inverse and not self.option:
            return usd_to_coin(amount * self.contract_size, price)
        return amount * self.contract_size

    def amount(self, coins: float, price: float) -> float:
        """The venue amount for ``coins`` of the underlying (unrounded; see venue rules)."""
        if self.amount_in_usd:
            return coin_to_usd(coins, price)
        if self.inverse and not self.option:
            return coin_to_usd(coins, price) / self.contract_size
        return coins / self.contract_size

    def usd_price(self, price: float, underlying_price: float | None) -> float:
        """A venue price in USD per coin: a coin premium times the underlying price."""
        if not self.premium_in_coin:
            return price
        if underlying_price is None or not underlying_price > 0:
            raise ValueError(
                f"{self.symbol} is priced in {self.settle}: its USD value needs the "
                "underlying price the venue quotes with it"
            )
        return coin_to_usd(price, underlying_price)

    def venue_price(self, usd_price: float, underlying_price: float) -> float:
        """A USD price per coin in the venue's price currency (coin for inverse options)."""
        return usd_to_coin(usd_price, underlying_price) if self.premium_in_coin else usd_price
