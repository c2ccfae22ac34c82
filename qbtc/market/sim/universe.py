"""The simulated venue's listed perpetuals and the parameters of their price processes.

Volatilities are annualised fractions (365-day year: crypto trades every day); daily
notional volume in USDT. A symbol's path depends only on (seed, its own parameters, the
shared market factor), never on which other symbols a caller asked for, nor on how many the
venue lists.

The catalogue: the 20 hand-set majors of :data:`SPECS` first, then generated perps
(``QAAU/USDT:USDT``, ...) with parameters drawn once from a fixed hash of their index
(the same for every seed and every run), up to :data:`MAX_PERPS`. The venue lists the first
``QBTC_SIM_PERPS`` of them. Paths are generated in blocks of :data:`BLOCK_SIZE` symbols
(block 0 is :data:`SPECS`), so listing more perps never changes a listed one's numbers.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass

from qbtc.market.sim.rng import generator

EPOCH_MS = 1_577_836_800_000
"""2020-01-01T00:00:00Z: the first day the simulated venue has data for."""

DAY_MS = 86_400_000
MINUTE_MS = 60_000
MINUTES_PER_DAY = 1440
FUNDING_INTERVAL_MS = 8 * 3_600_000
DAYS_PER_YEAR = 365.0

FACTOR_VOL = 0.50
"""Long-run annualised volatility of the market factor (BTC-like)."""


@dataclass(frozen=True)
class PerpSpec:
    """One USDT-margined linear perpetual.

    Attributes
    ----------
    base : str
        Base currency (``BTC``); the symbol is ``{base}/USDT:USDT``.
    price : float
        Price (USDT) at 2026-01-01T00:00Z, the anchor of the random walk.
    beta : float
        Loading on the market factor.
    idio_vol : float
        Annualised idiosyncratic volatility (long-run level of its stochastic vol).
    jump_rate : float
        Expected idiosyncratic jumps per day.
    jump_size : float
        Standard deviation of a jump's log size.
    daily_notional : float
        Average traded notional per day, USDT.
    price_decimals : int
        Price precision (tick = 10**-price_decimals).
    amount_decimals : int
        Amount precision, base currency.
    spread_bps : float
        Quoted bid-ask spread, basis points of price.
    min_notional : float
        Smallest order notional the venue accepts, USDT (Binance USD-M's MIN_NOTIONAL:
        100 on BTCUSDT, 20 on ETHUSDT, 5 elsewhere); reduce-only orders are exempt.
    """

    base: str
    price: float
    beta: float
    idio_vol: float
    jump_rate: float
    jump_size: float
    daily_notional: float
    price_decimals: int
    amount_decimals: int
    spread_bps: float
    min_notional: float = 5.0

    @property
    def symbol(self) -> str:
        return f"{self.base}/USDT:USDT"

    @property
    def market_id(self) -> str:
        return f"{self.base}USDT"

    @property
    def total_vol(self) -> float:
        """Long-run annualised volatility, factor plus idiosyncratic."""
        return float((self.beta**2 * FACTOR_VOL**2 + self.idio_vol**2) ** 0.5)


SPECS: tuple[PerpSpec, ...] = (
    PerpSpec("BTC", 90_000.0, 1.00, 0.15, 0.010, 0.030, 15e9, 1, 3, 0.2, 100.0),
    PerpSpec("ETH", 3_000.0, 1.15, 0.35, 0.015, 0.040, 8e9, 2, 3, 0.3, 20.0),
    PerpSpec("SOL", 150.0, 1.30, 0.55, 0.025, 0.060, 3e9, 3, 2, 0.5),
    PerpSpec("BNB", 600.0, 0.80, 0.35, 0.015, 0.040, 6e8, 2, 2, 0.6),
    PerpSpec("XRP", 2.2, 1.10, 0.60, 0.030, 0.070, 2e9, 4, 1, 0.6),
    PerpSpec("DOGE", 0.20, 1.35, 0.65, 0.030, 0.080, 1.5e9, 5, 0, 0.8),
    PerpSpec("ADA", 0.70, 1.20, 0.55, 0.025, 0.060, 5e8, 4, 0, 0.9),
    PerpSpec("AVAX", 30.0, 1.35, 0.55, 0.025, 0.060, 4e8, 3, 0, 1.0),
    PerpSpec("LINK", 18.0, 1.25, 0.50, 0.025, 0.060, 4e8, 3, 2, 1.0),
    PerpSpec("LTC", 90.0, 0.95, 0.45, 0.020, 0.050, 3e8, 2, 3, 1.0),
    PerpSpec("DOT", 6.0, 1.20, 0.50, 0.020, 0.060, 2e8, 3, 1, 1.2),
    PerpSpec("TRX", 0.25, 0.50, 0.35, 0.015, 0.040, 2e8, 5, 0, 1.2),
    PerpSpec("BCH", 450.0, 1.00, 0.50, 0.020, 0.050, 3e8, 2, 3, 1.2),
    PerpSpec("NEAR", 4.0, 1.35, 0.60, 0.025, 0.070, 2e8, 3, 0, 1.4),
    PerpSpec("SUI", 3.0, 1.50, 0.70, 0.030, 0.080, 6e8, 4, 1, 1.2),
    PerpSpec("ATOM", 5.0, 1.20, 0.55, 0.025, 0.060, 1.5e8, 3, 1, 1.3),
    PerpSpec("APT", 6.0, 1.40, 0.65, 0.030, 0.070, 1.5e8, 3, 1, 1.4),
    PerpSpec("ARB", 0.50, 1.40, 0.65, 0.030, 0.070, 2e8, 4, 1, 1.3),
    PerpSpec("OP", 1.2, 1.40, 0.65, 0.030, 0.070, 1.5e8, 4, 1, 1.3),
    PerpSpec("FIL", 3.5, 1.25, 0.60, 0.025, 0.070, 1.2e8, 3, 1, 1.4),
)

BLOCK_SIZE = len(SPECS)
"""Symbols per block of generated daily paths (block 0 is :data:`SPECS`)."""
MAX_PERPS = 2000
"""Largest universe the simulated venue can list."""
_CATALOGUE_SEED = 0
"""Seed of the stream that draws generated perps' parameters: fixed, not a market seed."""
_PARAMETERS = ("price", "beta", "idio_vol", "jump_rate", "jump_size", "notional", "spread")
_DRAWS = generator(_CATALOGUE_SEED, "perp-catalogue").random((MAX_PERPS, len(_PARAMETERS)))
"""One row of uniform draws per catalogue position (prefix-stable: row i never changes)."""


def _generated_base(index: int) -> str:
    """``Q`` plus the index in base 26 letters: 20 -> ``QAAU`` (letters only, unique)."""
    letters = string.ascii_uppercase
    a, rest = divmod(index, 26 * 26)
    b, c = divmod(rest, 26)
    return f"Q{letters[a]}{letters[b]}{letters[c]}"


def generated_spec(index: int) -> PerpSpec:
    """The perp at catalogue position ``index`` (>= 20): an altcoin-like random parameter set.

    Prices log-uniform between 0.001 and 1,000 USDT, betas 0.6-1.6, idiosyncratic vol
    40-90% a year, daily notional log-uniform between 20 million and 1 billion USDT; the
    precision follows the price (about five significant digits).
    """
    if not len(SPECS) <= index < MAX_PERPS:
        raise ValueError(f"generated perps have indices {len(SPECS)}..{MAX_PERPS - 1}")

    def draw(name: str) -> float:
        return float(_DRAWS[index, _PARAMETERS.index(name)])

    price = 10.0 ** (-3.0 + 6.0 * draw("price"))
    price_decimals = max(0, 4 - math.floor(math.log10(price)))
    price = round(price, price_decimals) or 10.0**-price_decimals
    amount_decimals = max(0, min(3, math.floor(math.log10(price)) + 1))
    return PerpSpec(
        base=_generated_base(index),
        price=price,
        beta=round(0.6 + draw("beta"), 2),
        idio_vol=round(0.4 + 0.5 * draw("idio_vol"), 2),
        jump_rate=round(0.015 + 0.02 * draw("jump_rate"), 3),
        jump_size=round(0.04 + 0.05 * draw("jump_size"), 3),
        daily_notional=round(10.0 ** (7.3 + 1.7 * draw("notional")), -5),
        price_decimals=price_decimals,
        amount_decimals=amount_decimals,
        spread_bps=round(1.0 + 3.0 * draw("spread"), 1),
    )


CATALOGUE: tuple[PerpSpec, ...] = SPECS + tuple(
    generated_spec(i) for i in range(len(SPECS), MAX_PERPS)
)
BY_SYMBOL: dict[str, PerpSpec] = {spec.symbol: spec for spec in CATALOGUE}
SYMBOL_INDEX: dict[str, int] = {spec.symbol: i for i, spec in enumerate(CATALOGUE)}


def listed_symbols(count: int) -> tuple[str, ...]:
    """The first ``count`` perps of the catalogue: the universe of a venue listing ``count``."""
    if not 1 <= count <= MAX_PERPS:
        raise ValueError(f"the simulated venue lists 1 to {MAX_PERPS} perps, not {count}")
    return tuple(spec.symbol for spec in CATALOGUE[:count])


def block_specs(block: int) -> tuple[PerpSpec, ...]:
    """The perps of one block of daily paths (block 0 is :data:`SPECS`)."""
    return CATALOGUE[block * BLOCK_SIZE : (block + 1) * BLOCK_SIZE]


def locate(symbol: str) -> tuple[int, int]:
    """Block and row of ``symbol``'s daily paths."""
    return divmod(SYMBOL_INDEX[symbol], BLOCK_SIZE)


OPTION_UNDERLYINGS: tuple[str, ...] = ("BTC", "ETH")
