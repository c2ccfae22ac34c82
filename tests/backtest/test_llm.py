"""LLMs in backtests: gemini answers from the cache first under a hard token budget and
carries the caveat; replay reproduces a recorded backtest for free, and a decision nobody
answered is a clear error. Gemini is the real SDK against a local stub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from qbtc.backtest.config import BacktestInputError
from qbtc.backtest.pointintime import PointInTime
from qbtc.backtest.results import write_results
from qbtc.backtest.runner import GEMINI_CAVEAT, measure
from qbtc.backtest.window import load_window
from qbtc.signals import GeminiConfig, GeminiProvider, LlmCache, ReplayProvider
from qbtc.signals.gemini import GeminiRetryPolicy
from qbtc.signals.prompt import snapshot_prompt
from tests.backtest.helpers import MAX_GAP, config, run
from tests.backtest.lake import START
from tests.signals.conftest import MODEL, answer_payload
from tests.signals.gemini_stub import GeminiStub, answer

CFG = config(end=START.replace(hour=2), provider="gemini")


def _answers(lake: Path) -> list:
    """One valid answer per decision of CFG, in order (what the model would say)."""
    window = load_window(lake, CFG, max_gap=MAX_GAP)
    times = CFG.decision_times()
    point = PointInTime(window, times)
    prompts = [snapshot_prompt(point.snapshot(t, CFG.symbols), CFG.symbols) for t in times]
    return [answer(json.dumps(answer_payload(p))) for p in prompts]


def _gemini(url: str, state: Path, budget: int = 100_000) -> GeminiProvider:
    settings = GeminiConfig(
        model=MODEL,
        api_key=SecretStr("AIzaTEST-key"),
        base_url=url,
        timeout_s=2.0,
        retry=GeminiRetryPolicy(max_retries=0),
        token_budget=budget,
    )
    return GeminiProvider(settings, cache=LlmCache.in_state_dir(state), sleep=[].append)


def _decisions(result):
    return [(i.client_order_id, i.side, i.quantity, i.status) for i in result.intents]


def test_gemini_answers_once_then_from_its_cache_and_replay_reproduces_it(
    sim_lake: Path, tmp_path: Path
):
    replies = _answers(sim_lake)
    with GeminiStub(replies) as stub:
        first = run(sim_lake, CFG, _gemini(stub.base_url, tmp_path / "state"))
        assert stub.hits == 3
        again = run(sim_lake, CFG, _gemini(stub.base_url, tmp_path / "state"))
        assert stub.hits == 3, "a second backtest must answer from the cache"
    assert first.caveat == GEMINI_CAVEAT
    assert all(d.fallback_reason is None for d in first.decisions)
    assert _decisions(again) == _decisions(first)
    write_results(sim_lake, first, measure(first), tear_sheet=None)
    replayed = run(
        sim_lake, config(end=CFG.end, provider="replay"), ReplayProvider(sim_lake, MODEL)
    )
    assert _decisions(replayed) == _decisions(first)
    assert replayed.calls == []


def test_gemini_stops_asking_once_its_budget_is_spent(sim_lake: Path, tmp_path: Path):
    with GeminiStub(_answers(sim_lake)) as stub:
        result = run(sim_lake, CFG, _gemini(stub.base_url, tmp_path / "state", budget=1500))
        assert stub.hits == 1
    reasons = [d.fallback_reason for d in result.decisions]
    assert reasons[0] is None
    assert all(r and "budget" in r for r in reasons[1:])


def test_replay_without_a_recorded_answer_names_the_decision(sim_lake: Path):
    with pytest.raises(BacktestInputError, match="decision at 2026-11-20 00:00 UTC: no recorded"):
        run(sim_lake, config(provider="replay"), ReplayProvider(sim_lake, MODEL))
