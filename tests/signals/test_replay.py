"""The `replay` provider reproduces recorded runs from `llm_calls`, for free."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from qbtc.lake import read_dataset
from qbtc.signals import (
    GeminiConfig,
    GeminiProvider,
    ReplayMissingError,
    ReplayProvider,
    run_signal_cycle,
)
from qbtc.signals.model import Signal, signals_frame
from tests.signals.conftest import MODEL
from tests.signals.gemini_stub import GeminiStub, answer, error
from tests.signals.snapshots import PERPS, FixtureSnapshot, make_snapshot

DECISION_COLUMNS = [
    "symbol",
    "timestamp",
    "direction",
    "strength",
    "confidence",
    "horizon_minutes",
    "model",
    "rationale",
    "feature_snapshot",
]


def decisions(signals: pl.DataFrame | tuple[Signal, ...]) -> list[tuple[object, ...]]:
    frame = signals if isinstance(signals, pl.DataFrame) else signals_frame(signals)
    return frame.sort("symbol").select(DECISION_COLUMNS).rows()


def record_gemini_run(
    lake_dir: Path, config: GeminiConfig, snapshot: FixtureSnapshot, run_id: str
) -> pl.DataFrame:
    """Run the gemini provider and store what it did, as the flow does."""
    provider = GeminiProvider(config, sleep=[].append)
    return run_signal_cycle(snapshot, provider, lake_dir=lake_dir, run_id=run_id).signals


def test_replay_reproduces_a_recorded_run_exactly_without_requests(
    lake_dir: Path,
    snapshot: FixtureSnapshot,
    good_text: str,
    make_config: Callable[..., GeminiConfig],
) -> None:
    with GeminiStub([answer(good_text)]) as stub:
        original = record_gemini_run(lake_dir, make_config(stub.base_url), snapshot, "r1")
        replayed = ReplayProvider(lake_dir, MODEL).propose(snapshot, run_id="r2")
        assert stub.hits == 1
    assert replayed.provider == "replay"
    assert replayed.calls == ()
    assert replayed.fallback_reason is None
    assert decisions(replayed.signals) == decisions(original)
    assert {s.provider for s in replayed.signals} == {"replay"}


def test_replay_reproduces_a_failed_run_as_the_same_rules_fallback(
    lake_dir: Path, snapshot: FixtureSnapshot, make_config: Callable[..., GeminiConfig]
) -> None:
    with GeminiStub([error(500, "INTERNAL")]) as stub:
        original = record_gemini_run(lake_dir, make_config(stub.base_url), snapshot, "r1")
    replayed = ReplayProvider(lake_dir, MODEL).propose(snapshot, run_id="r2")
    assert replayed.provider == "rules"
    assert replayed.fallback_reason is not None
    assert replayed.fallback_reason.startswith("replay: recorded call lc")
    assert "HTTP 500 INTERNAL" in replayed.fallback_reason
    assert decisions(replayed.signals) == decisions(original)


def test_replay_prefers_an_accepted_answer_and_can_pin_a_run(
    lake_dir: Path,
    snapshot: FixtureSnapshot,
    good_text: str,
    make_config: Callable[..., GeminiConfig],
) -> None:
    with GeminiStub([answer("not json"), answer(good_text)]) as stub:
        config = make_config(stub.base_url)
        failed = record_gemini_run(lake_dir, config, snapshot, "bad-run")
        accepted = record_gemini_run(lake_dir, config, snapshot, "good-run")
    latest = ReplayProvider(lake_dir, MODEL).propose(snapshot, run_id="x")
    assert decisions(latest.signals) == decisions(accepted)
    pinned = ReplayProvider(lake_dir, MODEL, source_run_id="bad-run").propose(snapshot, run_id="x")
    assert decisions(pinned.signals) == decisions(failed)
    assert "malformed JSON" in (pinned.fallback_reason or "")


def test_a_missing_record_is_a_clear_error(
    lake_dir: Path,
    snapshot: FixtureSnapshot,
    good_text: str,
    make_config: Callable[..., GeminiConfig],
) -> None:
    with pytest.raises(ReplayMissingError, match="run the `gemini` provider on this feature"):
        ReplayProvider(lake_dir, MODEL).propose(snapshot, run_id="x")
    with GeminiStub([answer(good_text)]) as stub:
        record_gemini_run(lake_dir, make_config(stub.base_url), snapshot, "r1")
    other_model = ReplayProvider(lake_dir, "gemini-2.5-flash")
    with pytest.raises(ReplayMissingError, match=r"for model gemini-2\.5-flash"):
        other_model.propose(snapshot, run_id="x")
    moved = {**PERPS, "BTC/USDT:USDT": {**PERPS["BTC/USDT:USDT"], "zscore_240": 2.5}}
    with pytest.raises(ReplayMissingError):
        ReplayProvider(lake_dir, MODEL).propose(make_snapshot(moved), run_id="x")
    with pytest.raises(ReplayMissingError, match="in run nope"):
        ReplayProvider(lake_dir, MODEL, source_run_id="nope").propose(snapshot, run_id="x")
    assert read_dataset(lake_dir, "llm_calls").height == 1
