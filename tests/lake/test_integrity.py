"""One corrupt Parquet file is named, moved aside with an alert, and everything else works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qbtc.api.app import create_app
from qbtc.cli import app as cli
from qbtc.lake import LakeReader, read_dataset, write_dataset
from qbtc.lake.catalog import sync_catalog
from qbtc.lake.integrity import QUARANTINE_DIR
from qbtc.lake.layout import data_files, dataset_dir
from qbtc.schemas import ALERTS, get_dataset
from tests.api.conftest import make_settings
from tests.api.lakedata import build_lake


def truncate_one(lake: Path, dataset: str) -> Path:
    """Cut one file of ``dataset`` to 100 bytes (a copy interrupted half-way)."""
    victim = data_files(dataset_dir(lake, get_dataset(dataset)))[0]
    victim.write_bytes(victim.read_bytes()[:100])
    return victim


def quarantined(lake: Path) -> list[Path]:
    return sorted((lake / QUARANTINE_DIR).rglob("*.parquet"))


def corrupt_alerts(lake: Path) -> list[str]:
    alerts = read_dataset(lake, "alerts").filter(pl.col("kind") == "corrupt-file")
    return alerts["message"].to_list()


@pytest.fixture
def lake(data_dir: Path) -> Path:
    return build_lake(data_dir).root


def test_a_read_skips_a_truncated_file_moves_it_aside_and_alerts(lake: Path) -> None:
    before = read_dataset(lake, "ohlcv").height
    victim = truncate_one(lake, "ohlcv")
    rows = read_dataset(lake, "ohlcv")
    assert 0 < rows.height < before
    assert not victim.exists()
    moved = quarantined(lake)
    assert [p.name for p in moved] == [victim.name]
    assert moved[0].read_bytes()  # kept, not deleted
    [message] = corrupt_alerts(lake)
    assert str(victim) in message
    assert "moved to" in message
    assert read_dataset(lake, "ohlcv").height == rows.height  # and stays aside


def test_a_file_with_a_sound_footer_but_corrupt_data_is_found_by_a_full_read(
    data_dir: Path,
) -> None:
    lake = data_dir / "lake"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "alert_id": f"a{i}",
            "run_id": "r",
            "timestamp": start + timedelta(minutes=i),
            "kind": "k",
            "severity": "warning",
            "message": "m" * 50 + str(i),
            "details": "{}",
        }
        for i in range(2000)
    ]
    write_dataset(lake, ALERTS, pl.DataFrame(rows, schema=ALERTS.schema))
    victim = data_files(dataset_dir(lake, ALERTS))[0]
    data = bytearray(victim.read_bytes())
    data[100:400] = b"\xab" * 300  # a data page, not the footer
    victim.write_bytes(bytes(data))
    alerts = read_dataset(lake, "alerts")
    assert alerts["kind"].to_list() == ["corrupt-file"]
    assert str(victim) in alerts["message"][0]


def test_the_catalog_and_the_api_reader_start_and_answer_over_a_corrupt_file(
    lake: Path, data_dir: Path
) -> None:
    victim = truncate_one(lake, "ohlcv")
    reader = LakeReader(lake)
    assert reader.query("SELECT 1 AS one")["one"].to_list() == [1]
    assert reader.query("SELECT count(*) AS n FROM market_data")["n"][0] > 0
    assert not victim.exists()
    truncate_one(lake, "positions")
    assert reader.query("SELECT count(*) AS n FROM positions")["n"][0] >= 0
    assert sync_catalog(lake, data_dir / "qbtc.duckdb", force=True).changed
    assert len(quarantined(lake)) == 2


def test_the_api_starts_over_a_corrupt_file(lake: Path, data_dir: Path) -> None:
    truncate_one(lake, "ohlcv")
    truncate_one(lake, "positions")
    with TestClient(create_app(make_settings(data_dir))) as client:
        assert client.get("/api/positions").status_code == 200
        assert client.get("/api/health").status_code in (200, 503)
    assert len(quarantined(lake)) == 2


def test_sql_and_positions_commands_work_over_a_corrupt_file(lake: Path) -> None:
    truncate_one(lake, "ohlcv")
    truncate_one(lake, "positions")
    runner = CliRunner()
    one = runner.invoke(cli, ["sql", "select 1"])
    assert one.exit_code == 0, one.output
    positions = runner.invoke(cli, ["positions"])
    assert positions.exit_code == 0, positions.output
    assert "Traceback" not in one.output + positions.output
    assert len(corrupt_alerts(lake)) == 2


def test_an_upsert_into_a_partition_with_a_corrupt_file_writes_and_moves_it_aside(
    lake: Path,
) -> None:
    positions = read_dataset(lake, "positions")
    victim = truncate_one(lake, "positions")
    write_dataset(lake, "positions", positions.head(1).with_columns(pl.lit(9.0).alias("quantity")))
    assert not victim.exists()
    assert [p.name for p in quarantined(lake)] == [victim.name]
    assert 9.0 in read_dataset(lake, "positions")["quantity"].to_list()
