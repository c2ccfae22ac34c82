"""Flows ``ingest`` and ``ingest-file``: task logic via ``.fn()``, retries, one run each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from qbtc.lake import read_dataset
from qbtc.market.errors import UnknownSymbolError, VenueBannedError, VenueUnavailableError
from qbtc.market.sim import SimExchange
from qbtc.quality import GatePolicy, latest_gate
from tests.fixtures import make_bad_klines as fixture

AS_OF = datetime(2026, 1, 5, 12, 0, 30, tzinfo=UTC)
SYMBOLS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]


def test_task_bodies_run_the_library_steps(lake_dir: Path) -> None:
    from flows.ingest import (
        funding_task,
        gate_task,
        markets_task,
        ohlcv_task,
        options_task,
        plan_task,
        store_task,
        tickers_task,
    )

    venue = SimExchange(seed=7, as_of=AS_OF)
    markets_task.fn(venue, SYMBOLS, lake_dir)
    with pytest.raises(UnknownSymbolError):
        markets_task.fn(venue, ["DOGE/USD"], lake_dir)
    plan = plan_task.fn(lake_dir, SYMBOLS, "1m", 1, AS_OF)
    frames = {
        "ohlcv": ohlcv_task.fn(venue, plan, 2),
        "tickers": tickers_task.fn(venue, SYMBOLS, AS_OF),
        "funding_rates": funding_task.fn(venue, plan, 2),
        "option_quotes": options_task.fn(venue, ["ETH"], AS_OF),
    }
    assert frames["ohlcv"].height == 2 * 1440
    report = gate_task.fn(plan, frames, ["ETH"], "task-run", GatePolicy())
    assert report.passed, report.reasons
    stored = store_task.fn(lake_dir, report)
    assert stored.written["ohlcv"] == 2 * 1440
    assert latest_gate(lake_dir).run_id == "task-run"


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (VenueUnavailableError("sim", "fetch_ohlcv", 5, "HTTP 503"), True),
        (TimeoutError("read timed out"), True),
        (ConnectionResetError("reset by peer"), True),
        (VenueBannedError("binanceusdm"), False),
        (UnknownSymbolError("BTC/USD", ["BTC/USDT:USDT"]), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_io_failures_are_retried(error: BaseException, retry: bool) -> None:
    from flows.ingest import is_retryable

    assert is_retryable(error) is retry


def test_ccxt_network_errors_are_retried() -> None:
    import ccxt

    from flows.ingest import is_retryable

    assert is_retryable(ccxt.RequestTimeout("timed out"))
    assert is_retryable(ccxt.DDoSProtection("slow down"))
    assert not is_retryable(ccxt.BadSymbol("no such market"))


class _FlakyVenue:
    """The simulated venue whose OHLCV endpoint raises ``error`` on every call."""

    def __init__(self, error: Exception) -> None:
        self.inner = SimExchange(seed=7, as_of=AS_OF)
        self.id = "sim"
        self.error = error
        self.calls = 0

    def fetch_ohlcv(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        raise self.error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize(
    ("error", "attempts"),
    [(VenueUnavailableError("sim", "fetch_ohlcv", 5, "HTTP 503"), 3), (VenueBannedError("sim"), 1)],
)
def test_fetch_retries_are_bounded_and_skip_bans(
    prefect_harness: None, lake_dir: Path, error: Exception, attempts: int
) -> None:
    from prefect import flow

    from flows.ingest import ohlcv_task, plan_task

    venue = _FlakyVenue(error)
    fast = ohlcv_task.with_options(retry_delay_seconds=0, retry_jitter_factor=None)

    @flow
    def fetch_only() -> None:
        plan = plan_task(lake_dir, SYMBOLS[:1], "1m", 1, AS_OF)
        fast(venue, plan, 1)

    with pytest.raises(type(error)):
        fetch_only()
    assert venue.calls == attempts


def test_ingest_flow_end_to_end(prefect_harness: None, data_dir: Path, lake_dir: Path) -> None:
    from prefect.client.orchestration import get_client

    from flows.ingest import ingest

    summary = ingest(symbols=SYMBOLS, days=1, as_of=AS_OF)  # QBTC_DATA_DIR: data_dir
    assert summary["passed"], summary["reasons"]
    assert summary["bars_requested"] == {"backfill": 2880, "incremental": 0, "gap": 0}
    assert summary["written"]["ohlcv"] == 2880
    assert summary["written"]["tickers"] == 2
    assert summary["written"]["option_quotes"] > 0
    assert latest_gate(lake_dir).run_id == summary["run_id"]
    later = ingest(symbols=SYMBOLS, days=1, as_of=AS_OF + timedelta(minutes=3))
    assert later["bars_requested"] == {"backfill": 0, "incremental": 6, "gap": 0}
    assert read_dataset(lake_dir, "ohlcv").height == 2886
    with get_client(sync_client=True) as client:
        keys = {a.key for a in client.read_artifacts()}
    assert {"ingest-quality-gate", "ingest-summary"} <= keys


def test_ingest_file_flow_end_to_end(prefect_harness: None, data_dir: Path, lake_dir: Path) -> None:
    from flows.ingest import ingest_file

    as_of = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(minutes=fixture.AS_OF_MINUTE)
    out = ingest_file(str(fixture.PATH), "BTC/USDT:USDT", as_of=as_of, data_dir=str(data_dir))
    assert (out["rows"], out["written"], out["quarantined"]) == (197, 190, 7)
    assert (out["duplicates"], out["reordered"]) == (1, True)
    assert not out["passed"]
    assert out["reasons"] == ["ohlcv.bad_fraction: fail (7 of 197)"]
    assert read_dataset(lake_dir, "quarantine").height == 7
