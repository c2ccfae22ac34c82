"""The model's answer: its pydantic response schema and the checks it must pass.

A model answer is used only when every check passes; otherwise :class:`AnswerRejectedError` says
which one failed, in one line that is stored with the call and on the fallback signals.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from qbtc.signals.errors import LlmError
from qbtc.signals.model import check_signal_values
from qbtc.signals.volview import check_vol_values

MIN_HORIZON_MINUTES = 15
MAX_HORIZON_MINUTES = 1440
MAX_RATIONALE_CHARS = 1000


class AnswerRejectedError(LlmError):
    """A model answer failed validation; ``reason`` says why in one line."""


class Citation(BaseModel):
    """A number the model relied on, copied from its symbol's row of the prompt."""

    feature: str
    value: float


class SymbolView(BaseModel):
    """The model's view of one symbol."""

    symbol: str
    direction: Literal["long", "short", "flat"]
    strength: float = Field(ge=-1.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    horizon_minutes: int = Field(ge=MIN_HORIZON_MINUTES, le=MAX_HORIZON_MINUTES)
    rationale: str = Field(max_length=MAX_RATIONALE_CHARS)
    cited: list[Citation] = Field(min_length=1)


class UnderlyingView(BaseModel):
    """The model's volatility view of one option underlying."""

    underlying: str
    vol_view: float = Field(ge=-1.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    horizon_minutes: int = Field(ge=MIN_HORIZON_MINUTES, le=MAX_HORIZON_MINUTES)
    rationale: str = Field(max_length=MAX_RATIONALE_CHARS)
    cited: list[Citation] = Field(min_length=1)


class SignalAnswer(BaseModel):
    """The whole answer: one view per symbol and one vol view per underlying of the prompt."""

    signals: list[SymbolView]
    vol_views: list[UnderlyingView] = Field(default_factory=list)


@dataclass(frozen=True)
class AcceptedAnswer:
    """The views of an answer that passed every check, each sorted by its key."""

    signals: tuple[SymbolView, ...]
    vol_views: tuple[UnderlyingView, ...] = ()


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"invalid answer at {where}: {first['msg']} (got {first.get('input')!r}){more}"


def parse_answer(text: str | None, finish_reason: str | None) -> SignalAnswer:
    """The answer in ``text``, or :class:`AnswerRejectedError` (truncated, empty, malformed)."""
    if finish_reason != "STOP":
        raise AnswerRejectedError(f"answer not finished (finish_reason={finish_reason}): truncated")
    if not text:
        raise AnswerRejectedError("empty answer")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnswerRejectedError(f"malformed JSON: {exc.msg} at char {exc.pos}") from None
    try:
        return SignalAnswer.model_validate(payload)
    except ValidationError as exc:
        raise AnswerRejectedError(_describe(exc)) from None


def check_answered_once(answered: Sequence[str], asked: Sequence[str], kind: str) -> None:
    """Each of ``asked`` answered exactly once and nothing else (``kind``: what they are)."""
    seen: set[str] = set()
    for key in answered:
        if key not in asked:
            raise AnswerRejectedError(
                f"unknown {kind} {key!r} (the prompt asks for {', '.join(asked) or 'none'})"
            )
        if key in seen:
            raise AnswerRejectedError(f"{kind} {key} answered twice")
        seen.add(key)
    missing = [key for key in asked if key not in seen]
    if missing:
        raise AnswerRejectedError(f"no answer for {kind} {', '.join(missing)}")


def check_citations(key: str, cited: Sequence[Citation], shown: Mapping[str, float]) -> None:
    """Every citation is a number the prompt showed in the row of ``key``."""
    for citation in cited:
        if citation.feature not in shown:
            raise AnswerRejectedError(
                f"{key}: cited {citation.feature!r}, which the prompt does not show"
            )
        expected = shown[citation.feature]
        if not math.isclose(citation.value, expected, rel_tol=1e-9, abs_tol=1e-15):
            raise AnswerRejectedError(
                f"{key}: cited {citation.feature}={citation.value!r} but the prompt "
                f"shows {expected!r}"
            )


def check_view(view: SymbolView, shown: Mapping[str, float]) -> None:
    """Direction matches strength, and every citation is a number the prompt showed."""
    try:
        check_signal_values(view.direction, view.strength, view.confidence)
    except ValueError as exc:
        raise AnswerRejectedError(f"{view.symbol}: {exc}") from None
    check_citations(view.symbol, view.cited, shown)


def check_vol_view(view: UnderlyingView, shown: Mapping[str, float]) -> None:
    """Vol view and confidence in range, and every citation a number the prompt showed."""
    try:
        check_vol_values(view.vol_view, view.confidence)
    except ValueError as exc:
        raise AnswerRejectedError(f"{view.underlying}: {exc}") from None
    check_citations(view.underlying, view.cited, shown)


def validate_answer(
    text: str | None,
    finish_reason: str | None,
    *,
    universe: Sequence[str],
    values: Mapping[str, Mapping[str, float]],
    underlyings: Sequence[str] = (),
    vol_values: Mapping[str, Mapping[str, float]] | None = None,
) -> AcceptedAnswer:
    """The views of an acceptable answer, sorted; else :class:`AnswerRejectedError`.

    ``underlyings`` are the option underlyings the prompt asked vol views for and
    ``vol_values`` the numbers it showed for each.
    """
    answer = parse_answer(text, finish_reason)
    check_answered_once([view.symbol for view in answer.signals], universe, "symbol")
    for view in answer.signals:
        check_view(view, values[view.symbol])
    check_answered_once([view.underlying for view in answer.vol_views], underlyings, "underlying")
    for vol in answer.vol_views:
        check_vol_view(vol, (vol_values or {}).get(vol.underlying, {}))
    return AcceptedAnswer(
        tuple(sorted(answer.signals, key=lambda view: view.symbol)),
        tuple(sorted(answer.vol_views, key=lambda view: view.underlying)),
    )
