from __future__ import annotations

import json
from datetime import UTC, datetime

from qbtc.lake import read_dataset
from qbtc.manifest import RunManifest, code_version, package_versions, record_run


def test_manifest_records_running_then_finished(lake_dir):
    as_of = datetime(2026, 1, 5, 12, tzinfo=UTC)
    manifest = RunManifest("r1", "pipeline", {"seed": 3}, seed=3, as_of=as_of)
    record_run(lake_dir, manifest)
    assert read_dataset(lake_dir, "runs")["status"].to_list() == ["running"]
    done = manifest.finish("completed", stage_durations={"ingest": 1.5}, llm_model="m")
    record_run(lake_dir, done)
    row = read_dataset(lake_dir, "runs").row(0, named=True)
    assert row["status"] == "completed"
    assert row["as_of"] == as_of
    assert json.loads(row["stage_durations"]) == {"ingest": 1.5}
    assert json.loads(row["package_versions"])["polars"] == package_versions()["polars"]
    assert row["finished_at"] >= row["timestamp"]


def test_code_version_is_a_git_sha_in_a_checkout():
    version = code_version()
    assert len(version.removesuffix("-dirty")) == 40
