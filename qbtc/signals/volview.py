"""Volatility views: one per option underlying and decision bar, stored like signals.

A :class:`VolView` says whether the options of an underlying are cheap (``vol_view > 0``:
buy volatility) or rich (``< 0``: sell it), with a confidence, a horizon and a rationale. It
carries the surface numbers it was read from (:class:`UnderlyingInputs`: the expiry closest to
30 days of the feature snapshot's ``option_features``), so an option order traces back to the
exact option-feature row behind it. Rules and LLMs read the same inputs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

import polars as pl

from qbtc.schemas import VOL_VIEWS
from qbtc.signals.model import SnapshotLike

#: Option expiry whose tenor is closest to this is read for the view (days).
VOL_TENOR_DAYS = 30.0
#: Perp whose realised vol forecasts an underlying's: ``BTC`` -> ``BTC/USDT:USDT``.
PERP_SUFFIX = "/USDT:USDT"


@dataclass(frozen=True)
class UnderlyingInputs:
    """Surface inputs of one underlying (annualised vol fractions unless stated).

    ``realised_forecast``: the EWMA vol of the underlying's perp (``ewma_vol``), else
    ``atm_iv - iv_minus_rv`` (the 1-day close-to-close realised vol the features compared
    with). ``term_slope``: change of ATM IV per year of tenor. ``rr_25d``: 25-delta call
    minus put IV. ``tenor_days``: days to ``expiry``. ``None`` where unknown.
    """

    underlying: str
    expiry: datetime | None = None
    tenor_days: float | None = None
    atm_iv: float | None = None
    realised_forecast: float | None = None
    term_slope: float | None = None
    rr_25d: float | None = None
    bf_25d: float | None = None

    def values(self) -> dict[str, float | None]:
        """Every numeric input by name, in declaration order."""
        skip = {"underlying", "expiry"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


def _clean(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def collect_underlying_inputs(
    snapshot: SnapshotLike, underlyings: Sequence[str] | None = None
) -> tuple[UnderlyingInputs, ...]:
    """One :class:`UnderlyingInputs` per underlying with option features, sorted.

    ``underlyings`` restricts them (default: every underlying in ``snapshot.options``).
    """
    options = snapshot.options
    if options.height == 0:
        return ()
    latest = options.filter(pl.col("timestamp") == pl.col("timestamp").max().over("underlying"))
    if underlyings is not None:
        latest = latest.filter(pl.col("underlying").is_in(list(underlyings)))
    picked = (
        latest.with_columns((pl.col("tenor_days") - VOL_TENOR_DAYS).abs().alias("_distance"))
        .sort(["underlying", "_distance", "tenor_days"])
        .unique(subset=["underlying"], keep="first", maintain_order=True)
    )
    perps = snapshot.perps
    ewma: dict[str, float | None] = {}
    if perps.height and "ewma_vol" in perps.columns:
        last = perps.sort("timestamp").unique(subset=["symbol"], keep="last")
        ewma = {r["symbol"]: _clean(r["ewma_vol"]) for r in last.iter_rows(named=True)}
    out = []
    for row in picked.iter_rows(named=True):
        atm, spread = _clean(row["atm_iv"]), _clean(row["iv_minus_rv"])
        forecast = ewma.get(row["underlying"] + PERP_SUFFIX)
        if forecast is None and atm is not None and spread is not None:
            forecast = atm - spread
        out.append(
            UnderlyingInputs(
                underlying=row["underlying"],
                expiry=row["expiry"],
                tenor_days=_clean(row["tenor_days"]),
                atm_iv=atm,
                realised_forecast=forecast,
                term_slope=_clean(row["term_slope"]),
                rr_25d=_clean(row["rr_25d"]),
                bf_25d=_clean(row["bf_25d"]),
            )
        )
    return tuple(out)


def check_vol_values(vol_view: float, confidence: float) -> None:
    """Raise ``ValueError`` unless ``vol_view`` is in [-1, 1] and ``confidence`` in [0, 1]."""
    if not -1.0 <= vol_view <= 1.0:
        raise ValueError(f"vol_view must be in [-1, 1], got {vol_view}")
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence must be in [0, 1], got {confidence}")


@dataclass(frozen=True)
class VolView:
    """A volatility view of one underlying at one decision bar (see the module docstring)."""

    view_id: str
    run_id: str
    inputs: UnderlyingInputs
    timestamp: datetime
    vol_view: float
    confidence: float
    horizon_minutes: int
    provider: str
    model: str | None
    rationale: str
    feature_snapshot: str
    fallback_reason: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        check_vol_values(self.vol_view, self.confidence)
        if self.horizon_minutes < 1:
            raise ValueError(f"{self.underlying}: horizon_minutes must be >= 1")
        if self.timestamp.tzinfo is None:
            raise ValueError("vol view timestamp must be timezone-aware (UTC)")

    @property
    def underlying(self) -> str:
        return self.inputs.underlying

    def row(self) -> dict[str, object]:
        """The ``vol_views`` row of this view."""
        i = self.inputs
        return {
            "view_id": self.view_id,
            "run_id": self.run_id,
            "underlying": i.underlying,
            "timestamp": self.timestamp,
            "vol_view": self.vol_view,
            "confidence": self.confidence,
            "horizon_minutes": self.horizon_minutes,
            "provider": self.provider,
            "model": self.model,
            "rationale": self.rationale,
            "feature_snapshot": self.feature_snapshot,
            "expiry": i.expiry,
            "tenor_days": i.tenor_days,
            "atm_iv": i.atm_iv,
            "realised_forecast": i.realised_forecast,
            "term_slope": i.term_slope,
            "rr_25d": i.rr_25d,
            "fallback_reason": self.fallback_reason,
            "created_at": self.created_at,
        }


def vol_view_id(
    provider: str, model: str | None, underlying: str, decision_bar: datetime, snapshot_id: str
) -> str:
    """Deterministic id of a vol view: ``vv`` + 32 hex chars of a SHA-256 (like signals)."""
    if decision_bar.tzinfo is None:
        raise ValueError("decision_bar must be timezone-aware (UTC)")
    stamp = decision_bar.astimezone(UTC).isoformat()
    key = "\x1f".join(("vol", provider, model or "", underlying, stamp, snapshot_id)).encode()
    return "vv" + hashlib.sha256(key).hexdigest()[:32]


def vol_views_frame(views: Sequence[VolView]) -> pl.DataFrame:
    """The ``vol_views`` dataset rows of ``views`` (schema order and types)."""
    if not views:
        return VOL_VIEWS.empty()
    return pl.DataFrame([view.row() for view in views], schema=VOL_VIEWS.schema)
