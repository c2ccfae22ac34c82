"""How the rules combine their components: a weighted mean, its agreement and coverage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Blend:
    """``score``: weighted mean of the components present (0 when none is);
    ``confidence = agreement × coverage`` (agreement ``|Σ wᵢcᵢ| / Σ wᵢ|cᵢ|``, coverage the
    share of the applicable weight that had data); ``described`` one ``name +0.00`` per
    component present."""

    score: float
    confidence: float
    described: tuple[str, ...]


def blend(parts: Mapping[str, tuple[float, float | None]]) -> Blend:
    """Blend ``name -> (weight, component or None)`` (components in [-1, 1])."""
    applicable = sum(weight for weight, _ in parts.values())
    present = {name: (w, c) for name, (w, c) in parts.items() if c is not None}
    weight_sum = sum(w for w, _ in present.values())
    weighted = sum(w * c for w, c in present.values())
    absolute = sum(w * abs(c) for w, c in present.values())
    score = weighted / weight_sum if weight_sum else 0.0
    agreement = abs(weighted) / absolute if absolute else 0.0
    confidence = round(agreement * weight_sum / applicable, 4) if applicable else 0.0
    described = tuple(f"{name} {c:+.2f}" for name, (_, c) in present.items())
    return Blend(score, confidence, described)
