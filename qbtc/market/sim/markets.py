"""ccxt market structures of the simulated venue (perps and listed options)."""

from __future__ import annotations

from typing import Any

from qbtc.market.contracts import parse_option_symbol
from qbtc.market.sim.chain import option_chain
from qbtc.market.sim.options import PRICE_TICK, ChainDepth
from qbtc.market.sim.universe import BY_SYMBOL, OPTION_UNDERLYINGS

TAKER_FEE = 0.0005
MAKER_FEE = 0.0002
OPTION_TAKER_FEE = 0.0003
OPTION_MAKER_FEE = 0.0002


def perp_market(symbol: str) -> dict[str, Any]:
    """The ccxt market of a simulated linear perpetual."""
    spec = BY_SYMBOL[symbol]
    return {
        "id": spec.market_id,
        "symbol": symbol,
        "base": spec.base,
        "quote": "USDT",
        "settle": "USDT",
        "baseId": spec.base,
        "quoteId": "USDT",
        "settleId": "USDT",
        "type": "swap",
        "spot": False,
        "margin": False,
        "swap": True,
        "future": False,
        "option": False,
        "active": True,
        "contract": True,
        "linear": True,
        "inverse": False,
        "contractSize": 1.0,
        "expiry": None,
        "expiryDatetime": None,
        "strike": None,
        "optionType": None,
        "taker": TAKER_FEE,
        "maker": MAKER_FEE,
        "precision": {"amount": 10.0**-spec.amount_decimals, "price": 10.0**-spec.price_decimals},
        "limits": {
            "amount": {"min": 10.0**-spec.amount_decimals, "max": None},
            "price": {"min": 10.0**-spec.price_decimals, "max": None},
            "cost": {"min": spec.min_notional, "max": None},
            "leverage": {"min": 1.0, "max": 20.0},
        },
        "info": {"symbol": spec.market_id, "contractType": "PERPETUAL"},
    }


def option_market(symbol: str, market_id: str) -> dict[str, Any]:
    """The ccxt market of a simulated linear USDT-settled European option."""
    contract = parse_option_symbol(symbol)
    expiry_ms = int(contract.expiry.timestamp() * 1000)
    return {
        "id": market_id,
        "symbol": symbol,
        "base": contract.base,
        "quote": contract.quote,
        "settle": contract.settle,
        "baseId": contract.base,
        "quoteId": contract.quote,
        "settleId": contract.settle,
        "type": "option",
        "spot": False,
        "margin": False,
        "swap": False,
        "future": False,
        "option": True,
        "active": True,
        "contract": True,
        "linear": True,
        "inverse": False,
        "contractSize": 1.0,
        "expiry": expiry_ms,
        "expiryDatetime": contract.expiry.isoformat().replace("+00:00", "Z"),
        "strike": contract.strike,
        "optionType": contract.option_type,
        "taker": OPTION_TAKER_FEE,
        "maker": OPTION_MAKER_FEE,
        "precision": {"amount": 0.01, "price": PRICE_TICK[contract.base]},
        "limits": {
            "amount": {"min": 0.01, "max": None},
            "price": {"min": PRICE_TICK[contract.base], "max": None},
            "cost": {"min": None, "max": None},
            "leverage": {"min": None, "max": None},
        },
        "info": {"symbol": market_id, "underlying": f"{contract.base}USDT"},
    }


def all_markets(
    seed: int, symbols: tuple[str, ...], now_ms: int, depth: ChainDepth = "standard"
) -> dict[str, dict[str, Any]]:
    """Listed perps (``symbols``) plus the options listed at ``now_ms`` on BTC and ETH."""
    markets = {symbol: perp_market(symbol) for symbol in symbols}
    for underlying in OPTION_UNDERLYINGS:
        for symbol, structure in option_chain(seed, underlying, now_ms, depth).items():
            markets[symbol] = option_market(symbol, structure["info"]["symbol"])
    return markets
