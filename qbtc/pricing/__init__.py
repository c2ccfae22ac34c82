"""Options pricing: Black-76 prices, Greeks and an exact, fast implied-vol solver.

Pure numpy/scipy and vectorised: every function broadcasts its inputs. ``expiry`` is in years
(ACT/365, ``year_fraction``), ``vol`` an annualised fraction. Options are linear (USDT premium)
or inverse (coin premium, Deribit-style) via ``settlement=``; see ``qbtc.pricing.black76`` for
the exact conventions and ``qbtc.pricing.greeks`` for the units of each Greek.
"""

from qbtc.pricing.black76 import black76_price
from qbtc.pricing.daycount import year_fraction
from qbtc.pricing.greeks import Greeks, greeks
from qbtc.pricing.implied import (
    ImpliedVolReason,
    ImpliedVolResult,
    implied_vol,
    implied_vol_with_reason,
)
from qbtc.pricing.inputs import PricingInputError

__all__ = [
    "Greeks",
    "ImpliedVolReason",
    "ImpliedVolResult",
    "PricingInputError",
    "black76_price",
    "greeks",
    "implied_vol",
    "implied_vol_with_reason",
    "year_fraction",
]
