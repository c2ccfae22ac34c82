"""The simulated venue: deterministic, offline market data in ccxt shapes.

``SimExchange`` is the entry point; ``seam.TradingBackend`` is the contract its trading side
implements (``qbtc/market/sim/trading.py``).
"""

from qbtc.market.sim.exchange import SimExchange
from qbtc.market.sim.seam import MarketView, TradingBackend

__all__ = ["MarketView", "SimExchange", "TradingBackend"]
