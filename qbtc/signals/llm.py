"""Pieces shared by the LLM-backed providers (``gemini`` and ``replay``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from qbtc.signals.answer import AcceptedAnswer, SymbolView, UnderlyingView
from qbtc.signals.model import ProviderResult, Signal, SnapshotLike, signal_id
from qbtc.signals.volview import VolView, collect_underlying_inputs, vol_view_id


def rationale_of(view: SymbolView | UnderlyingView) -> str:
    """The model's rationale followed by the numbers it cited."""
    cited = ", ".join(f"{c.feature}={c.value!r}" for c in view.cited)
    return f"{view.rationale.strip()} [cited: {cited}]"


def signals_from_views(
    views: Sequence[SymbolView],
    snapshot: SnapshotLike,
    *,
    provider: str,
    model: str,
    run_id: str,
) -> tuple[Signal, ...]:
    """Signals of validated model views, one per symbol."""
    return tuple(
        Signal(
            signal_id=signal_id(
                provider, model, view.symbol, snapshot.timestamp, snapshot.snapshot_id
            ),
            run_id=run_id,
            symbol=view.symbol,
            timestamp=snapshot.timestamp,
            direction=view.direction,
            strength=view.strength,
            confidence=view.confidence,
            horizon_minutes=view.horizon_minutes,
            provider=provider,
            model=model,
            rationale=rationale_of(view),
            feature_snapshot=snapshot.snapshot_id,
        )
        for view in views
    )


def vol_views_from_answers(
    views: Sequence[UnderlyingView],
    snapshot: SnapshotLike,
    *,
    provider: str,
    model: str,
    run_id: str,
) -> tuple[VolView, ...]:
    """Vol views of validated model answers, with the surface inputs the prompt showed."""
    inputs = {i.underlying: i for i in collect_underlying_inputs(snapshot)}
    return tuple(
        VolView(
            view_id=vol_view_id(
                provider, model, view.underlying, snapshot.timestamp, snapshot.snapshot_id
            ),
            run_id=run_id,
            inputs=inputs[view.underlying],
            timestamp=snapshot.timestamp,
            vol_view=view.vol_view,
            confidence=view.confidence,
            horizon_minutes=view.horizon_minutes,
            provider=provider,
            model=model,
            rationale=rationale_of(view),
            feature_snapshot=snapshot.snapshot_id,
        )
        for view in views
    )


def result_of_answer(
    answer: AcceptedAnswer, snapshot: SnapshotLike, *, provider: str, model: str, run_id: str
) -> ProviderResult:
    """The provider result of an accepted answer (signals and vol views, no calls)."""
    kwargs = {"provider": provider, "model": model, "run_id": run_id}
    return ProviderResult(
        provider,
        model,
        signals_from_views(answer.signals, snapshot, **kwargs),
        vol_views=vol_views_from_answers(answer.vol_views, snapshot, **kwargs),
    )


@dataclass
class TokenBudget:
    """Tokens a run may spend on LLM calls (input + output, thinking included).

    Mutable on purpose: one budget lives for one run and is charged after every call.
    """

    limit: int
    spent: int = field(default=0)

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.spent)

    def charge(self, tokens: int) -> None:
        self.spent += max(0, tokens)


def estimate_tokens(text: str) -> int:
    """A conservative token estimate for ``text`` (about 3 characters per token)."""
    return len(text) // 3 + 1
