"""Trading modes: where a cycle's market data comes from and where its orders go.

| mode | market data | orders | keys |
|---|---|---|---|
| ``paper`` | the simulated venue (``QBTC_EXCHANGE=sim``) | its own paper book | none |
| ``dry-run`` | the real venue's public data (``QBTC_EXCHANGE=binanceusdm``, ``deribit``) | a paper book filled at the venue's live quotes, with its fees and lots | none |
| ``testnet`` | the venue's testnet or demo environment | the testnet (``--live``) | testnet keys |
| ``live`` | the real venue | the real venue (``--live``, ``QBTC_EXCHANGE_TESTNET=false``) | real keys |

Orders reach a venue only with ``--live``, and its testnet first.
"""

from __future__ import annotations

from typing import Literal

TradingMode = Literal["paper", "dry-run", "testnet", "live"]


def trading_mode(exchange: str, *, live: bool, testnet: bool) -> TradingMode:
    """The mode of a cycle on ``exchange`` (``sim`` or a ccxt id)."""
    if exchange == "sim":
        return "paper"
    if not live:
        return "dry-run"
    return "testnet" if testnet else "live"


def data_on_testnet(mode: TradingMode) -> bool:
    """Whether market data comes from the venue's testnet (only when orders go there)."""
    return mode == "testnet"


def describe_mode(mode: TradingMode, exchange: str) -> str:
    """One line for summaries: what the mode reads and where its orders go."""
    return {
        "paper": "paper: the simulated venue, its own market and paper fills",
        "dry-run": (
            f"dry-run: real {exchange} market data, paper fills at its live quotes with its "
            "fees and lots; no order reaches the venue"
        ),
        "testnet": f"testnet: {exchange}'s test environment, orders sent there",
        "live": f"live: real orders on {exchange}",
    }[mode]
