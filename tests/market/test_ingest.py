"""Ingestion from the simulated venue: determinism, idempotence, gaps, failures."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from qbtc.lake import LakeReader, read_dataset, write_dataset
from qbtc.market.errors import UnknownSymbolError, VenueUnavailableError
from qbtc.market.files import read_kline_file
from qbtc.market.gaps import Window, missing_windows, plan_ingest
from qbtc.market.ingest import IngestSummary, gate_kline_file, ingest_standalone
from qbtc.market.normalize import fetch_ohlcv_frame
from qbtc.market.sim import SimExchange
from qbtc.quality import GatePolicy, latest_gate, store_gate
from qbtc.schemas import QUARANTINE
from tests.fixtures import make_bad_klines as fixture

AS_OF = datetime(2026, 1, 5, 12, 0, 30, tzinfo=UTC)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
STEP = timedelta(minutes=1)
DATASETS = {
    "ohlcv": "symbol, timeframe, timestamp",
    "tickers": "symbol, timestamp",
    "funding_rates": "symbol, timestamp",
    "option_quotes": "symbol, timestamp",
}


def _run(lake_dir: Path, run_id: str, *, as_of: datetime = AS_OF) -> IngestSummary:
    return ingest_standalone(
        SimExchange(seed=7, as_of=as_of),
        lake_dir,
        SYMBOLS,
        run_id=run_id,
        policy=GatePolicy(),
        days=1,
        as_of=as_of,
        underlyings=("BTC",),
    )


def _contents(lake_dir: Path) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of every market dataset, read through the DuckDB views."""
    reader = LakeReader(lake_dir)
    try:
        out = {}
        for name, order in DATASETS.items():
            frame = reader.query(f"SELECT * FROM {name} ORDER BY {order}")
            out[name] = (frame.height, hashlib.sha256(frame.write_csv().encode()).hexdigest())
        return out
    finally:
        reader.close()


@dataclass
class Runs:
    first: Path
    second: Path
    gap: Path
    counts: list[dict[str, tuple[int, str]]]
    summaries: list[IngestSummary]
    gap_summary: IngestSummary


def _punch_hole(lake_dir: Path) -> None:
    """Store the sim's bars of the window except two hours of ETH (a gap in the middle)."""
    exchange = SimExchange(seed=7, as_of=AS_OF)
    since = datetime(2026, 1, 4, 12, 0, tzinfo=UTC)  # the window start, on the grid
    for symbol in SYMBOLS:
        bars = fetch_ohlcv_frame(exchange, symbol, timeframe="1m", since=since, until=AS_OF)
        if symbol == "ETH/USDT:USDT":
            hole = pl.col("timestamp").is_between(
                AS_OF - timedelta(hours=6), AS_OF - timedelta(hours=4), "left"
            )
            bars = bars.filter(~hole)
        write_dataset(lake_dir, "ohlcv", bars)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    first = tmp_path_factory.mktemp("first") / "lake"
    second = tmp_path_factory.mktemp("second") / "lake"
    gap = tmp_path_factory.mktemp("gap") / "lake"
    summaries, counts = [], []
    for attempt in range(3):
        summaries.append(_run(first, f"run-{attempt}"))
        counts.append(_contents(first))
    _run(second, "other-dir")
    _punch_hole(gap)
    return Runs(first, second, gap, counts, summaries, _run(gap, "gap-fill"))


def test_a_first_run_backfills_the_window(runs: Runs) -> None:
    summary = runs.summaries[0]
    assert summary.passed, summary.reasons
    assert summary.bars_requested == {"backfill": 3 * 1440, "incremental": 0, "gap": 0}
    assert summary.written["ohlcv"] == 3 * 1440
    assert summary.written["tickers"] == 3
    assert summary.written["funding_rates"] == 3 * 3  # settlements every 8 hours
    assert summary.written["option_quotes"] > 100
    newest = read_dataset(runs.first, "ohlcv")["timestamp"].max()
    assert newest == datetime(2026, 1, 5, 11, 59, tzinfo=UTC)  # the last closed bar


def test_the_same_window_three_times_keeps_the_same_rows(runs: Runs) -> None:
    assert runs.counts[0] == runs.counts[1] == runs.counts[2]
    for later in runs.summaries[1:]:
        assert later.bars_requested == {"backfill": 0, "incremental": 0, "gap": 0}
        assert set(later.written.values()) == {0}
        assert later.passed  # coverage and freshness come from the stored bars


def test_same_seed_and_as_of_in_two_data_dirs_store_identical_rows(runs: Runs) -> None:
    assert _contents(runs.second) == runs.counts[0]


def test_a_gap_in_the_middle_is_found_and_filled(runs: Runs) -> None:
    summary = runs.gap_summary
    assert summary.bars_requested == {"backfill": 0, "incremental": 0, "gap": 120}
    assert summary.written["ohlcv"] == 120
    assert _contents(runs.gap)["ohlcv"] == runs.counts[0]["ohlcv"]


def test_the_latest_gate_is_recorded(runs: Runs) -> None:
    status = latest_gate(runs.first)
    assert (status.passed, status.run_id) == (True, "run-2")


def test_missing_windows_cover_head_middle_and_tail() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    stored = [start + i * STEP for i in (2, 3, 4, 7, 8)]
    known = pl.DataFrame({"symbol": "X", "timestamp": stored}).with_columns(
        pl.col("timestamp").cast(pl.Datetime("us", "UTC"))
    )
    windows = missing_windows(known, ["X", "Y"], start=start, end=start + 10 * STEP, step=STEP)
    assert windows == [
        Window("X", start, start + 2 * STEP, "gap"),
        Window("X", start + 5 * STEP, start + 7 * STEP, "gap"),
        Window("X", start + 9 * STEP, start + 10 * STEP, "incremental"),
        Window("Y", start, start + 10 * STEP, "backfill"),
    ]


def _quarantine_row(lake_dir: Path, moment: datetime, reasons: str) -> None:
    key = f"BTC/USDT:USDT|1m|{moment:%Y-%m-%dT%H:%M:%S.000000Z}"
    row = {"dataset": "ohlcv", "run_id": "r", "row_key": key, "timestamp": moment}
    row |= {"reasons": reasons, "row": "{}"}
    write_dataset(lake_dir, QUARANTINE, pl.DataFrame([row], schema=QUARANTINE.schema))


def test_bars_quarantined_for_their_values_are_not_fetched_again(lake_dir: Path) -> None:
    as_of = datetime(2026, 1, 5, 0, 10, tzinfo=UTC)
    bad_value, not_closed = as_of - 4 * STEP, as_of - 2 * STEP
    _quarantine_row(lake_dir, bad_value, "price_jump")
    _quarantine_row(lake_dir, not_closed, "bar_not_closed")
    plan = plan_ingest(lake_dir, ["BTC/USDT:USDT"], timeframe="1m", days=1, as_of=as_of)
    start = plan.window_start
    assert plan.windows == (
        Window("BTC/USDT:USDT", start, bad_value, "gap"),
        Window("BTC/USDT:USDT", bad_value + STEP, as_of, "incremental"),
    )


class _DownVenue:
    """The simulated venue whose OHLCV endpoint stays down (after the adapter's retries)."""

    def __init__(self, inner: SimExchange) -> None:
        self.inner = inner
        self.id = inner.id

    def fetch_ohlcv(self, *args: Any, **kwargs: Any) -> Any:
        raise VenueUnavailableError("sim", "fetch_ohlcv", 5, "HTTP 503")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _files(lake_dir: Path) -> list[Path]:
    return sorted(lake_dir.rglob("*.parquet")) if lake_dir.exists() else []


def test_a_venue_that_stays_down_leaves_the_lake_untouched(runs: Runs) -> None:
    before = _files(runs.first)
    down = _DownVenue(SimExchange(seed=7, as_of=AS_OF + timedelta(hours=1)))
    with pytest.raises(VenueUnavailableError, match="Nothing was written"):
        ingest_standalone(down, runs.first, SYMBOLS, run_id="down", policy=GatePolicy(), days=1)  # type: ignore[arg-type]
    assert _files(runs.first) == before


def test_an_unknown_symbol_is_refused_with_close_matches(lake_dir: Path) -> None:
    with pytest.raises(UnknownSymbolError, match=r"did you mean BTC/USDT:USDT"):
        ingest_standalone(
            SimExchange(seed=7, as_of=AS_OF),
            lake_dir,
            ["BTC/USDT"],
            run_id="x",
            policy=GatePolicy(),
        )
    assert _files(lake_dir) == []


def test_a_kline_file_goes_through_the_gate_without_freshness(lake_dir: Path) -> None:
    kline = read_kline_file(fixture.PATH, symbol="BTC/USDT:USDT")
    as_of = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(minutes=fixture.AS_OF_MINUTE)
    report = gate_kline_file(kline, lake_dir, run_id="import", as_of=as_of, policy=GatePolicy(0.05))
    store_gate(lake_dir, report)
    assert report.passed
    assert report.summary_check == "file_import"
    assert "freshness" not in {r.check for r in report.results}
    assert read_dataset(lake_dir, "ohlcv").height == 190
    assert read_dataset(lake_dir, "quarantine").height == 7
    assert latest_gate(lake_dir).run_id is None  # an import is not the trading gate
