"""The simulated venue's listed perpetuals and the parameters of their price processes.

Volatilities are annualised fractions (365-day year: crypto trades every day); daily
notional volume in USDT. A symbol's path depends only on (seed, its own parameters, the
shared market factor), never on which other symbols a caller asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    PerpSpec("BTC", 90_000.0, 1.00, 0.15, 0.010, 0.030, 15e9, 1, 3, 0.2),
    PerpSpec("ETH", 3_000.0, 1.15, 0.35, 0.015, 0.040, 8e9, 2, 3, 0.3),
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

BY_SYMBOL: dict[str, PerpSpec] = {spec.symbol: spec for spec in SPECS}
SYMBOL_INDEX: dict[str, int] = {spec.symbol: i for i, spec in enumerate(SPECS)}
OPTION_UNDERLYINGS: tuple[str, ...] = ("BTC", "ETH")
