"""The ``rules`` provider: deterministic, documented rules over the feature snapshot.

Per symbol, up to three directional components, each in [-1, 1]:

trend
    ``tanh(zscore_240 / trend_z_scale)``: price above its 240-bar mean is bullish. Halved when
    ``momentum_240`` has the opposite sign (the two trend measures disagree).
carry
    ``-tanh(carry / carry_scale)`` where ``carry`` is the mean of the annualised funding
    (``funding_rate`` per 8 h × 3 × 365) and ``basis_annualized``. Rich funding/basis means
    crowded longs who pay to hold: it favours the short side (and vice versa).
skew (option underlyings only, BTC and ETH)
    ``tanh(rr_25d / skew_scale)`` on the expiry closest to 30 days: calls bid over puts
    (positive risk reversal) is bullish.

``score`` is the weighted mean of the available components (weights renormalised over what is
available). Two volatility-regime multipliers then size it down:

* stressed realised vol, ``rv_cc_60 / ewma_vol >= stress_ratio`` or
  ``rank_rv_cc_60 >= stress_rank``: × ``stress_multiplier``;
* rich implied vol, ``iv_minus_rv >= rich_iv_spread``: × ``rich_iv_multiplier``.

``strength = clip(score × multipliers, -1, 1)`` rounded to 4 decimals, set to 0 (``flat``) when
``|strength| < flat_threshold``. ``confidence = agreement × coverage``: agreement is
``|Σ wᵢcᵢ| / Σ wᵢ|cᵢ|`` (1 when all components point the same way), coverage the share of the
applicable weights that had data. The horizon is 240 minutes, the trend window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from qbtc.signals.blend import blend
from qbtc.signals.calls import LlmCall
from qbtc.signals.inputs import SymbolInputs, collect_inputs
from qbtc.signals.model import Direction, ProviderResult, Signal, SnapshotLike, signal_id
from qbtc.signals.volrules import VolRuleParameters, rules_vol_view
from qbtc.signals.volview import VolView, collect_underlying_inputs

RULES_MODEL = "rules-v1"
#: Funding settlements per year (every 8 hours).
FUNDINGS_PER_YEAR = 3 * 365


@dataclass(frozen=True)
class RuleParameters:
    """Scales, weights and thresholds of the rules (see the module docstring)."""

    trend_z_scale: float = 2.0
    carry_scale: float = 0.25
    skew_scale: float = 0.05
    trend_weight: float = 0.55
    carry_weight: float = 0.25
    skew_weight: float = 0.20
    stress_ratio: float = 1.5
    stress_rank: float = 0.9
    stress_multiplier: float = 0.5
    rich_iv_spread: float = 0.10
    rich_iv_multiplier: float = 0.8
    flat_threshold: float = 0.10
    horizon_minutes: int = 240


@dataclass(frozen=True)
class RuleDecision:
    """The outcome of the rules for one symbol, with the parts that explain it."""

    direction: Direction
    strength: float
    confidence: float
    rationale: str


def trend_component(inputs: SymbolInputs, params: RuleParameters) -> float | None:
    """Trend in [-1, 1] from ``zscore_240``, halved when ``momentum_240`` disagrees."""
    if inputs.zscore_240 is None:
        return None
    trend = math.tanh(inputs.zscore_240 / params.trend_z_scale)
    if inputs.momentum_240 is not None and inputs.momentum_240 * inputs.zscore_240 < 0:
        trend *= 0.5
    return trend


def carry_rate(inputs: SymbolInputs) -> float | None:
    """Mean of annualised funding and annualised basis (fraction per year), or None."""
    parts = []
    if inputs.funding_rate is not None:
        parts.append(inputs.funding_rate * FUNDINGS_PER_YEAR)
    if inputs.basis_annualized is not None:
        parts.append(inputs.basis_annualized)
    return sum(parts) / len(parts) if parts else None


def carry_component(inputs: SymbolInputs, params: RuleParameters) -> float | None:
    """Carry in [-1, 1]: rich funding/basis favours the short side."""
    rate = carry_rate(inputs)
    return None if rate is None else -math.tanh(rate / params.carry_scale)


def skew_component(inputs: SymbolInputs, params: RuleParameters) -> float | None:
    """Skew in [-1, 1] from the 25-delta risk reversal (call minus put IV)."""
    return None if inputs.rr_25d is None else math.tanh(inputs.rr_25d / params.skew_scale)


def regime_multiplier(inputs: SymbolInputs, params: RuleParameters) -> tuple[float, list[str]]:
    """Size multiplier from the volatility regime, with the reasons that applied."""
    multiplier, notes = 1.0, []
    ratio = None
    if inputs.rv_cc_60 is not None and inputs.ewma_vol:
        ratio = inputs.rv_cc_60 / inputs.ewma_vol
    rank = inputs.rank_rv_cc_60
    if (ratio is not None and ratio >= params.stress_ratio) or (
        rank is not None and rank >= params.stress_rank
    ):
        multiplier *= params.stress_multiplier
        notes.append(f"stressed vol (rv/ewma={_fmt(ratio)}, rank={_fmt(rank)})")
    if inputs.iv_minus_rv is not None and inputs.iv_minus_rv >= params.rich_iv_spread:
        multiplier *= params.rich_iv_multiplier
        notes.append(f"rich implied vol (iv-rv={inputs.iv_minus_rv:+.3f})")
    return multiplier, notes


def _fmt(value: float | None) -> str:
    return "na" if value is None else f"{value:.2f}"


def decide(inputs: SymbolInputs, params: RuleParameters) -> RuleDecision:
    """Apply the rules to one symbol's inputs."""
    has_options = inputs.rr_25d is not None or inputs.atm_iv is not None
    parts = {
        "trend": (params.trend_weight, trend_component(inputs, params)),
        "carry": (params.carry_weight, carry_component(inputs, params)),
    }
    if has_options:
        parts["skew"] = (params.skew_weight, skew_component(inputs, params))
    mixed = blend(parts)
    multiplier, notes = regime_multiplier(inputs, params)
    strength = round(max(-1.0, min(1.0, mixed.score * multiplier)), 4)
    if abs(strength) < params.flat_threshold:
        strength = 0.0
    direction: Direction = "long" if strength > 0 else "short" if strength < 0 else "flat"
    rationale = "; ".join([*mixed.described, *notes, f"score {mixed.score:+.3f}"])
    return RuleDecision(direction, strength, mixed.confidence, rationale)


@dataclass(frozen=True)
class RulesProvider:
    """Deterministic signals from :func:`decide` for every symbol of the snapshot, and a
    volatility view (:mod:`qbtc.signals.volrules`) for every option underlying.

    ``symbols`` restricts the universe (default: every symbol in the snapshot);
    ``underlyings`` the option underlyings (default: every one with option features).
    """

    parameters: RuleParameters = RuleParameters()
    symbols: tuple[str, ...] | None = None
    underlyings: tuple[str, ...] | None = None
    vol_parameters: VolRuleParameters = field(default_factory=VolRuleParameters)

    @property
    def name(self) -> str:
        return "rules"

    def propose(self, snapshot: SnapshotLike, *, run_id: str) -> ProviderResult:
        """One signal per symbol of the snapshot's universe."""
        signals = [
            self._signal(inputs, snapshot, run_id)
            for inputs in collect_inputs(snapshot, self.symbols)
        ]
        views = self.vol_views(snapshot, run_id=run_id)
        return ProviderResult(self.name, RULES_MODEL, tuple(signals), vol_views=views)

    def vol_views(self, snapshot: SnapshotLike, *, run_id: str) -> tuple[VolView, ...]:
        """One rules volatility view per option underlying of the snapshot."""
        return tuple(
            rules_vol_view(
                inputs,
                self.vol_parameters,
                provider=self.name,
                model=RULES_MODEL,
                run_id=run_id,
                decision_bar=snapshot.timestamp,
                snapshot_id=snapshot.snapshot_id,
            )
            for inputs in collect_underlying_inputs(snapshot, self.underlyings)
        )

    def _signal(self, inputs: SymbolInputs, snapshot: SnapshotLike, run_id: str) -> Signal:
        decision = decide(inputs, self.parameters)
        return Signal(
            signal_id=signal_id(
                self.name, RULES_MODEL, inputs.symbol, snapshot.timestamp, snapshot.snapshot_id
            ),
            run_id=run_id,
            symbol=inputs.symbol,
            timestamp=snapshot.timestamp,
            direction=decision.direction,
            strength=decision.strength,
            confidence=decision.confidence,
            horizon_minutes=self.parameters.horizon_minutes,
            provider=self.name,
            model=RULES_MODEL,
            rationale=decision.rationale,
            feature_snapshot=snapshot.snapshot_id,
        )


def fall_back(
    rules: RulesProvider,
    snapshot: SnapshotLike,
    *,
    run_id: str,
    reason: str,
    calls: Sequence[LlmCall] = (),
) -> ProviderResult:
    """The rules' answer, marked with why an LLM answer was not used."""
    result = rules.propose(snapshot, run_id=run_id)
    marked = tuple(replace(s, fallback_reason=reason) for s in result.signals)
    views = tuple(replace(v, fallback_reason=reason) for v in result.vol_views)
    return ProviderResult(result.provider, result.model, marked, tuple(calls), reason, views)
