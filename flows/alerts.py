"""Alerts: Prefect events for risk breaches, failed quality gates and kill-switch trips.

Every alert is also a row of the ``alerts`` dataset (the API's ``/ws/alerts`` streams them).
When ``QBTC_ALERT_WEBHOOK_URL`` is set, ``qbtc up`` creates a webhook notification block and
an automation that posts every qbtc alert event to it (``python -m flows.alerts`` does it
against the server in ``PREFECT_API_URL``).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from prefect.events import emit_event

from qbtc.alerts import record_alert
from qbtc.config import Settings, load_settings
from qbtc.risk.killswitch import KillSwitch, KillSwitchState

EVENT_PREFIX = "qbtc.alert"
RISK_BREACH = "qbtc.alert.risk-breach"
GATE_FAILED = "qbtc.alert.quality-gate-failed"
KILL_SWITCH = "qbtc.alert.kill-switch"
STAGE_FAILED = "qbtc.alert.stage-failed"
OPTIONS_SKIPPED = "qbtc.alert.options-skipped"
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
    kind = event.removeprefix(EVENT_PREFIX + ".")
    record_alert(
        lake_dir, kind=kind, run_id=run_id, message=message, severity=severity, details=details
    )
    emit_event(
        event=event,
        resource={"prefect.resource.id": f"qbtc.run.{run_id}", "prefect.resource.name": kind},
        payload={"message": message, "severity": severity, **(details or {})},
    )


def trip_kill_switch(
    state_dir: Path, lake_dir: Path, *, reason: str, run_id: str
) -> KillSwitchState:
    """Trip the kill switch and, when this trips it (it was off), raise the critical alert.

    The one sequence every flow uses (pipeline and risk parameters, the drawdown rule, the
    kill-switch deployment), so each trip is recorded and emitted exactly once.
    """
    switch = KillSwitch(state_dir)
    was_on = switch.status().on
    state = switch.trip(reason)
    if not was_on:
        alert_kill_switch_tripped(lake_dir, run_id=run_id, reason=state.reason or reason)
    return state


def alert_kill_switch_tripped(lake_dir: Path, *, run_id: str, reason: str) -> None:
    """The critical alert of a kill-switch trip (row + Prefect event)."""
    raise_alert(
        lake_dir,
        event=KILL_SWITCH,
        run_id=run_id,
        severity="critical",
        message=f"kill switch tripped: {reason}",
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
