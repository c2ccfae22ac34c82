"""Fixtures of the signal tests: a fixture snapshot, its prompt, good answers, configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from qbtc.signals import GeminiConfig, GeminiRetryPolicy, snapshot_prompt
from qbtc.signals.prompt import Prompt
from tests.signals.snapshots import FixtureSnapshot, make_snapshot

API_KEY = "AIzaTEST-secret-key-0123456789"
MODEL = "gemini-3-flash-preview"
FAST_RETRY = GeminiRetryPolicy(max_retries=2, base_delay_s=0.001, max_delay_s=0.01)


@pytest.fixture
def snapshot() -> FixtureSnapshot:
    return make_snapshot()


@pytest.fixture
def prompt(snapshot: FixtureSnapshot) -> Prompt:
    return snapshot_prompt(snapshot)


#: The model's view per symbol in the good answer: (direction, strength, confidence, horizon).
GOOD_VIEWS = {
    "BTC/USDT:USDT": ("long", 0.4, 0.7, 240),
    "DOGE/USDT:USDT": ("flat", 0.0, 0.3, 60),
    "ETH/USDT:USDT": ("short", -0.25, 0.6, 480),
    "SOL/USDT:USDT": ("short", -0.1, 0.5, 240),
}


#: The model's vol view per underlying in the good answer: (vol_view, confidence).
GOOD_VOL_VIEWS = {"BTC": (0.35, 0.6), "ETH": (-0.5, 0.7)}


def answer_payload(prompt: Prompt, **changes: dict[str, Any]) -> dict[str, Any]:
    """A valid answer to ``prompt``; ``changes`` overrides fields per symbol."""
    signals = []
    for symbol in prompt.universe:
        direction, strength, confidence, horizon = GOOD_VIEWS[symbol]
        shown = prompt.values[symbol]
        cite = "zscore_240"
        view = {
            "symbol": symbol,
            "direction": direction,
            "strength": strength,
            "confidence": confidence,
            "horizon_minutes": horizon,
            "rationale": f"{symbol.split('/')[0]} view from its z-score",
            "cited": [{"feature": cite, "value": shown[cite]}],
        }
        view.update(changes.get(symbol, {}))
        signals.append(view)
    vol_views = []
    for underlying in prompt.underlyings:
        vol_view, confidence = GOOD_VOL_VIEWS[underlying]
        shown = prompt.vol_values[underlying]
        vol = {
            "underlying": underlying,
            "vol_view": vol_view,
            "confidence": confidence,
            "horizon_minutes": 1440,
            "rationale": f"{underlying} implied against forecast realised vol",
            "cited": [{"feature": "atm_iv", "value": shown["atm_iv"]}],
        }
        vol.update(changes.get(underlying, {}))
        vol_views.append(vol)
    return {"signals": signals, "vol_views": vol_views}


@pytest.fixture
def good_text(prompt: Prompt) -> str:
    return json.dumps(answer_payload(prompt))


@pytest.fixture
def make_config() -> Callable[..., GeminiConfig]:
    def build(base_url: str, **overrides: Any) -> GeminiConfig:
        values: dict[str, Any] = {
            "model": MODEL,
            "api_key": SecretStr(API_KEY),
            "base_url": base_url,
            "timeout_s": 2.0,
            "retry": FAST_RETRY,
            "token_budget": 100_000,
        }
        values.update(overrides)
        return GeminiConfig(**values)

    return build
