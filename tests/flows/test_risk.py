"""Flows `risk` and `risk_monitor`: tasks through `.fn()`, then end to end under the harness."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from qbtc.config import load_settings
from qbtc.lake import read_dataset
from qbtc.risk import KillSwitch
from qbtc.risk.cycle_inputs import RiskConfig
from tests.risk import lake
from tests.risk.lake import AS_OF, BTC, ETH


@pytest.fixture
def book(lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QBTC_SYMBOLS", f"{BTC},{ETH}")
    monkeypatch.setenv("QBTC_MC_SCENARIOS", "2000")
    lake.write_lake(lake_dir)
    return lake_dir


def config() -> RiskConfig:
    return RiskConfig.from_settings(load_settings())


def test_tasks_through_fn(book: Path) -> None:
    from flows import risk as risk_flow

    cfg = config()
    inputs = risk_flow.load_inputs.fn(cfg, AS_OF)
    assert inputs.gate.passed
    assert inputs.signals.height == 2
    report = risk_flow.assess.fn(inputs, cfg)
    assert report.assessment.full.var > 0
    made = risk_flow.plan_and_check.fn(inputs, report, cfg, risk_flow.plan_config(cfg), "run-fn")
    decided = made.intents
    assert {i.symbol for i in decided} == {BTC, ETH}
    assert [i.status for i in decided] == ["accepted"] * len(decided)
    rows = risk_flow.risk_metric_rows(report, cfg, "run-fn", "pre_trade")
    assert risk_flow.record.fn(cfg.lake_dir, rows, decided) == len(decided)
    stored = read_dataset(cfg.lake_dir, "order_intents")
    assert sorted(stored["client_order_id"]) == sorted(i.client_order_id for i in decided)


def test_plan_without_signals_proposes_nothing(lake_dir: Path, monkeypatch) -> None:
    from flows import risk as risk_flow

    monkeypatch.setenv("QBTC_SYMBOLS", f"{BTC},{ETH}")
    lake.write_prices(lake_dir)
    lake.write_marks(lake_dir)
    lake.write_positions(lake_dir)
    cfg = config()
    inputs = risk_flow.load_inputs.fn(cfg, AS_OF)
    report = risk_flow.assess.fn(inputs, cfg)
    made = risk_flow.decide_or_reuse(inputs, report, cfg, risk_flow.plan_config(cfg), "r")
    assert made.intents == ()


def breach_events(run_id: str, name: str) -> list[Any]:
    """Events named ``name`` about ``run_id`` on the test server (delivered asynchronously)."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    flt = EventFilter(
        event=EventNameFilter(name=[name]),
        resource=EventResourceFilter(id=[f"qbtc.run.{run_id}"]),
    )
    for _ in range(50):
        with get_client(sync_client=True) as client:
            events = client.read_events(filter=flt, limit=50).events
        if events:
            return events
        time.sleep(0.2)
    return []


def run_artifacts(flow_run_id: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        return client.read_artifacts(artifact_filter=flt)


def test_risk_flow_end_to_end(prefect_harness: None, book: Path, monkeypatch) -> None:
    from flows.alerts import RISK_BREACH
    from flows.risk import risk

    # the current book (10 calls + 2 BTC) has ~7 BTC of delta: above a 300,000 limit
    monkeypatch.setenv("QBTC_MAX_DELTA_USD", "300000")
    out = risk(as_of=AS_OF, seed=5)
    assert out["breaches"]
    assert out["breaches"][0].startswith("net delta")
    metrics = read_dataset(book, "risk_metrics")
    assert set(metrics["run_id"]) == {out["run_id"]}
    assert metrics.height == 5  # one row per VaR method
    mc = metrics.filter(pl.col("method") == "monte_carlo").row(0, named=True)
    assert mc["var"] == pytest.approx(out["var"])
    assert mc["cvar"] >= mc["var"] > 0
    intents = read_dataset(book, "order_intents").sort("symbol", "leg")
    assert set(intents["run_id"]) == {out["run_id"]}
    assert intents.height == out["accepted"] + out["refused"] == 3
    # the BTC flip (close + open legs) and the ETH short all lower the net delta, so the
    # delta limit the book breaches does not block them
    assert set(intents["status"]) == {"accepted"}
    alerts = read_dataset(book, "alerts")
    assert alerts.filter(pl.col("kind") == "risk-breach").height == 1
    assert breach_events(out["run_id"], RISK_BREACH)
    assert sorted(a.key for a in run_artifacts(out["run_id"])) == [
        "risk-intents-main",
        "risk-main-before-orders",
    ]


def test_kill_switch_parameter_lets_only_reduce_only_through(
    prefect_harness: None, book: Path
) -> None:
    from flows.risk import risk

    out = risk(as_of=AS_OF, kill_switch="on")
    state = KillSwitch(book.parent / "state").status()
    assert state.on
    assert state.reason is not None
    assert "by hand" in state.reason
    intents = read_dataset(book, "order_intents")
    statuses = dict(zip(intents["leg"], intents["status"], strict=False))
    assert intents.filter(pl.col("reduce_only"))["status"].to_list() == ["accepted"]
    refused = intents.filter(~pl.col("reduce_only"))
    assert set(refused["status"]) == {"refused"}, statuses
    assert all("kill switch on" in r for r in refused["reason"])
    assert out["refused"] == refused.height
    kinds = read_dataset(book, "alerts")["kind"].to_list()
    assert "kill-switch" in kinds
    risk(as_of=AS_OF, kill_switch="off")
    assert not KillSwitch(book.parent / "state").status().on


def test_mean_variance_sizing_parameter(prefect_harness: None, book: Path) -> None:
    from flows.risk import risk

    out = risk(as_of=AS_OF, sizing="mean_variance")
    intents = read_dataset(book, "order_intents")
    assert intents.height == out["accepted"] + out["refused"] > 0


def test_risk_monitor_revalues_and_alerts(prefect_harness: None, book: Path, monkeypatch) -> None:
    from flows.risk import risk_monitor

    monkeypatch.setenv("QBTC_MAX_VAR_99", "1000")
    out = risk_monitor(as_of=AS_OF)
    assert out["var"] > 1000
    assert any(b.startswith("1-day VaR") for b in out["breaches"])
    assert read_dataset(book, "risk_metrics").height == 5  # one row per VaR method
    assert read_dataset(book, "order_intents").is_empty()
    messages = read_dataset(book, "alerts")["message"].to_list()
    assert any("1-day VaR" in m for m in messages)
