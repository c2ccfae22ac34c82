"""Checks the pipeline makes before any stage runs (no Prefect server needed)."""

from __future__ import annotations

from datetime import datetime

import pytest

from flows.pipeline import PipelineParameters, check_live_venue, cycle_clock
from qbtc.config import load_settings


def test_paper_mode_needs_no_venue_check(data_dir):
    check_live_venue(load_settings(), live=False)


def test_live_on_the_simulated_venue_is_refused(data_dir):
    with pytest.raises(ValueError, match="--live sends orders to a venue"):
        check_live_venue(load_settings(), live=True)


def test_live_goes_to_the_testnet_first_with_its_data_or_to_the_real_venue(data_dir):
    from qbtc.execution.modes import data_on_testnet, trading_mode

    check_live_venue(load_settings(exchange="binanceusdm"), live=True)
    check_live_venue(load_settings(exchange="binanceusdm", exchange_testnet=False), live=True)
    assert trading_mode("sim", live=False, testnet=True) == "paper"
    assert trading_mode("binanceusdm", live=False, testnet=True) == "dry-run"
    assert trading_mode("binanceusdm", live=True, testnet=True) == "testnet"
    assert trading_mode("binanceusdm", live=True, testnet=False) == "live"
    assert [data_on_testnet(m) for m in ("paper", "dry-run", "testnet", "live")] == [
        False,
        False,
        True,
        False,
    ]


def test_parameters_refuse_unknown_fields_and_the_clock_is_utc():
    with pytest.raises(ValueError, match="extra"):
        PipelineParameters(unknown=1)  # type: ignore[call-arg]
    naive = datetime(2026, 1, 5, 12, 0, 0, 123)
    assert cycle_clock(naive).isoformat() == "2026-01-05T12:00:00+00:00"


def test_the_sizing_method_is_a_pipeline_parameter_that_reaches_the_risk_stage(monkeypatch):
    from datetime import UTC
    from types import SimpleNamespace

    import flows.pipeline as pipeline_module
    from flows.pipeline import stage_calls
    from qbtc.config import Settings

    seen: dict[str, object] = {}
    monkeypatch.setattr(pipeline_module, "risk", SimpleNamespace(fn=lambda **kw: seen.update(kw)))
    params = PipelineParameters(sizing="mean_variance")
    at = datetime(2026, 1, 5, tzinfo=UTC)
    calls = dict(stage_calls(params, Settings(), at, "run-1", {}))
    calls["risk"]()
    assert seen["sizing"] == "mean_variance"
    schema = PipelineParameters.model_json_schema()["properties"]["sizing"]
    assert schema["enum"] == ["vol_target", "mean_variance"]
    assert schema["default"] == "vol_target"
