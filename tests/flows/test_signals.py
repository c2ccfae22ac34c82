"""Flow `signals` end to end under the session Prefect harness."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from qbtc.config import load_settings
from qbtc.lake import read_dataset, write_dataset
from qbtc.schemas import QUALITY_RESULTS
from qbtc.signals import SignalsRefusedError, snapshot_prompt
from tests.signals.conftest import API_KEY, answer_payload
from tests.signals.gemini_stub import GeminiStub, answer
from tests.signals.snapshots import DECISION_BAR, make_snapshot

SYMBOLS = ["BTC/USDT:USDT", "DOGE/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
AS_OF = DECISION_BAR + timedelta(minutes=1)  # the decision bar has just closed


def store_features(lake_dir: Path) -> None:
    """The fixture snapshot's rows, plus an older bar that must not be used."""
    snapshot = make_snapshot()
    older = make_snapshot(at=DECISION_BAR - timedelta(minutes=1))
    write_dataset(lake_dir, "features", pl.concat([older.perps, snapshot.perps]))
    write_dataset(lake_dir, "option_features", pl.concat([older.options, snapshot.options]))


def store_gate(lake_dir: Path, *, passed: bool, reasons: list[str], run_id: str) -> None:
    """The trading gate row, as the quality stage stores it (see CONTRACTS.md)."""
    row = {
        "run_id": run_id,
        "dataset": "*",
        "check": "gate",
        "level": "dataset",
        "status": "pass" if passed else "fail",
        "element_count": 4,
        "unexpected_count": 0 if passed else 1,
        "details": json.dumps({"reasons": reasons}),
        "timestamp": datetime.now(UTC),
    }
    write_dataset(lake_dir, QUALITY_RESULTS, pl.DataFrame([row], schema=QUALITY_RESULTS.schema))


@pytest.fixture
def lake(lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QBTC_SYMBOLS", ",".join(SYMBOLS))
    store_features(lake_dir)
    return lake_dir


@pytest.fixture
def flow_artifacts() -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    def read(flow_run_id: str) -> list[Any]:
        with get_client(sync_client=True) as client:
            flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
            return client.read_artifacts(artifact_filter=flt)

    return read


def test_rules_flow_stores_one_signal_per_symbol(
    prefect_harness: None, lake: Path, flow_artifacts: Any
) -> None:
    from flows.signals import signals

    store_gate(lake, passed=True, reasons=[], run_id="ingest-1")
    out = signals(provider="rules", as_of=AS_OF)
    assert (out["requested"], out["provider"], out["fallback_reason"]) == ("rules", "rules", None)
    assert out["decision_bar"] == DECISION_BAR.isoformat()
    stored = read_dataset(lake, "signals").sort("symbol")
    assert stored.get_column("symbol").to_list() == SYMBOLS
    assert set(stored.get_column("run_id")) == {out["run_id"]}
    assert set(stored.get_column("timestamp")) == {DECISION_BAR}
    assert set(stored.get_column("feature_snapshot")) == {out["feature_snapshot"]}
    assert stored.filter(pl.col("symbol") == "BTC/USDT:USDT").row(0, named=True)["strength"] == (
        0.3482
    )
    keys = {artifact.key for artifact in flow_artifacts(out["run_id"])}
    assert {"signals", "signals-summary"} <= keys


def test_gemini_flow_reads_the_key_from_a_secret_block_and_never_shows_it(
    prefect_harness: None,
    lake: Path,
    monkeypatch: pytest.MonkeyPatch,
    flow_artifacts: Any,
    data_dir: Path,
) -> None:
    from prefect.blocks.system import Secret

    from flows.signals import signals

    Secret(value=API_KEY).save("qbtc-test-gemini-key", overwrite=True)
    store_gate(lake, passed=True, reasons=[], run_id="ingest-2")
    prompt = snapshot_prompt(make_snapshot())
    with GeminiStub([answer(json.dumps(answer_payload(prompt)))]) as stub:
        monkeypatch.setenv("QBTC_GEMINI_BASE_URL", stub.base_url)
        out = signals(provider="gemini", as_of=AS_OF, gemini_secret_block="qbtc-test-gemini-key")
        again = signals(provider="gemini", as_of=AS_OF, gemini_secret_block="qbtc-test-gemini-key")
        assert stub.hits == 1  # the second run is answered by the cache
    assert (out["provider"], out["fallback_reason"], out["llm_calls"]) == ("gemini", None, 1)
    assert again["provider"] == "gemini"
    assert stub.requests[0].headers["x-goog-api-key"] == API_KEY
    calls = read_dataset(lake, "llm_calls").sort("timestamp")
    assert calls.get_column("status").to_list() == ["ok", "cached"]
    assert list((data_dir / "state" / "llm_cache").rglob("*.json"))
    shown = [json.dumps(out), json.dumps(again), calls.write_csv()]
    shown += [read_dataset(lake, "signals").write_csv()]
    shown += [str(a.data) for run in (out, again) for a in flow_artifacts(run["run_id"])]
    assert all(API_KEY not in text for text in shown)
    assert load_settings().gemini_api_key is None  # it came from the block


def test_flow_without_a_key_falls_back_to_rules_and_says_why(
    prefect_harness: None, lake: Path
) -> None:
    from flows.signals import signals

    store_gate(lake, passed=True, reasons=[], run_id="ingest-3")
    out = signals(provider="gemini", as_of=AS_OF, gemini_secret_block="no-such-block")
    assert out["provider"] == "rules"
    assert "no Gemini API key" in out["fallback_reason"]
    reasons = read_dataset(lake, "signals").get_column("fallback_reason").unique().to_list()
    assert reasons == [out["fallback_reason"]]


def test_flow_refuses_on_a_failed_gate_and_records_why(prefect_harness: None, lake: Path) -> None:
    from flows.signals import signals

    store_gate(lake, passed=False, reasons=["ohlcv: newest bar 2 h old"], run_id="ingest-4")
    with pytest.raises(SignalsRefusedError, match="newest bar 2 h old"):
        signals(provider="rules", as_of=AS_OF)
    assert read_dataset(lake, "signals").height == 0
    alert = read_dataset(lake, "alerts").row(0, named=True)
    assert alert["kind"] == "quality-gate-failed"
    assert json.loads(alert["details"])["stage"] == "signals"
    assert "newest bar 2 h old" in alert["message"]


def test_flow_refuses_when_no_gate_ran(prefect_harness: None, lake: Path) -> None:
    from flows.signals import signals

    with pytest.raises(SignalsRefusedError, match="no quality gate has run yet"):
        signals(provider="rules", as_of=AS_OF)


def test_api_key_comes_from_settings_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.signals import gemini_api_key, gemini_config

    monkeypatch.setenv("QBTC_GEMINI_API_KEY", API_KEY)
    monkeypatch.setenv("QBTC_GEMINI_MAX_RETRIES", "5")
    settings = load_settings()
    key = gemini_api_key(settings, "ignored-when-the-setting-is-there")
    assert key is not None
    assert key.get_secret_value() == API_KEY
    config = gemini_config(settings, key)
    assert (config.model, config.retry.max_retries) == (settings.gemini_model, 5)
    assert API_KEY not in repr(config)
    monkeypatch.delenv("QBTC_GEMINI_API_KEY")
    assert gemini_api_key(load_settings(), None) is None


def test_the_example_strategy_signals_in_the_live_flow(prefect_harness: None, lake: Path) -> None:
    """A user strategy named on the flow (as ``qbtc run --strategy`` passes it) answers."""
    from flows.signals import signals

    store_gate(lake, passed=True, reasons=[], run_id="ingest-1")
    spec = "examples.momentum_strategy:MomentumStrategy"
    out = signals(provider="strategy", as_of=AS_OF, strategy=spec)
    assert (out["provider"], out["model"], out["fallback_reason"]) == ("strategy", spec, None)
    stored = read_dataset(lake, "signals")
    assert set(stored.get_column("provider")) == {"strategy"}
    assert stored.height == len(SYMBOLS)
