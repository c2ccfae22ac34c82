"""Golden values and invariants of the `rules` provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.signals.inputs import SymbolInputs
from qbtc.signals.model import signal_id, signal_ids
from qbtc.signals.rules import RULES_MODEL, RuleParameters, RulesProvider, decide
from tests.signals.snapshots import DECISION_BAR, make_snapshot

# Hand-computed from tests/signals/snapshots.py (see the rules module docstring):
# BTC  trend tanh(0.75)=0.63515, carry -tanh(((1e-4*1095)+0.05)/2/0.25)=-0.30860,
#      skew tanh(0.02/0.05)=0.37995 (30-day expiry) -> score 0.34817, calm vol, x1.
# ETH  trend tanh(-1)=-0.76159, carry +0.53562, skew tanh(-0.8)=-0.66404 -> score -0.41778,
#      rv/ewma = 1.8 (stressed, x0.5) and iv-rv = 0.15 (rich, x0.8) -> -0.16711.
# SOL  trend tanh(0.05)/2 (momentum disagrees) = 0.02498, carry -0.71483, no options
#      -> score -0.20621, confidence |w|/sum|w| = 0.85722.
# DOGE trend only, tanh(0.05)=0.04996 < 0.10 -> flat; coverage 0.55/0.80.
GOLDEN = {
    "BTC/USDT:USDT": ("long", 0.3482, 0.6929),
    "ETH/USDT:USDT": ("short", -0.1671, 0.6094),
    "SOL/USDT:USDT": ("short", -0.2062, 0.8572),
    "DOGE/USDT:USDT": ("flat", 0.0, 0.6875),
}


def test_rules_match_hand_computed_golden_values() -> None:
    snapshot = make_snapshot()
    result = RulesProvider().propose(snapshot, run_id="run-1")
    got = {s.symbol: (s.direction, s.strength, s.confidence) for s in result.signals}
    assert got == GOLDEN
    assert result.provider == "rules"
    assert result.model == RULES_MODEL
    assert result.calls == ()
    assert result.fallback_reason is None


def test_rules_signals_carry_identity_and_explanation() -> None:
    snapshot = make_snapshot()
    signals = {s.symbol: s for s in RulesProvider().propose(snapshot, run_id="r").signals}
    btc = signals["BTC/USDT:USDT"]
    assert btc.signal_id == signal_id(
        "rules", RULES_MODEL, "BTC/USDT:USDT", DECISION_BAR, snapshot.snapshot_id
    )
    assert btc.timestamp == DECISION_BAR
    assert btc.feature_snapshot == snapshot.snapshot_id
    assert btc.horizon_minutes == 240
    assert btc.rationale == "trend +0.64; carry -0.31; skew +0.38; score +0.348"
    eth = signals["ETH/USDT:USDT"].rationale
    assert "stressed vol (rv/ewma=1.80" in eth
    assert "rich implied vol (iv-rv=+0.150)" in eth


def test_symbols_parameter_restricts_the_universe() -> None:
    provider = RulesProvider(symbols=("ETH/USDT:USDT", "XRP/USDT:USDT"))
    result = provider.propose(make_snapshot(), run_id="r")
    assert [s.symbol for s in result.signals] == ["ETH/USDT:USDT"]


def test_signal_ids_are_deterministic_and_differ_by_snapshot() -> None:
    first = RulesProvider().propose(make_snapshot(), run_id="a").signals
    again = RulesProvider().propose(make_snapshot(), run_id="b").signals
    assert [s.signal_id for s in first] == [s.signal_id for s in again]
    other = make_snapshot(perps={"BTC/USDT:USDT": {"close": 1.0, "zscore_240": 3.0}})
    moved = RulesProvider().propose(other, run_id="a").signals[0]
    assert moved.signal_id != first[0].signal_id


def test_signal_ids_are_those_already_stored() -> None:
    """Pinned ids (signals in the lake and orders refer to them): the key's parts joined by
    the unit separator, the bar in UTC ISO form, whatever the bar's time zone."""
    bar = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    snapshot = "ab" * 32
    assert signal_id("rules", "rules-v1", "BTC/USDT:USDT", bar, snapshot) == PINNED[0]
    assert signal_ids(
        "gemini", None, ["ETH/USDT:USDT", "BTC/USDT:USDT"], bar.astimezone(HOUR_EAST), "cd" * 32
    ) == [PINNED[1], signal_id("gemini", None, "BTC/USDT:USDT", bar, "cd" * 32)]
    with pytest.raises(ValueError, match="timezone-aware"):
        signal_ids("rules", None, ["BTC/USDT:USDT"], bar.replace(tzinfo=None), snapshot)


PINNED = ("sg1e88059cf66d31459012cdba96674dbc", "sg5217083433f2165ca8f3ce6fcdbe2ef2")
HOUR_EAST = timezone(timedelta(hours=1))


finite = st.floats(-5, 5, allow_nan=False)
optional = st.none() | finite


@st.composite
def symbol_inputs(draw: st.DrawFn) -> SymbolInputs:
    return SymbolInputs(
        symbol="BTC/USDT:USDT",
        zscore_240=draw(optional),
        momentum_240=draw(optional),
        rv_cc_60=draw(st.none() | st.floats(0.01, 3)),
        ewma_vol=draw(st.none() | st.floats(0.01, 3)),
        rank_rv_cc_60=draw(st.none() | st.floats(0, 1)),
        funding_rate=draw(st.none() | st.floats(-0.01, 0.01)),
        basis_annualized=draw(optional),
        rr_25d=draw(st.none() | st.floats(-0.5, 0.5)),
        iv_minus_rv=draw(st.none() | st.floats(-1, 1)),
        atm_iv=draw(st.none() | st.floats(0.05, 3)),
    )


@given(symbol_inputs())
def test_rules_always_give_valid_consistent_signals(inputs: SymbolInputs) -> None:
    decision = decide(inputs, RuleParameters())
    assert -1 <= decision.strength <= 1
    assert 0 <= decision.confidence <= 1
    expected = "long" if decision.strength > 0 else "short" if decision.strength < 0 else "flat"
    assert decision.direction == expected
    assert decision.strength == 0 or abs(decision.strength) >= 0.10


@given(symbol_inputs())
def test_mirrored_market_gives_the_mirrored_signal(inputs: SymbolInputs) -> None:
    def neg(value: float | None) -> float | None:
        return None if value is None else -value

    mirrored = SymbolInputs(
        **{
            **inputs.values(),
            "symbol": inputs.symbol,
            "zscore_240": neg(inputs.zscore_240),
            "momentum_240": neg(inputs.momentum_240),
            "funding_rate": neg(inputs.funding_rate),
            "basis_annualized": neg(inputs.basis_annualized),
            "rr_25d": neg(inputs.rr_25d),
        }
    )
    params = RuleParameters()
    original, flipped = decide(inputs, params), decide(mirrored, params)
    assert flipped.strength == pytest.approx(-original.strength, abs=1e-4)
    assert flipped.confidence == pytest.approx(original.confidence, abs=1e-4)
