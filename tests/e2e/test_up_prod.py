"""`qbtc up --prod`: PostgreSQL, the server, two workers, overlapping runs, a clean stop.

The stack is started as a user would (``qbtc up --prod``; PostgreSQL is installed with
apt-get when missing, as on a bare CI machine). ``pipeline`` and ``ingest`` are triggered at
the same moment, next to the scheduled runs: both complete on the pool's workers, and the
lake then holds no primary key twice (append datasets) and no row version twice (upserts),
with every minute bar of each symbol present.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest

from qbtc.lake.layout import dataset_dir
from qbtc.schemas import DATASETS, WRITTEN_AT
from tests.e2e.helpers import Command, clean_env, free_port, listening, wait_for

REPO = Path(__file__).resolve().parents[2]
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data dir the ``postgres`` user can reach (pytest's own tmp dirs are private to root)."""
    base = Path(tempfile.mkdtemp(prefix="qbtc-prod-e2e-", dir="/tmp"))
    base.chmod(0o755)
    yield base / "data"
    shutil.rmtree(base, ignore_errors=True)


def _terminal(api: str, run_id: str) -> dict | None:
    run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
    return run if run["state_type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} else None


def _trigger_together(api: str, names: tuple[str, ...]) -> dict[str, str]:
    found = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    ids = {d["name"]: d["id"] for d in found}
    barrier, runs = threading.Barrier(len(names)), {}

    def trigger(name: str) -> None:
        barrier.wait()
        url = f"{api}/deployments/{ids[name]}/create_flow_run"
        runs[name] = httpx.post(url, json={}, timeout=30).json()["id"]

    threads = [threading.Thread(target=trigger, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return runs


def _assert_lake_has_no_duplicate(lake: Path) -> None:
    for dataset in DATASETS.values():
        files = sorted(dataset_dir(lake, dataset).rglob("*.parquet"))
        if not files:
            continue
        frame = pl.read_parquet(files, hive_partitioning=False, missing_columns="insert")
        key = [c for c in dataset.primary_key if c in frame.columns]
        content = [c for c in frame.columns if c != WRITTEN_AT]
        subset = key if dataset.mode == "append" else content
        duplicated = frame.height - frame.unique(subset=subset).height
        assert duplicated == 0, f"{dataset.name}: {duplicated} duplicated {subset}"


def _assert_no_bar_lost(lake: Path) -> None:
    from qbtc.lake import scan_dataset

    bars = scan_dataset(lake, "ohlcv").collect()
    for symbol in SYMBOLS:
        times = bars.filter(pl.col("symbol") == symbol).get_column("timestamp").sort()
        span = (times[-1] - times[0]).total_seconds() / 60 + 1
        assert times.len() == times.n_unique() == int(span), f"{symbol}: a minute bar is missing"


def test_up_prod_runs_overlapping_flows_on_two_workers_and_stops_cleanly(data_dir: Path):
    ports = {name: free_port() for name in ("prefect", "api", "postgres")}
    env = clean_env(
        QBTC_DATA_DIR=str(data_dir),
        QBTC_PREFECT_PORT=str(ports["prefect"]),
        QBTC_API_PORT=str(ports["api"]),
        QBTC_POSTGRES_PORT=str(ports["postgres"]),
        QBTC_WORKERS="2",
        QBTC_BACKFILL_DAYS="1",
        QBTC_SYMBOLS=",".join(SYMBOLS),
        PREFECT_WORKER_QUERY_SECONDS="2",
    )
    up = Command(["up", "--prod", "--no-first-run"], env)
    api = f"http://127.0.0.1:{ports['prefect']}/api"
    try:
        up.wait_for_line("qbtc is up", 420)
        assert listening(ports["postgres"]), "PostgreSQL is not listening"
        assert not (data_dir / "prefect" / "prefect.db").exists(), "the server used SQLite"
        workers = httpx.post(f"{api}/work_pools/qbtc-process/workers/filter", json={}).json()
        assert sum(w["status"] == "ONLINE" for w in workers) == 2
        runs = _trigger_together(api, ("pipeline", "ingest"))
        for name, run_id in runs.items():
            run = wait_for(lambda run_id=run_id: _terminal(api, run_id), 300, f"{name} to end")
            assert run["state_type"] == "COMPLETED", (name, run["state"]["message"])
            assert run["work_pool_name"] == "qbtc-process"
        logs = "".join(p.read_text() for p in (data_dir / "logs").glob("worker-*.log"))
        for run_id in runs.values():
            assert f"submitting flow run '{run_id}'" in logs, "not run by a pool worker"
    finally:
        code = up.interrupt(timeout=240)
    assert code == 0, up.output[-3000:]
    assert "stopped." in up.output
    for name, port in ports.items():
        assert not listening(port), f"{name} still listening on {port}"
    _assert_lake_has_no_duplicate(data_dir / "lake")
    _assert_no_bar_lost(data_dir / "lake")
