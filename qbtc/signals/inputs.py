"""The few numbers per symbol that providers look at, taken from one feature snapshot.

Both the ``rules`` provider and the LLM prompt read the same :class:`SymbolInputs`, so a rule
and a model always see the same facts. Missing values (warm-up, no option chain) are ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import polars as pl

from qbtc.signals.model import SnapshotLike
from qbtc.symbols import base_currency

#: Option expiry whose tenor is closest to this is used for the surface inputs (days).
TARGET_TENOR_DAYS = 30.0


class SnapshotError(ValueError):
    """The feature snapshot cannot feed a signal cycle (says what to run first)."""


@dataclass(frozen=True)
class SymbolInputs:
    """Per-symbol inputs, units as in the ``features``/``option_features`` schemas.

    Returns are log returns, vols annualised fractions, ``funding_rate`` a fraction per 8 h,
    ``basis_annualized`` a fraction per year, ranks in [0, 1]. ``rr_25d`` (call minus put IV),
    ``iv_minus_rv`` and ``atm_iv`` are annualised vol fractions of the expiry closest to
    30 days of the symbol's base currency, ``None`` when it has no option chain.
    """

    symbol: str
    close: float | None = None
    ret_1440: float | None = None
    momentum_240: float | None = None
    zscore_240: float | None = None
    rank_momentum_240: float | None = None
    rv_cc_60: float | None = None
    ewma_vol: float | None = None
    rank_rv_cc_60: float | None = None
    funding_rate: float | None = None
    basis_annualized: float | None = None
    atm_iv: float | None = None
    rr_25d: float | None = None
    iv_minus_rv: float | None = None
    tenor_days: float | None = None

    def values(self) -> dict[str, float | None]:
        """Every numeric input by name, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "symbol"}


PERP_FIELDS = (
    "close",
    "ret_1440",
    "momentum_240",
    "zscore_240",
    "rank_momentum_240",
    "rv_cc_60",
    "ewma_vol",
    "rank_rv_cc_60",
    "funding_rate",
    "basis_annualized",
)
OPTION_FIELDS = ("atm_iv", "rr_25d", "iv_minus_rv", "tenor_days")


def _clean(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def universe_of(snapshot: SnapshotLike, symbols: Sequence[str] | None = None) -> tuple[str, ...]:
    """Sorted symbols of the snapshot, restricted to ``symbols`` when given.

    Raises :class:`SnapshotError` when none is left.
    """
    present = set(snapshot.perps.get_column("symbol").to_list()) if snapshot.perps.height else set()
    wanted = present if symbols is None else present & set(symbols)
    if not wanted:
        asked = ", ".join(symbols) if symbols else "any symbol"
        raise SnapshotError(
            f"the feature snapshot at {snapshot.timestamp:%Y-%m-%d %H:%M} UTC has no rows for "
            f"{asked}: run `qbtc ingest` and the features flow first"
        )
    return tuple(sorted(wanted))


def surface_by_underlying(options: pl.DataFrame) -> dict[str, dict[str, float | None]]:
    """Surface inputs per underlying: latest timestamp, expiry with tenor closest to 30 d."""
    if options.height == 0:
        return {}
    latest = options.filter(pl.col("timestamp") == pl.col("timestamp").max().over("underlying"))
    picked = (
        latest.with_columns((pl.col("tenor_days") - TARGET_TENOR_DAYS).abs().alias("_distance"))
        .sort(["underlying", "_distance", "tenor_days"])
        .unique(subset=["underlying"], keep="first", maintain_order=True)
    )
    return {
        row["underlying"]: {name: _clean(row[name]) for name in OPTION_FIELDS}
        for row in picked.iter_rows(named=True)
    }


def collect_inputs(
    snapshot: SnapshotLike, symbols: Sequence[str] | None = None
) -> tuple[SymbolInputs, ...]:
    """One :class:`SymbolInputs` per universe symbol, sorted by symbol."""
    universe = universe_of(snapshot, symbols)
    perps = snapshot.perps.filter(pl.col("symbol").is_in(list(universe)))
    latest = perps.sort("timestamp").unique(subset=["symbol"], keep="last")
    rows = {row["symbol"]: row for row in latest.iter_rows(named=True)}
    surfaces = surface_by_underlying(snapshot.options)
    out = []
    for symbol in universe:
        perp = {name: _clean(rows[symbol].get(name)) for name in PERP_FIELDS}
        surface = surfaces.get(base_currency(symbol), {})
        out.append(SymbolInputs(symbol=symbol, **perp, **surface))
    return tuple(out)
