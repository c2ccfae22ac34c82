"""Maintenance flows: daily compaction, and the manual kill switch / flatten deployment."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task

from flows.common import flow_settings, publish_table
from qbtc.lake import CatalogBusyError, CompactResult, compact_dataset, sync_catalog
from qbtc.schemas import DATASETS


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
def compaction(datasets: list[str] | None = None) -> list[dict[str, object]]:
    """Merge small Parquet files per partition without losing or duplicating a row."""
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
