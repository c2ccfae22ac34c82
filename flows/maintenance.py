"""Maintenance flows: daily compaction, and the manual kill switch / flatten deployment."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger, task

from flows.alerts import trip_kill_switch
from flows.common import current_run_id, flow_settings, publish_markdown, publish_table
from qbtc.config import Settings
from qbtc.execution.intents import intents_frame
from qbtc.lake import CatalogBusyError, CompactResult, compact_dataset, sync_catalog, write_dataset
from qbtc.portfolio.flatten import flatten_intents, open_positions
from qbtc.risk.killswitch import KillSwitch
from qbtc.schemas import DATASETS, ORDER_INTENTS

KillSwitchAction = Literal["status", "on", "off", "flatten"]
#: Every dataset of the lake, as the choices of the ``compaction`` form.
DatasetName = Literal[tuple(sorted(DATASETS))]  # type: ignore[valid-type]


@task(retries=2, retry_delay_seconds=5)
def compact_all(lake_dir: Path, datasets: list[str]) -> list[CompactResult]:
    """Compact every partition of ``datasets`` (one task for all: tasks stay coarse)."""
    return [compact_dataset(lake_dir, name) for name in datasets]


@task
def refresh_catalog(lake_dir: Path, catalog_path: Path) -> str:
    """Update ``qbtc.duckdb`` views if they changed; never fails a run over a busy catalog."""
    try:
        result = sync_catalog(lake_dir, catalog_path)
    except CatalogBusyError as exc:
        get_run_logger().warning("catalog not refreshed: %s", exc)
        return "busy"
    return "updated" if result.changed else "unchanged"


@flow(name="compaction", log_prints=True)
def compaction(
    datasets: list[DatasetName] | None = None,  # type: ignore[valid-type]
) -> list[dict[str, object]]:
    """Merge small Parquet files per partition without losing or duplicating a row.

    Args:
        datasets: Datasets to compact; empty: every dataset of the lake.
    """
    settings = flow_settings()
    names = datasets or sorted(DATASETS)
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        raise ValueError(f"unknown dataset(s) {unknown}; known: {sorted(DATASETS)}")
    results = compact_all(settings.lake_dir, names)
    rows = [asdict(r) for r in results]
    publish_table("compaction", rows, "Files and rows before/after compaction per dataset")
    for r in results:
        if r.rows_before:
            print(f"{r.dataset}: files {r.files_before} -> {r.files_after}, rows {r.rows_after}")
    return rows


@flow(name="kill_switch", log_prints=True)
def kill_switch(
    action: KillSwitchAction = "status", reason: str | None = None
) -> dict[str, object]:
    """Manual control of the kill switch, and flattening the book.

    Args:
        action: status reports it; on trips it (only reduce-only orders pass); off resets
            it; flatten trips it and closes every open position with reduce-only orders.
        reason: Why (kept with the switch and in the alert); empty: the action's name.
    """
    settings = flow_settings()
    switch = KillSwitch(settings.state_dir)
    run_id = current_run_id()
    if action in ("on", "flatten"):
        why = reason or f"manual '{action}' from the kill-switch deployment"
        trip_kill_switch(settings.state_dir, settings.lake_dir, reason=why, run_id=run_id)
    elif action == "off":
        switch.reset()
    out: dict[str, object] = {"action": action, "run_id": run_id}
    if action == "flatten":
        out["orders"] = flatten_book(settings, run_id)
    state = switch.status()
    out |= {
        "on": state.on,
        "reason": state.reason,
        "since": str(state.since) if state.since else None,
    }
    publish_markdown(
        "kill-switch",
        f"kill switch **{'ON' if state.on else 'off'}**: {state.reason or ''}",
        f"kill switch after '{action}'",
    )
    print(f"kill switch {'ON' if state.on else 'off'} ({state.reason or 'no reason'})")
    return out


def flatten_book(settings: Settings, run_id: str) -> dict[str, object]:
    """Record reduce-only intents closing every position, then execute them."""
    from flows.orders import orders

    positions = open_positions(settings.lake_dir, settings.portfolio_id)
    bar = datetime.now(UTC).replace(second=0, microsecond=0)
    intents = flatten_intents(
        positions, run_id=run_id, portfolio_id=settings.portfolio_id, decision_bar=bar
    )
    if not intents:
        return {"intents": 0}
    write_dataset(settings.lake_dir, ORDER_INTENTS, intents_frame(intents))
    return orders(intents_run_id=run_id)
