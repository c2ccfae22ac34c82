"""The ``rules`` volatility view: a documented formula over the option-surface features.

Per option underlying, read at the expiry closest to 30 days (:class:`UnderlyingInputs`), up
to three components, each in [-1, 1] (positive: options cheap, buy volatility):

value (implied against forecast realised vol)
    ``tanh((realised_forecast - atm_iv) / value_scale)``. ``realised_forecast`` is the EWMA
    vol of the underlying's perp (annualised), else ``atm_iv - iv_minus_rv``. Implied vol
    below what the market is forecast to realise makes options cheap; above, rich.
term structure
    ``tanh(term_slope / term_scale)``, ``term_slope`` the change of ATM IV per year of tenor.
    An upward-sloping term structure (contango) leaves the front cheap against the back; an
    inverted one (front vol bid up in stress) makes the front rich.
skew
    ``tanh(rr_25d / skew_scale)``, ``rr_25d`` the 25-delta call minus put IV. A steep put skew
    (puts bid over calls) means fear is priced in: options rich (and vice versa).

``score`` is the weighted mean of the available components (weights renormalised over those
present); ``vol_view = clip(score, -1, 1)`` rounded to 4 decimals. Without ``atm_iv`` or a
realised forecast the value component is missing and the view is 0 with confidence 0 (no
reading of the surface's price). ``confidence = agreement × coverage``: agreement is
``|Σ wᵢcᵢ| / Σ wᵢ|cᵢ|``, coverage the share of the weights that had data. The horizon is one
day: the view is re-read every cycle, and the planner only trades it beyond a threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from qbtc.signals.blend import blend
from qbtc.signals.volview import UnderlyingInputs, VolView, vol_view_id


@dataclass(frozen=True)
class VolRuleParameters:
    """Scales and weights of the vol view rules (see the module docstring)."""

    value_scale: float = 0.10
    term_scale: float = 0.50
    skew_scale: float = 0.10
    value_weight: float = 0.60
    term_weight: float = 0.25
    skew_weight: float = 0.15
    horizon_minutes: int = 1440


@dataclass(frozen=True)
class VolDecision:
    """The outcome of the rules for one underlying, with the reading that explains it."""

    vol_view: float
    confidence: float
    rationale: str


def value_component(inputs: UnderlyingInputs, params: VolRuleParameters) -> float | None:
    """``tanh((realised_forecast - atm_iv) / value_scale)``, or None without both."""
    if inputs.atm_iv is None or inputs.realised_forecast is None:
        return None
    return math.tanh((inputs.realised_forecast - inputs.atm_iv) / params.value_scale)


def term_component(inputs: UnderlyingInputs, params: VolRuleParameters) -> float | None:
    """``tanh(term_slope / term_scale)``: contango favours buying the front."""
    return None if inputs.term_slope is None else math.tanh(inputs.term_slope / params.term_scale)


def vol_skew_component(inputs: UnderlyingInputs, params: VolRuleParameters) -> float | None:
    """``tanh(rr_25d / skew_scale)``: a steep put skew makes options rich."""
    return None if inputs.rr_25d is None else math.tanh(inputs.rr_25d / params.skew_scale)


def decide_vol(inputs: UnderlyingInputs, params: VolRuleParameters) -> VolDecision:
    """Apply the rules to one underlying's inputs."""
    value = value_component(inputs, params)
    atm, forecast = inputs.atm_iv, inputs.realised_forecast
    if value is None or atm is None or forecast is None:
        return VolDecision(0.0, 0.0, "no ATM implied vol or realised forecast: no vol view")
    parts = {
        "value": (params.value_weight, value),
        "term": (params.term_weight, term_component(inputs, params)),
        "skew": (params.skew_weight, vol_skew_component(inputs, params)),
    }
    mixed = blend(parts)
    vol_view = round(max(-1.0, min(1.0, mixed.score)), 4)
    reading = f"atm_iv {atm:.3f} vs forecast rv {forecast:.3f} ({inputs.tenor_days or 0:.1f}d)"
    rationale = "; ".join([reading, *mixed.described, f"score {mixed.score:+.3f}"])
    return VolDecision(vol_view, mixed.confidence, rationale)


def rules_vol_view(
    inputs: UnderlyingInputs,
    params: VolRuleParameters,
    *,
    provider: str,
    model: str,
    run_id: str,
    decision_bar: datetime,
    snapshot_id: str,
) -> VolView:
    """The rules' :class:`VolView` of one underlying."""
    decision = decide_vol(inputs, params)
    return VolView(
        view_id=vol_view_id(provider, model, inputs.underlying, decision_bar, snapshot_id),
        run_id=run_id,
        inputs=inputs,
        timestamp=decision_bar,
        vol_view=decision.vol_view,
        confidence=decision.confidence,
        horizon_minutes=params.horizon_minutes,
        provider=provider,
        model=model,
        rationale=decision.rationale,
        feature_snapshot=snapshot_id,
    )
