"""Market access: the exchange protocol, the simulated venue, the ccxt adapter, normalisation.

Submodules are imported where used (``qbtc.market.sim``, ``qbtc.market.ccxt_adapter``,
``qbtc.market.normalize``, ``qbtc.market.venue``) so importing one does not pay for the others.
"""
