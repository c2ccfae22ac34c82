"""Alerts: Prefect events for risk breaches, failed quality gates and kill-switch trips.

Every alert is also a row of the ``alerts`` dataset (the API's ``/ws/alerts`` streams them).
When ``QBTC_ALERT_WEBHOOK_URL`` is set, ``qbtc up`` creates a webhook notification block and
an automation that posts every qbtc alert event to it (``python -m flows.alerts`` does it
against the server in ``PREFECT_API_URL``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from prefect.events import emit_event

from qbtc.config import Settings, load_settings
from qbtc.lake import write_dataset
from qbtc.schemas import ALERTS

EVENT_PREFIX = "qbtc.alert"
RISK_BREACH = "qbtc.alert.risk-breach"
GATE_FAILED = "qbtc.alert.quality-gate-failed"
KILL_SWITCH = "qbtc.alert.kill-switch"
STAGE_FAILED = "qbtc.alert.stage-failed"
AUTOMATION_NAME = "qbtc-alerts"
BLOCK_NAME = "qbtc-alerts-webhook"


def raise_alert(
    lake_dir: Path,
    *,
    event: str,
    run_id: str,
    message: str,
    severity: str = "warning",
    details: dict[str, Any] | None = None,
) -> None:
    """Record an alert in the lake and emit it as a Prefect event (for automations)."""
    now = datetime.now(UTC)
    kind = event.removeprefix(EVENT_PREFIX + ".")
    alert_id = hashlib.sha256(f"{run_id}|{event}|{message}".encode()).hexdigest()[:24]
    row = {
        "alert_id": alert_id,
        "run_id": run_id,
        "timestamp": now,
        "kind": kind,
        "severity": severity,
        "message": message,
        "details": json.dumps(details or {}, sort_keys=True, default=str),
    }
    write_dataset(lake_dir, ALERTS, pl.DataFrame([row], schema=ALERTS.schema))
    emit_event(
        event=event,
        resource={"prefect.resource.id": f"qbtc.run.{run_id}", "prefect.resource.name": kind},
        payload={"message": message, "severity": severity, **(details or {})},
    )


def configure_alerts(settings: Settings, env: dict[str, str]) -> bool:
    """Set up the webhook automation on the server in ``env`` when a webhook is configured."""
    if settings.alert_webhook_url is None:
        return False
    out = subprocess.run(
        [sys.executable, "-m", "flows.alerts"], env=env, capture_output=True, text=True, timeout=120
    )
    if out.returncode != 0:
        log = settings.data_dir / "logs" / "alerts-setup.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(out.stderr)
        print(f"warning: alert webhook not configured; details in {log}", file=sys.stderr)
        return False
    print("alerts: qbtc alert events are posted to the configured webhook", flush=True)
    return True


def create_automation(webhook_url: str) -> None:
    """Create (or replace) the notification block and the automation that uses it."""
    from prefect.automations import Automation
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

    # The URL is the credential of most webhooks: keep it in the block's secrets (stored
    # encrypted, masked in the UI) and template it into the request.
    block = CustomWebhookNotificationBlock(
        name="qbtc alerts",
        url="{{webhook_url}}",
        method="POST",
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
        secrets={"webhook_url": webhook_url},
    )
    block_id = block.save(BLOCK_NAME, overwrite=True)
    with contextlib.suppress(ValueError):
        existing: Automation = Automation.read(name=AUTOMATION_NAME)  # type: ignore[assignment]
        existing.delete()
    Automation(
        name=AUTOMATION_NAME,
        description="Posts every qbtc alert (risk breach, failed gate, kill switch) to the webhook.",
        trigger=EventTrigger(expect={f"{EVENT_PREFIX}.*"}, posture=Posture.Reactive, threshold=1),
        actions=[
            SendNotification(
                block_document_id=block_id,
                subject="qbtc: {{ event.event }}",
                body="{{ event.payload.message }} (severity {{ event.payload.severity }})",
            )
        ],
    ).create()


if __name__ == "__main__":
    url = load_settings().alert_webhook_url
    if url is None:
        sys.exit("QBTC_ALERT_WEBHOOK_URL is not set")
    create_automation(url.get_secret_value())
