"""Binance public-data kline files: header or not, ms or µs, csv or zip, and clear errors."""

from __future__ import annotations

import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qbtc.lake import read_dataset
from qbtc.market.files import KlineFile, KlineFileError, read_kline_file
from qbtc.market.ingest import gate_kline_file
from qbtc.quality import GatePolicy, store_gate
from qbtc.schemas import OHLCV
from tests.fixtures import make_bad_klines as fixture

HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
    "taker_buy_volume,taker_buy_quote_volume,ignore"
)
# Three real-shaped 1m BTCUSDT bars (2024-01-01T00:00Z), millisecond times.
MS_LINES = [
    "1704067200000,42314.0,42335.8,42289.6,42331.9,289.641,1704067259999,12253045.9,3409,170.958,7232557.4,0",
    "1704067260000,42331.9,42353.1,42331.8,42350.4,210.877,1704067319999,8928838.5,2616,139.542,5908516.6,0",
    "1704067320000,42350.4,42370.8,42325.0,42333.2,346.015,1704067379999,14652081.2,3711,169.374,7172435.7,0",
]
T = datetime(2024, 1, 1, tzinfo=UTC)
SYMBOL = "BTC/USDT:USDT"


def _to_us(line: str) -> str:
    fields = line.split(",")
    fields[0] = str(int(fields[0]) * 1000)
    fields[6] = str(int(fields[6]) * 1000 + 999)
    return ",".join(fields)


def _with_close(line: str, bar_ms: int) -> str:
    fields = line.split(",")
    fields[6] = str(int(fields[0]) + bar_ms - 1)
    return ",".join(fields)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_headerless_millisecond_file_becomes_ohlcv_rows(tmp_path: Path) -> None:
    kline = read_kline_file(_write(tmp_path / "BTCUSDT-1m-2024-01-01.csv", MS_LINES), symbol=SYMBOL)
    assert (kline.timeframe, kline.time_unit) == ("1m", "ms")
    assert kline.frame.schema == OHLCV.schema
    first = kline.frame.row(0, named=True)
    assert first == {
        "symbol": SYMBOL,
        "timeframe": "1m",
        "timestamp": T,
        "open": 42314.0,
        "high": 42335.8,
        "low": 42289.6,
        "close": 42331.9,
        "volume": 289.641,
        "source": "file:BTCUSDT-1m-2024-01-01.csv",
    }
    assert kline.frame["timestamp"].to_list() == [T + timedelta(minutes=i) for i in range(3)]


@pytest.mark.parametrize("header", [False, True])
@pytest.mark.parametrize("unit", ["ms", "us"])
def test_header_and_time_unit_do_not_change_the_rows(
    tmp_path: Path, header: bool, unit: str
) -> None:
    lines = MS_LINES if unit == "ms" else [_to_us(line) for line in MS_LINES]
    path = _write(tmp_path / "klines.csv", ([HEADER] if header else []) + lines)
    kline = read_kline_file(path, symbol=SYMBOL)
    reference = read_kline_file(_write(tmp_path / "plain.csv", MS_LINES), symbol=SYMBOL)
    assert kline.time_unit == unit
    assert kline.timeframe == "1m"
    assert kline.frame.drop("source").equals(reference.frame.drop("source"))


def test_a_zip_of_csvs_is_read_in_member_name_order(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1m-2024-01.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("BTCUSDT-1m-2024-01-02.csv", "\n".join(MS_LINES[2:]) + "\n")
        archive.writestr("BTCUSDT-1m-2024-01-01.csv", "\n".join([HEADER, *MS_LINES[:2]]) + "\n")
        archive.writestr("README.txt", "not klines")
    kline = read_kline_file(path, symbol=SYMBOL)
    assert kline.frame["timestamp"].to_list() == [T + timedelta(minutes=i) for i in range(3)]
    day_one, day_two = "file:BTCUSDT-1m-2024-01-01.csv", "file:BTCUSDT-1m-2024-01-02.csv"
    assert kline.frame["source"].to_list() == [day_one, day_one, day_two]


def test_bar_length_comes_from_close_time_or_else_the_file_name(tmp_path: Path) -> None:
    five = [_with_close(line, 300_000) for line in MS_LINES]
    assert read_kline_file(_write(tmp_path / "k.csv", five), symbol=SYMBOL).timeframe == "5m"
    six_columns = [",".join(line.split(",")[:6]) for line in MS_LINES]
    named = _write(tmp_path / "BTCUSDT-15m-2024-01.csv", six_columns)
    assert read_kline_file(named, symbol=SYMBOL).timeframe == "15m"
    with pytest.raises(KlineFileError, match="cannot tell the bar length"):
        read_kline_file(_write(tmp_path / "k6.csv", six_columns), symbol=SYMBOL)


def test_bad_values_are_kept_for_the_gate_not_repaired(tmp_path: Path) -> None:
    lines = [
        MS_LINES[0].replace("42331.9,289.641", "NaN,289.641"),
        MS_LINES[1].replace(",210.877,", ",,"),
    ]
    frame = read_kline_file(_write(tmp_path / "k.csv", lines), symbol=SYMBOL).frame
    assert frame["close"].is_nan().to_list() == [True, False]
    assert frame["volume"].to_list() == [289.641, None]


def test_the_committed_fixture_is_sorted_and_its_exact_copy_collapsed(tmp_path: Path) -> None:
    kline = read_kline_file(fixture.PATH, symbol=SYMBOL)
    assert (kline.timeframe, kline.time_unit, kline.frame.height) == ("1m", "ms", 197)
    assert (kline.duplicates, kline.reordered) == (1, True)
    minutes = (kline.frame["timestamp"] - datetime(2026, 1, 5, tzinfo=UTC)).dt.total_seconds() // 60
    order = minutes.cast(pl.Int64).to_list()
    assert order == sorted(order)
    assert order.count(fixture.EXACT_COPY) == 1
    assert order.count(fixture.DUPLICATE) == 2  # two different bars at one time: both stay


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("1704067200000,1,2,3\n", "4 column"),
        (
            HEADER + "\n" + MS_LINES[0] + "\n" + MS_LINES[1].replace("42353.1", "4x"),
            "line 3: high '4x'",
        ),
        ("open_time,open,high,low,close,volume\n,1,2,0.5,1,3\n", "line 2: open_time is missing"),
    ],
)
def test_malformed_files_fail_with_the_line_and_field(
    tmp_path: Path, content: str, message: str
) -> None:
    with pytest.raises(KlineFileError, match=message):
        read_kline_file(_write(tmp_path / "k.csv", [content]), symbol=SYMBOL)


def test_missing_files_and_foreign_symbols_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KlineFileError, match="no such file"):
        read_kline_file(tmp_path / "nope.csv", symbol=SYMBOL)
    eth = _write(tmp_path / "ETHUSDT-1m-2024-01-01.csv", MS_LINES)
    with pytest.raises(KlineFileError, match="holds ETHUSDT klines but --symbol is BTC/USDT:USDT"):
        read_kline_file(eth, symbol=SYMBOL)
    empty_zip = tmp_path / "BTCUSDT-1m-x.zip"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("notes.txt", "x")
    with pytest.raises(KlineFileError, match=r"no \.csv"):
        read_kline_file(empty_zip, symbol=SYMBOL)


def _valid_lines(minutes: list[int]) -> dict[int, str]:
    """Valid 1m BTCUSDT kline lines (ms times) for ``minutes`` after 2024-01-01T00:00Z."""
    out = {}
    for m in minutes:
        t = 1_704_067_200_000 + m * 60_000
        o, c = 42_000.0 + m, 42_000.5 + m
        out[m] = (
            f"{t},{o:.1f},{c + 1:.1f},{o - 1:.1f},{c:.1f},1.5,{t + 59_999},63000,10,0.7,29400,0"
        )
    return out


def _read_bars(directory: Path, minutes: list[int], order: list[int]) -> KlineFile:
    lines = _valid_lines(minutes)
    path = _write(directory / "BTCUSDT-1m-2024-01-01.csv", [lines[m] for m in order])
    return read_kline_file(path, symbol=SYMBOL)


def _minutes(frame: pl.DataFrame) -> list[int]:
    return ((frame["timestamp"] - T).dt.total_seconds() // 60).cast(pl.Int64).to_list()


@st.composite
def bar_files(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Distinct bar minutes, and a file order holding each 1 to 4 times, shuffled."""
    minutes = draw(st.lists(st.integers(0, 179), min_size=1, max_size=60, unique=True))
    copies = draw(st.lists(st.integers(0, 3), min_size=len(minutes), max_size=len(minutes)))
    lines = [m for m, extra in zip(minutes, copies, strict=True) for _ in range(1 + extra)]
    return minutes, draw(st.permutations(lines))


@given(bar_files())
@settings(max_examples=60, deadline=None)
def test_any_order_and_any_exact_copies_give_every_distinct_bar_once(
    case: tuple[list[int], list[int]],
) -> None:
    minutes, order = case
    with tempfile.TemporaryDirectory() as tmp:
        kline = _read_bars(Path(tmp), minutes, order)
    got = _minutes(kline.frame)
    assert got == sorted(minutes)
    assert kline.duplicates == len(order) - len(minutes)


@given(bar_files())
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_through_the_gate_every_distinct_bar_is_stored_once(
    case: tuple[list[int], list[int]],
) -> None:
    """The whole import (file, gate, lake): nothing quarantined, nothing lost or doubled."""
    minutes, order = case
    with tempfile.TemporaryDirectory() as tmp:
        kline = _read_bars(Path(tmp), minutes, order)
        lake = Path(tmp) / "lake"
        as_of = T + timedelta(days=1)
        report = gate_kline_file(kline, lake, run_id="p", as_of=as_of, policy=GatePolicy(0.0))
        store_gate(lake, report)
        stored = read_dataset(lake, OHLCV)
    assert report.passed, report.reasons
    assert report.quarantine.height == 0
    assert sorted(_minutes(stored)) == sorted(minutes)


def test_a_spot_file_is_its_own_market(tmp_path: Path) -> None:
    """Binance spot klines (data.binance.vision/data/spot) are stored as ``BTC/USDT``."""
    kline = read_kline_file(
        _write(tmp_path / "BTCUSDT-1m-2024-01-01.csv", MS_LINES), symbol="BTC/USDT"
    )
    assert kline.frame["symbol"].unique().to_list() == ["BTC/USDT"]
