from __future__ import annotations

from datetime import timedelta

import pytest
from prefect import Flow

from deployments.definitions import DEPLOYMENTS, get_spec
from deployments.export import main as export_main
from deployments.serve import load_flow, runner_deployments

EXPECTED = {
    "pipeline": ("flows/pipeline.py:pipeline", 300, None),
    "ingest": ("flows/ingest.py:ingest", 60, None),
    "risk-monitor": ("flows/risk.py:risk_monitor", 60, None),
    "compaction": ("flows/maintenance.py:compaction", None, "15 0 * * *"),
    "kill-switch": ("flows/maintenance.py:kill_switch", None, None),
    "backtest": ("flows/backtest.py:backtest", None, None),
    "backtest-sweep": ("flows/backtest_sweep.py:backtest_sweep", None, None),
}


def test_every_deployment_has_the_agreed_schedule_and_entrypoint():
    got = {d.name: (d.entrypoint, d.interval_s, d.cron) for d in DEPLOYMENTS}
    assert got == EXPECTED


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda s: s.name)
def test_entrypoints_load_as_flows(spec):
    assert isinstance(load_flow(spec), Flow)


def test_runner_deployments_carry_schedules_and_concurrency():
    by_name = {d.name: d for d in runner_deployments()}
    pipeline = by_name["pipeline"]
    assert pipeline.schedules[0].schedule.interval == timedelta(minutes=5)
    assert by_name["compaction"].schedules[0].schedule.cron == "15 0 * * *"
    assert not by_name["kill-switch"].schedules
    assert pipeline.paused is False


def test_prefect_yaml_is_generated_from_the_definitions():
    assert export_main(["--check"]) == 0, "run `python -m deployments.export`"


def test_unknown_deployment_name_is_a_clear_error():
    with pytest.raises(KeyError, match="known"):
        get_spec("nope")
