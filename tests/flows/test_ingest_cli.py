"""``qbtc ingest``: clear one-line errors (exit 2), venue down (exit 1), a real run, a file."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.fixtures import make_bad_klines as fixture

RUNNER = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data dir, and a Prefect port nobody listens on (never a colleague's `make up`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    monkeypatch.setenv("QBTC_PREFECT_PORT", str(free))
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _files(lake_dir: Path) -> list[Path]:
    return sorted(lake_dir.rglob("*.parquet")) if lake_dir.exists() else []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--symbols", "BTC/USDT,ETH/USDT:USDT"],
            "unknown symbol 'BTC/USDT' on sim: did you mean BTC/USDT:USDT",
        ),
        (["--symbols", "ETHUSD"], "unknown symbol 'ETHUSD' on sim: did you mean ETH/USDT:USDT"),
        (["--symbol", "BTC/USDT:USDT"], "--from-file and --symbol go together"),
        (["--from-file", "x.csv", "--symbol", "BTCUSDT"], "did you mean BTC/USDT:USDT"),
        (["--from-file", "x.csv", "--symbol", "BTC/USDT:USDT", "--days", "2"], "only --symbol"),
        (["--timeframe", "7x"], "timeframe '7x' is not <n><unit>"),
        (["--exchange", "binanceusdm", "--as-of", "2026-01-05T00:00Z"], "simulated venue only"),
        (["--as-of", "yesterday"], "is not ISO 8601"),
    ],
)
def test_user_mistakes_end_in_one_line_and_exit_2(
    args: list[str], message: str, lake_dir: Path
) -> None:
    result = RUNNER.invoke(app, ["ingest", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _files(lake_dir) == []


def test_ingest_command_runs_the_flow_and_prints_a_summary(
    prefect_harness: None, lake_dir: Path
) -> None:
    args = [
        "ingest",
        "--symbols",
        "SOL/USDT:USDT",
        "--days",
        "1",
        "--as-of",
        "2026-01-05T12:00:30Z",
    ]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 symbol(s) from sim, 1m bars, back-fill 1 day(s)" in result.output
    assert "bars requested: backfill 1440, incremental 0, gap 0" in result.output
    assert "quality gate:   passed" in result.output
    assert _files(lake_dir)


def test_a_bad_file_is_imported_through_the_gate_and_exits_1(
    prefect_harness: None, lake_dir: Path
) -> None:
    args = ["ingest", "--from-file", str(fixture.PATH), "--symbol", "BTC/USDT:USDT"]
    result = RUNNER.invoke(app, [*args, "--as-of", "2026-01-05T03:21:00Z"])
    assert result.exit_code == 1, result.output
    assert (
        "file: 197 1m bars (ms times); 1 exact duplicate line(s) collapsed, sorted by open time"
    ) in result.output
    last = result.output.strip().splitlines()[-1]
    assert last == (
        "error: 190 rows stored, 7 quarantined; the gate failed because ohlcv.bad_fraction: "
        "fail (7 of 197) (the quarantined rows are in the quarantine dataset)"
    )


def test_a_malformed_file_is_refused_before_anything_is_written(
    prefect_harness: None, lake_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "BTCUSDT-1m-2024-01-01.csv"
    bad.write_text("1704067200000,42314.0,oops,42289.6,42331.9,289.6,1704067259999\n")
    result = RUNNER.invoke(app, ["ingest", "--from-file", str(bad), "--symbol", "BTC/USDT:USDT"])
    assert result.exit_code == 2, result.output
    assert "line 1: high 'oops' is not a number" in result.output
    assert _files(lake_dir) == []


def test_a_venue_that_stays_down_fails_clearly_and_writes_nothing(
    prefect_harness: None, lake_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.ingest

    calls: list[int] = []
    fast = flows.ingest.markets_task.with_options(
        retry_delay_seconds=0, retry_jitter_factor=None, on_failure=[lambda *a: calls.append(1)]
    )
    monkeypatch.setattr(flows.ingest, "markets_task", fast)
    monkeypatch.setenv("QBTC_EXCHANGE_MAX_RETRIES", "0")  # the adapter's own retries
    monkeypatch.setenv("QBTC_EXCHANGE_TIMEOUT_MS", "500")
    # No network here: every request of the real ccxt client fails like a venue that is down.
    result = RUNNER.invoke(
        app, ["ingest", "--exchange", "binanceusdm", "--symbols", "BTC/USDT:USDT"]
    )
    assert result.exit_code == 1, result.output
    # Prefect's own run log (progress) may show the task's exception; the command ends in
    # one clear line that says what happened and what to do.
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: binanceusdm stayed unavailable for load_markets")
    assert "Nothing was written" in last
    assert calls == [1]  # the task failed once for good, after its bounded retries
    assert _files(lake_dir) == []


def test_a_missing_file_is_refused_before_anything_starts(data_dir):
    result = CliRunner().invoke(
        app, ["ingest", "--from-file", str(data_dir / "nope.csv"), "--symbol", "BTC/USDT:USDT"]
    )
    assert result.exit_code == 2
    assert "no such file" in result.output
