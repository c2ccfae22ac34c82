"""Volatility views: the rules formula (golden values, properties), the gemini answer's vol
views through the real google-genai client against the local stub, replay, and storage."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.lake import LakeReader, read_dataset
from qbtc.schemas import VOL_VIEWS
from qbtc.signals import (
    GeminiConfig,
    GeminiProvider,
    ReplayProvider,
    RulesProvider,
    UnderlyingInputs,
    VolRuleParameters,
    collect_underlying_inputs,
    decide_vol,
    run_signal_cycle,
)
from qbtc.signals.model import ProviderResult
from qbtc.signals.prompt import Prompt
from tests.signals.conftest import GOOD_VOL_VIEWS, MODEL, answer_payload
from tests.signals.gemini_stub import GeminiStub, answer
from tests.signals.snapshots import PERPS, FixtureSnapshot, make_snapshot

PARAMS = VolRuleParameters()
ConfigFactory = Callable[..., GeminiConfig]


def test_inputs_read_the_expiry_closest_to_30_days_and_the_perps_ewma_vol(
    snapshot: FixtureSnapshot,
) -> None:
    btc, eth = collect_underlying_inputs(snapshot)
    assert (btc.underlying, btc.tenor_days, btc.atm_iv, btc.realised_forecast) == (
        "BTC",
        30.0,
        0.55,
        0.5,
    )
    assert (eth.tenor_days, eth.rr_25d, eth.term_slope) == (28.0, -0.04, 0.02)
    assert btc.expiry == snapshot.timestamp + timedelta(days=30)


def test_without_the_perp_the_forecast_is_the_features_realised_vol() -> None:
    perps = {s: v for s, v in PERPS.items() if not s.startswith("ETH/")}
    (_, eth) = collect_underlying_inputs(make_snapshot(perps))
    assert eth.realised_forecast == pytest.approx(0.70 - 0.15)  # atm_iv - iv_minus_rv


def test_rules_golden_values() -> None:
    inputs = UnderlyingInputs(
        "BTC", tenor_days=30.0, atm_iv=0.55, realised_forecast=0.5, term_slope=0.02, rr_25d=0.02
    )
    decision = decide_vol(inputs, PARAMS)
    value, term, skew = math.tanh(-0.5), math.tanh(0.04), math.tanh(0.2)
    score = 0.60 * value + 0.25 * term + 0.15 * skew
    assert decision.vol_view == round(score, 4) == -0.2377
    agreement = abs(score) / (0.60 * abs(value) + 0.25 * term + 0.15 * skew)
    assert decision.confidence == round(agreement, 4)
    assert decision.rationale.startswith("atm_iv 0.550 vs forecast rv 0.500 (30.0d); value -0.46")


def test_cheap_options_give_a_positive_view_and_missing_price_gives_none() -> None:
    cheap = UnderlyingInputs("ETH", atm_iv=0.40, realised_forecast=0.70, term_slope=0.3)
    assert decide_vol(cheap, PARAMS).vol_view > 0.5
    blind = UnderlyingInputs("ETH", term_slope=0.3, rr_25d=-0.1)
    decision = decide_vol(blind, PARAMS)
    assert (decision.vol_view, decision.confidence) == (0.0, 0.0)
    assert "no ATM implied vol" in decision.rationale


vols = st.floats(0.05, 3.0)
optional = st.one_of(st.none(), st.floats(-2.0, 2.0))


@given(vols, vols, optional, optional)
def test_views_stay_in_range_and_rise_with_the_realised_forecast(
    atm: float, forecast: float, slope: float | None, rr: float | None
) -> None:
    low = decide_vol(UnderlyingInputs("BTC", None, 30, atm, forecast, slope, rr), PARAMS)
    high = decide_vol(UnderlyingInputs("BTC", None, 30, atm, forecast + 0.1, slope, rr), PARAMS)
    for decision in (low, high):
        assert -1.0 <= decision.vol_view <= 1.0
        assert 0.0 <= decision.confidence <= 1.0
    assert high.vol_view >= low.vol_view


def test_rules_provider_gives_one_view_per_underlying_with_lineage(
    snapshot: FixtureSnapshot,
) -> None:
    result = RulesProvider().propose(snapshot, run_id="r1")
    assert [v.underlying for v in result.vol_views] == ["BTC", "ETH"]
    btc = result.vol_views[0]
    assert (btc.run_id, btc.feature_snapshot, btc.provider) == ("r1", snapshot.snapshot_id, "rules")
    assert btc.view_id.startswith("vv")
    only_btc = RulesProvider(underlyings=("BTC",)).propose(snapshot, run_id="r1")
    assert [v.underlying for v in only_btc.vol_views] == ["BTC"]


def run_gemini(stub: GeminiStub, make_config: ConfigFactory, snapshot: FixtureSnapshot):
    provider = GeminiProvider(make_config(stub.base_url), sleep=[].append)
    return provider.propose(snapshot, run_id="run-1")


def test_gemini_vol_views_come_from_the_answer(
    snapshot: FixtureSnapshot, prompt: Prompt, good_text: str, make_config: ConfigFactory
) -> None:
    with GeminiStub([answer(good_text)]) as stub:
        result = run_gemini(stub, make_config, snapshot)
    assert result.fallback_reason is None
    got = {v.underlying: (v.vol_view, v.confidence) for v in result.vol_views}
    assert got == GOOD_VOL_VIEWS
    btc = result.vol_views[0]
    assert (btc.provider, btc.model, btc.inputs.atm_iv) == ("gemini", MODEL, 0.55)
    assert btc.rationale.endswith("[cited: atm_iv=0.55]")
    request = stub.requests[0].json()
    assert (
        "Give vol views for exactly these underlyings: BTC, ETH."
        in (request["contents"][0]["parts"][0]["text"])
    )


def rules_vol_views(snapshot: FixtureSnapshot) -> list[tuple[str, float]]:
    result = RulesProvider().propose(snapshot, run_id="x")
    return [(v.underlying, v.vol_view) for v in result.vol_views]


def assert_vol_fell_back(result: ProviderResult, snapshot: FixtureSnapshot, reason: str) -> None:
    assert result.provider == "rules"
    assert reason in (result.fallback_reason or "")
    assert [(v.underlying, v.vol_view) for v in result.vol_views] == rules_vol_views(snapshot)
    assert {v.fallback_reason for v in result.vol_views} == {result.fallback_reason}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"ETH": {"underlying": "DOGE"}}, "unknown underlying 'DOGE'"),
        ({"BTC": {"vol_view": 1.5}}, "vol_views.0.vol_view"),
        ({"ETH": {"confidence": -0.1}}, "vol_views.1.confidence"),
        ({"BTC": {"cited": [{"feature": "atm_iv", "value": 0.9}]}}, "BTC: cited atm_iv=0.9"),
    ],
)
def test_bad_vol_views_fall_back_to_rules(
    snapshot: FixtureSnapshot,
    prompt: Prompt,
    make_config: ConfigFactory,
    changes: dict[str, dict[str, object]],
    reason: str,
) -> None:
    payload = answer_payload(prompt, **changes)
    with GeminiStub([answer(json.dumps(payload))]) as stub:
        result = run_gemini(stub, make_config, snapshot)
    assert_vol_fell_back(result, snapshot, reason)


def test_a_missing_vol_view_falls_back(
    snapshot: FixtureSnapshot, prompt: Prompt, make_config: ConfigFactory
) -> None:
    payload = answer_payload(prompt)
    payload["vol_views"] = payload["vol_views"][:1]
    with GeminiStub([answer(json.dumps(payload))]) as stub:
        result = run_gemini(stub, make_config, snapshot)
    assert_vol_fell_back(result, snapshot, "no answer for underlying ETH")


def test_cycle_stores_vol_views_and_replay_reproduces_them(
    lake_dir: Path, snapshot: FixtureSnapshot, good_text: str, make_config: ConfigFactory
) -> None:
    with GeminiStub([answer(good_text)]) as stub:
        provider = GeminiProvider(make_config(stub.base_url), sleep=[].append)
        first = run_signal_cycle(snapshot, provider, lake_dir=lake_dir, run_id="r1")
        replayed = ReplayProvider(lake_dir, MODEL).propose(snapshot, run_id="r2")
        assert stub.hits == 1
    stored = read_dataset(lake_dir, "vol_views").sort("underlying")
    assert stored.schema == VOL_VIEWS.schema
    assert stored["vol_view"].to_list() == [0.35, -0.5]
    assert set(stored["run_id"]) == {"r1"}
    assert first.vol_views.height == 2
    assert [(v.underlying, v.vol_view, v.provider) for v in replayed.vol_views] == [
        ("BTC", 0.35, "replay"),
        ("ETH", -0.5, "replay"),
    ]
    reader = LakeReader(lake_dir)
    try:
        view = reader.query("SELECT * FROM vol_views ORDER BY underlying")
    finally:
        reader.close()
    assert view.columns == list(VOL_VIEWS.columns)
    run_signal_cycle(snapshot, RulesProvider(), lake_dir=lake_dir, run_id="r3")
    run_signal_cycle(snapshot, RulesProvider(), lake_dir=lake_dir, run_id="r4")
    assert read_dataset(lake_dir, "vol_views").height == 4  # rules replaced, not added
