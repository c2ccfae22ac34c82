"""One signal cycle end to end in the library: provider choice, lake writes, gate refusal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from qbtc.lake import LakeReader, read_dataset
from qbtc.schemas import LLM_CALLS, SIGNALS
from qbtc.signals import (
    GeminiConfig,
    GeminiProvider,
    ReplayProvider,
    RulesProvider,
    SnapshotError,
    make_provider,
    refusal_message,
    run_signal_cycle,
)
from tests.signals.conftest import MODEL
from tests.signals.gemini_stub import GeminiStub, answer, error
from tests.signals.snapshots import FixtureSnapshot, make_snapshot


@dataclass(frozen=True)
class Gate:
    passed: bool
    run_id: str | None
    timestamp: datetime | None
    reasons: tuple[str, ...]


def test_rules_cycle_stores_one_signal_per_symbol_idempotently(
    lake_dir: Path, snapshot: FixtureSnapshot
) -> None:
    first = run_signal_cycle(snapshot, RulesProvider(), lake_dir=lake_dir, run_id="r1")
    assert (first.requested, first.provider, first.calls) == ("rules", "rules", 0)
    assert first.decision_bar == snapshot.timestamp
    stored = read_dataset(lake_dir, "signals").sort("symbol")
    assert stored.schema == SIGNALS.schema
    assert stored.height == 4
    assert stored.drop("created_at").equals(first.signals.sort("symbol").drop("created_at"))
    run_signal_cycle(snapshot, RulesProvider(), lake_dir=lake_dir, run_id="r2")
    again = read_dataset(lake_dir, "signals")
    assert again.height == 4  # same signal ids: kept, not added
    # the first run's rows stand, so orders decided on them still trace back to run r1
    assert set(again.get_column("run_id")) == {"r1"}
    assert read_dataset(lake_dir, "llm_calls").height == 0


def test_gemini_fallback_cycle_records_calls_and_reason(
    lake_dir: Path, snapshot: FixtureSnapshot, make_config: Callable[..., GeminiConfig]
) -> None:
    with GeminiStub([error(503, "UNAVAILABLE")]) as stub:
        provider = GeminiProvider(make_config(stub.base_url), sleep=[].append)
        result = run_signal_cycle(snapshot, provider, lake_dir=lake_dir, run_id="r1")
    assert (result.requested, result.provider, result.calls) == ("gemini", "rules", 3)
    assert result.fallback_reason is not None
    assert "HTTP 503" in result.fallback_reason
    calls = read_dataset(lake_dir, "llm_calls")
    assert calls.get_column("status").to_list() == ["error"] * 3
    reasons = read_dataset(lake_dir, "signals").get_column("fallback_reason").unique()
    assert reasons.to_list() == [result.fallback_reason]


def test_gemini_cycle_totals_tokens_and_cost(
    lake_dir: Path,
    snapshot: FixtureSnapshot,
    good_text: str,
    make_config: Callable[..., GeminiConfig],
) -> None:
    with GeminiStub([answer(good_text, prompt_tokens=1000, output_tokens=500)]) as stub:
        provider = GeminiProvider(make_config(stub.base_url), sleep=[].append)
        result = run_signal_cycle(snapshot, provider, lake_dir=lake_dir, run_id="r1")
    assert (result.provider, result.model, result.fallback_reason) == ("gemini", MODEL, None)
    assert (result.input_tokens, result.output_tokens) == (1000, 500)
    assert result.cost_usd == pytest.approx((1000 * 0.5 + 500 * 3.0) / 1e6)
    stored = read_dataset(lake_dir, "llm_calls").row(0, named=True)
    assert stored["status"] == "ok"
    assert stored["response"] == good_text


def test_make_provider_builds_each_strategy(
    lake_dir: Path, data_dir: Path, make_config: Callable[..., GeminiConfig]
) -> None:
    config = make_config("http://127.0.0.1:9/")
    kwargs = {"gemini": config, "lake_dir": lake_dir, "state_dir": data_dir / "state"}
    rules = make_provider("rules", symbols=["BTC/USDT:USDT"], **kwargs)
    assert isinstance(rules, RulesProvider)
    assert rules.symbols == ("BTC/USDT:USDT",)
    gemini = make_provider("gemini", **kwargs)
    assert isinstance(gemini, GeminiProvider)
    assert gemini.cache is not None
    assert gemini.cache.directory == data_dir / "state" / "llm_cache"
    replay = make_provider("replay", replay_run_id="r0", **kwargs)
    assert isinstance(replay, ReplayProvider)
    assert (replay.model, replay.source_run_id) == (MODEL, "r0")
    with pytest.raises(ValueError, match="use rules, gemini, replay or strategy"):
        make_provider("oracle", **kwargs)  # type: ignore[arg-type]


def test_refusal_message_says_why_and_what_to_do() -> None:
    gate = Gate(False, "ingest-1", datetime(2026, 1, 5, tzinfo=UTC), ("ohlcv stale", "gap"))
    assert refusal_message(gate) == (
        "signals refused: the quality gate failed (ohlcv stale; gap); "
        "fix the data and re-run ingest"
    )
    assert "no reason given" in refusal_message(Gate(False, None, None, ()))


def test_an_empty_snapshot_says_what_to_run(lake_dir: Path) -> None:
    empty = make_snapshot(perps={})
    with pytest.raises(SnapshotError, match="run `qbtc ingest` and the features flow first"):
        run_signal_cycle(empty, RulesProvider(), lake_dir=lake_dir, run_id="r1")
    assert read_dataset(lake_dir, "signals").height == 0
    assert isinstance(empty.perps, pl.DataFrame)


def test_views_show_stored_signals_and_calls(
    lake_dir: Path,
    snapshot: FixtureSnapshot,
    good_text: str,
    make_config: Callable[..., GeminiConfig],
) -> None:
    with GeminiStub([answer(good_text)]) as stub:
        provider = GeminiProvider(make_config(stub.base_url), sleep=[].append)
        result = run_signal_cycle(snapshot, provider, lake_dir=lake_dir, run_id="r1")
    reader = LakeReader(lake_dir)
    try:
        signals = reader.query("SELECT * FROM signals ORDER BY symbol")
        calls = reader.query("SELECT * FROM llm_calls")
        empty_case = reader.query(
            "SELECT count(*) AS n FROM signals WHERE fallback_reason IS NOT NULL"
        )
    finally:
        reader.close()
    assert signals.columns == list(SIGNALS.columns)
    assert signals.drop("created_at").equals(result.signals.sort("symbol").drop("created_at"))
    assert set(calls.columns) == set(LLM_CALLS.columns)
    assert calls.get_column("status").to_list() == ["ok"]
    assert empty_case.item() == 0
