"""Alerts: a lake row plus a Prefect event; the webhook automation that `make up` creates."""

from __future__ import annotations

import json

from flows.alerts import AUTOMATION_NAME, GATE_FAILED, create_automation, raise_alert
from qbtc.lake import read_dataset


def test_an_alert_is_a_lake_row_and_a_prefect_event(prefect_harness, lake_dir):
    raise_alert(
        lake_dir,
        event=GATE_FAILED,
        run_id="run-1",
        message="ohlcv is stale",
        details={"stage": "ingest"},
    )
    raise_alert(lake_dir, event=GATE_FAILED, run_id="run-1", message="ohlcv is stale")
    rows = read_dataset(lake_dir, "alerts")
    assert rows.height == 1  # the same alert of the same run is stored once
    row = rows.row(0, named=True)
    assert (row["kind"], row["severity"], row["message"]) == (
        "quality-gate-failed",
        "warning",
        "ohlcv is stale",
    )
    assert json.loads(row["details"]) == {"stage": "ingest"}


def test_the_webhook_automation_posts_every_qbtc_alert(prefect_harness):
    from prefect.automations import Automation

    create_automation("http://127.0.0.1:9/hook")
    create_automation("http://127.0.0.1:9/hook")  # a second `make up` replaces it
    found = Automation.read(name=AUTOMATION_NAME)
    assert found.trigger.expect == {"qbtc.alert.*"}  # type: ignore[union-attr]
    assert [a.type for a in found.actions] == ["send-notification"]
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        assert len(client.read_automations_by_name(AUTOMATION_NAME)) == 1
