"""What a signal is, what a provider is, and how both are stored.

A *provider* (strategy pattern) turns one feature snapshot into one signal per symbol of its
universe. Every provider has the same shape, :class:`SignalProvider`, so the flow picks one by
name and the rest of the pipeline never knows which one answered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

import polars as pl

from qbtc.schemas import SIGNALS

if TYPE_CHECKING:
    from qbtc.signals.calls import LlmCall
    from qbtc.signals.volview import VolView

Direction = Literal["long", "short", "flat"]
DIRECTIONS: tuple[Direction, ...] = ("long", "short", "flat")


class SnapshotLike(Protocol):
    """The shape of :class:`qbtc.features.FeatureSnapshot` that providers rely on.

    ``perps`` holds ``features`` rows (one per symbol, at the last bar <= as_of) and
    ``options`` ``option_features`` rows; ``snapshot_id`` identifies those exact rows.
    """

    @property
    def snapshot_id(self) -> str: ...

    @property
    def timestamp(self) -> datetime: ...

    @property
    def perps(self) -> pl.DataFrame: ...

    @property
    def options(self) -> pl.DataFrame: ...


@dataclass(frozen=True)
class Signal:
    """One trading signal for one symbol at one decision bar.

    ``strength`` is the target exposure as a fraction of the per-symbol risk budget, in
    [-1, 1] (positive long); ``confidence`` in [0, 1]; ``horizon_minutes`` how long the view
    is meant to hold. ``timestamp`` is the decision bar (UTC).
    """

    signal_id: str
    run_id: str
    symbol: str
    timestamp: datetime
    direction: Direction
    strength: float
    confidence: float
    horizon_minutes: int
    provider: str
    model: str | None
    rationale: str
    feature_snapshot: str
    fallback_reason: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        check_signal_values(self.direction, self.strength, self.confidence)
        if self.horizon_minutes < 1:
            raise ValueError(f"{self.symbol}: horizon_minutes must be >= 1")
        if self.timestamp.tzinfo is None:
            raise ValueError("signal timestamp must be timezone-aware (UTC)")


def check_signal_values(direction: str, strength: float, confidence: float) -> None:
    """Raise ``ValueError`` unless direction, strength and confidence agree and are in range.

    ``long`` needs ``strength > 0``, ``short`` needs ``strength < 0``, ``flat`` needs 0.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if not -1.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [-1, 1], got {strength}")
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence must be in [0, 1], got {confidence}")
    expected = "long" if strength > 0 else "short" if strength < 0 else "flat"
    if direction != expected:
        raise ValueError(f"direction {direction} does not match strength {strength}")


def signal_id(
    provider: str, model: str | None, symbol: str, decision_bar: datetime, snapshot_id: str
) -> str:
    """Deterministic id of a signal: ``sg`` + 32 hex chars of a SHA-256.

    The same provider, model, symbol, decision bar and feature snapshot always give the same
    id, so re-running a cycle replaces its signals instead of adding new ones.
    """
    return signal_ids(provider, model, [symbol], decision_bar, snapshot_id)[0]


def signal_ids(
    provider: str,
    model: str | None,
    symbols: Sequence[str],
    decision_bar: datetime,
    snapshot_id: str,
) -> list[str]:
    """:func:`signal_id` of each of ``symbols`` in one decision (its key's shared parts
    written once: a backtest names ~175,000 signals a year)."""
    if decision_bar.tzinfo is None:
        raise ValueError("decision_bar must be timezone-aware (UTC)")
    stamp = decision_bar.astimezone(UTC).isoformat()
    head = "\x1f".join((provider, model or "", ""))
    tail = "\x1f".join(("", stamp, snapshot_id))
    return [
        "sg" + hashlib.sha256(f"{head}{symbol}{tail}".encode()).hexdigest()[:32]
        for symbol in symbols
    ]


@dataclass(frozen=True)
class ProviderResult:
    """What one provider produced for one snapshot.

    ``vol_views`` holds one volatility view per option underlying of the snapshot;
    ``calls`` are the LLM requests made (empty for ``rules`` and ``replay``);
    ``fallback_reason`` is set when an LLM answer was replaced by the ``rules`` provider.
    """

    provider: str
    model: str | None
    signals: tuple[Signal, ...]
    calls: tuple[LlmCall, ...] = ()
    fallback_reason: str | None = None
    vol_views: tuple[VolView, ...] = ()


class SignalProvider(Protocol):
    """A strategy that turns a feature snapshot into signals (one per universe symbol)."""

    @property
    def name(self) -> str: ...

    def propose(self, snapshot: SnapshotLike, *, run_id: str) -> ProviderResult: ...


def signals_frame(signals: Sequence[Signal]) -> pl.DataFrame:
    """The ``signals`` dataset rows of ``signals`` (schema order and types)."""
    rows = [{name: getattr(signal, name) for name in SIGNALS.columns} for signal in signals]
    if not rows:
        return SIGNALS.empty()
    return pl.DataFrame(rows, schema=SIGNALS.schema)
