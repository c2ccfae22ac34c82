"""Run manifests: what a run was given, which code and packages ran it, what it read.

A manifest is stored in the ``runs`` dataset when a run starts (status ``running``) and again
when it ends (latest wins), so an interrupted run is visible as such.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import polars as pl

from qbtc.lake import write_dataset
from qbtc.schemas import RUNS

#: Packages whose versions decide a run's results.
TRACKED_PACKAGES = (
    "qbtc",
    "prefect",
    "duckdb",
    "polars",
    "pyarrow",
    "numpy",
    "scipy",
    "ccxt",
    "google-genai",
    "great-expectations",
    "pandas",
)


@cache
def code_version(repo_dir: Path | None = None) -> str:
    """The git commit of the code (``<sha>-dirty`` with local changes), or the package version."""
    here = repo_dir or Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if sha.returncode == 0:
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=here,
                capture_output=True,
                text=True,
                timeout=5,
            )
            suffix = "-dirty" if dirty.stdout.strip() else ""
            return sha.stdout.strip() + suffix
    except (OSError, subprocess.SubprocessError):
        pass
    return f"qbtc-{_version('qbtc')}"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


@cache
def package_versions() -> dict[str, str]:
    """Versions of the packages that decide a run's results."""
    return {name: _version(name) for name in TRACKED_PACKAGES}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunManifest:
    """One run: parameters, seed, clock, code and package versions, inputs and timings."""

    run_id: str
    flow: str
    parameters: dict[str, Any]
    seed: int | None
    as_of: datetime | None
    started_at: datetime = field(default_factory=utc_now)
    status: str = "running"
    finished_at: datetime | None = None
    llm_model: str | None = None
    snapshots: dict[str, Any] = field(default_factory=dict)
    stage_durations: dict[str, float] = field(default_factory=dict)
    message: str | None = None
    code: str = field(default_factory=code_version)
    packages: dict[str, str] = field(default_factory=package_versions)

    def finish(self, status: str, message: str | None = None, **changes: Any) -> RunManifest:
        """A copy marked finished now with ``status`` (completed | failed | refused)."""
        return replace(self, status=status, finished_at=utc_now(), message=message, **changes)

    def to_frame(self) -> pl.DataFrame:
        """The manifest as one row of the ``runs`` dataset."""
        row = {
            "run_id": self.run_id,
            "flow": self.flow,
            "status": self.status,
            "timestamp": self.started_at,
            "finished_at": self.finished_at,
            "parameters": json.dumps(self.parameters, sort_keys=True, default=str),
            "seed": self.seed,
            "as_of": self.as_of,
            "code_version": self.code,
            "package_versions": json.dumps(self.packages, sort_keys=True),
            "snapshots": json.dumps(self.snapshots, sort_keys=True, default=str),
            "llm_model": self.llm_model,
            "stage_durations": json.dumps(
                {k: round(v, 4) for k, v in self.stage_durations.items()}, sort_keys=True
            ),
            "message": self.message,
        }
        return pl.DataFrame([row], schema=RUNS.schema)


def record_run(lake_dir: Path, manifest: RunManifest) -> None:
    """Store (or update) the manifest in the ``runs`` dataset."""
    write_dataset(lake_dir, RUNS, manifest.to_frame())
