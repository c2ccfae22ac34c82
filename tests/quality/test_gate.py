"""The gate end to end: polars tags, GX records, both agree; quarantine and verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from qbtc.lake import read_dataset
from qbtc.market.files import read_kline_file
from qbtc.quality import (
    DatasetBatch,
    ExpectationSpec,
    GatePolicy,
    GateReport,
    RowCheck,
    evaluate_gate,
    funding_rules,
    ohlcv_rules,
    option_rules,
    store_gate,
    tickers_rules,
)
from qbtc.schemas import FUNDING_RATES, OPTION_QUOTES, TICKERS
from tests.factories import T0, ohlcv_frame
from tests.fixtures import make_bad_klines as fixture

STEP = timedelta(minutes=1)
FILE_START = datetime(2026, 1, 5, tzinfo=UTC)
FILE_AS_OF = FILE_START + timedelta(minutes=fixture.AS_OF_MINUTE)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")


def _fixture_report(max_bad_fraction: float) -> GateReport:
    kline = read_kline_file(fixture.PATH, symbol="BTC/USDT:USDT")
    batch = DatasetBatch(ohlcv_rules(), kline.frame, expected=("BTC/USDT:USDT",), step=STEP)
    policy = GatePolicy(max_bad_fraction=max_bad_fraction, max_staleness_s=None)
    return evaluate_gate([batch], run_id="fixture", as_of=FILE_AS_OF, policy=policy)


def _statuses(report: GateReport) -> dict[str, str]:
    return {f"{r.dataset}.{r.check}": r.status for r in report.results}


def test_every_bad_row_of_the_fixture_is_quarantined_with_its_reasons(lake_dir: Path) -> None:
    report = _fixture_report(max_bad_fraction=0.01)
    store_gate(lake_dir, report)
    quarantine = read_dataset(lake_dir, "quarantine")
    minutes = ((quarantine["timestamp"] - FILE_START).dt.total_seconds() // 60).cast(pl.Int64)
    found: dict[int, list[set[str]]] = {}
    for minute, reasons in zip(minutes.to_list(), quarantine["reasons"].to_list(), strict=True):
        found.setdefault(minute, []).append(set(reasons.split(";")))
    assert found == {
        m: [r] * (2 if m == fixture.DUPLICATE else 1) for m, r in fixture.BAD_ROWS.items()
    }
    nan_row = quarantine.filter(pl.col("reasons") == "close_null")["row"][0]
    assert json.loads(nan_row)["close"] == "NaN"
    clean = read_dataset(lake_dir, "ohlcv")
    clean_minutes = set(((clean["timestamp"] - FILE_START).dt.total_seconds() // 60).to_list())
    assert not clean_minutes & set(fixture.BAD_ROWS)
    assert clean.height == 197 - 7  # distinct bars minus the 7 bad rows
    assert clean["close"].is_nan().sum() == 0


def test_the_fixture_fails_the_gate_past_its_bad_row_threshold() -> None:
    strict = _fixture_report(max_bad_fraction=0.01)
    assert not strict.passed
    assert strict.reasons == ("ohlcv.bad_fraction: fail (7 of 197)",)
    statuses = _statuses(strict)
    assert "error" not in statuses.values()  # GX agreed with polars on every check
    assert statuses["ohlcv.gaps"] == "fail"  # reported, but advisory
    loose = _fixture_report(max_bad_fraction=0.05)
    assert loose.passed
    assert loose.quarantine.height == 7


def _ohlcv_report(*extra: RowCheck) -> GateReport:
    frame = ohlcv_frame(n=60).with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(-1.0).otherwise("volume").alias("volume")
    )
    batch = DatasetBatch(ohlcv_rules(extra=extra), frame, step=STEP)
    return evaluate_gate(
        [batch], run_id="r", as_of=T0 + timedelta(hours=1), policy=GatePolicy(max_bad_fraction=0.5)
    )


def test_crashing_checks_are_errors_not_bad_data_and_hold_the_batch_back() -> None:
    polars_crash = RowCheck(
        "polars_crash",
        bad=lambda ctx: pl.col("missing_column") > 0,
        expect=lambda ctx: (
            ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "missing_column"}),
        ),
    )
    gx_crash = RowCheck(
        "gx_crash",
        bad=lambda ctx: pl.lit(False),
        expect=lambda ctx: (
            ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": "nope", "min_value": 0}),
        ),
    )
    twin_crash = RowCheck(
        "twin_crash",
        bad=lambda ctx: pl.lit(False),
        expect=lambda ctx: (1 / 0,),  # type: ignore[arg-type,return-value]
    )
    report = _ohlcv_report(polars_crash, gx_crash, twin_crash)
    by_check = {r.check: r for r in report.results}
    assert "ZeroDivisionError" in str(by_check["twin_crash"].details["error"])
    for name in ("polars_crash", "gx_crash", "twin_crash"):
        assert by_check[name].status == "error"
        assert by_check[name].unexpected_count == 0
    assert "missing_column" in str(by_check["polars_crash"].details["error"])
    assert "nope" in str(by_check["gx_crash"].details["error"])
    assert by_check["volume_negative"].status == "fail"
    assert report.quarantine["reasons"].to_list() == ["volume_negative"]
    assert report.clean("ohlcv").height == 0  # nothing unchecked goes on
    assert not report.passed
    assert any("polars_crash: error" in r for r in report.reasons)
    assert any("held back" in r for r in report.reasons)


def test_polars_and_gx_disagreeing_is_an_error() -> None:
    lying = RowCheck(
        "lying",
        bad=lambda ctx: pl.lit(False),  # says every row is fine...
        expect=lambda ctx: (  # ...while its twin refuses every volume above 0
            ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": "volume", "max_value": 0}),
        ),
    )
    report = _ohlcv_report(lying)
    result = next(r for r in report.results if r.check == "lying")
    assert result.status == "error"
    assert result.details["error"] == "row tagger found 0 bad rows, GX found 119"
    assert not report.passed


def test_a_missing_symbol_and_stale_data_fail_the_gate() -> None:
    frame = ohlcv_frame(symbols=SYMBOLS, n=30)
    as_of = T0 + timedelta(minutes=30 + 20)  # newest bar closed 20 minutes ago
    batch = DatasetBatch(ohlcv_rules(), frame, expected=(*SYMBOLS, "SOL/USDT:USDT"), step=STEP)
    report = evaluate_gate([batch], run_id="r", as_of=as_of, policy=GatePolicy())
    assert _statuses(report)["ohlcv.coverage"] == "fail"
    assert _statuses(report)["ohlcv.freshness"] == "fail"
    assert set(report.reasons) == {
        "ohlcv.coverage: fail (1 of 3)",
        "ohlcv.freshness: fail (2 of 2)",
    }


def test_an_empty_batch_passes_on_fresh_stored_data() -> None:
    as_of = T0 + timedelta(minutes=30)
    stored = {s: as_of - 2 * STEP for s in SYMBOLS}
    empty = ohlcv_frame(n=1).clear()
    batch = DatasetBatch(ohlcv_rules(), empty, expected=SYMBOLS, latest_stored=stored, step=STEP)
    report = evaluate_gate([batch], run_id="r", as_of=as_of, policy=GatePolicy())
    assert report.passed, report.reasons
    assert report.datasets[0].rows == 0


def _options(now: datetime) -> pl.DataFrame:
    base = {
        "underlying": "BTC",
        "timestamp": now,
        "expiry": now + timedelta(days=7),
        "strike": 90_000.0,
        "option_type": "call",
        "settlement": "linear",
        "bid": 1000.0,
        "ask": 1010.0,
        "mark": 1005.0,
        "bid_iv": 0.50,
        "ask_iv": 0.51,
        "mark_iv": 0.505,
        "underlying_price": 90_000.0,
        "open_interest": 10.0,
        "source": "test",
    }
    changes: list[dict[str, object]] = [
        {},
        {"bid": 1020.0},
        {"strike": 0.0},
        {"expiry": now - timedelta(hours=1)},
        {"mark_iv": 7.0},
        {"bid": 0.0},
        {"option_type": "straddle"},
        {"bid": None, "bid_iv": None},  # no bid quoted: fine
    ]
    rows = [
        {**base, **c, "symbol": f"BTC/USDT:USDT-260112-{90_000 + i}-C"}
        for i, c in enumerate(changes)
    ]
    return pl.DataFrame(rows, schema=OPTION_QUOTES.schema)


def test_option_funding_and_ticker_rules() -> None:
    now = T0
    tickers = pl.DataFrame(
        [
            ["BTC/USDT:USDT", now, 99.0, 100.0, 99.5, 99.5, 99.4, 10.0, 1000.0, None, "t"],
            ["ETH/USDT:USDT", now, 101.0, 100.0, 99.5, 99.5, 99.4, 10.0, 1000.0, None, "t"],
        ],
        schema=TICKERS.schema,
        orient="row",
    )
    funding = pl.DataFrame(
        [
            ["BTC/USDT:USDT", now - timedelta(hours=8), 0.0001, 99.0, 99.0, "t"],
            ["ETH/USDT:USDT", now - timedelta(hours=8), 0.2, 99.0, 99.0, "t"],
            ["ETH/USDT:USDT", now + timedelta(hours=8), 0.0001, None, None, "t"],
        ],
        schema=FUNDING_RATES.schema,
        orient="row",
    )
    report = evaluate_gate(
        [
            DatasetBatch(option_rules(), _options(now), expected=("BTC", "ETH")),
            DatasetBatch(funding_rules(), funding),
            DatasetBatch(tickers_rules(), tickers, expected=SYMBOLS),
        ],
        run_id="r",
        as_of=now,
        policy=GatePolicy(max_bad_fraction=1.0),
    )
    reasons = dict(zip(report.quarantine["row_key"], report.quarantine["reasons"], strict=True))
    option_key = "BTC/USDT:USDT-260112-{}-C|2026-01-05T00:00:00.000000Z"
    assert reasons == {
        option_key.format(90_001): "crossed_quote",
        option_key.format(90_002): "strike_not_positive",
        option_key.format(90_003): "expired",
        option_key.format(90_004): "mark_iv_out_of_range",
        option_key.format(90_005): "bid_not_positive",
        option_key.format(90_006): "option_type_unknown",
        "ETH/USDT:USDT|2026-01-04T16:00:00.000000Z": "funding_rate_out_of_bounds",
        "ETH/USDT:USDT|2026-01-05T08:00:00.000000Z": "future_timestamp",
        "ETH/USDT:USDT|2026-01-05T00:00:00.000000Z": "crossed_quote",
    }
    assert "error" not in _statuses(report).values()
    # no ETH chain, and the only ETH ticker was crossed: both datasets miss a key
    assert set(report.reasons) == {
        "option_quotes.coverage: fail (1 of 2)",
        "tickers.coverage: fail (1 of 2)",
    }


@pytest.mark.parametrize("fraction", [0.0, 0.02])
def test_bad_fraction_threshold_is_inclusive(fraction: float) -> None:
    frame = ohlcv_frame(symbols=("BTC/USDT:USDT",), n=50).with_columns(
        pl.when(pl.int_range(pl.len()) == 10).then(-1.0).otherwise("volume").alias("volume")
    )
    report = evaluate_gate(
        [DatasetBatch(ohlcv_rules(), frame, step=STEP)],
        run_id="r",
        as_of=T0 + timedelta(hours=1),
        policy=GatePolicy(max_bad_fraction=fraction),
    )
    assert report.passed is (fraction >= 1 / 50)
    assert "error" not in _statuses(report).values()


def test_tickers_and_chains_of_symbols_whose_bars_were_quarantined_are_not_stored(
    lake_dir: Path,
) -> None:
    now = T0 + timedelta(minutes=30)
    bars = ohlcv_frame(symbols=SYMBOLS, n=30)
    bad_btc = (pl.col("symbol") == "BTC/USDT:USDT") & (pl.col("timestamp") == T0 + 29 * STEP)
    bars = bars.with_columns(pl.when(bad_btc).then(None).otherwise(pl.col("close")).alias("close"))
    tickers = pl.DataFrame(
        [
            [s, now, 99.0, 100.0, 99.5, 99.5, 99.4, 10.0, 1000.0, None, "t"]
            for s in ("BTC/USDT:USDT", "ETH/USDT:USDT")
        ],
        schema=TICKERS.schema,
        orient="row",
    )
    chain = _options(now).head(1)
    report = evaluate_gate(
        [
            DatasetBatch(ohlcv_rules(), bars, expected=SYMBOLS, step=STEP),
            DatasetBatch(tickers_rules(), tickers, expected=SYMBOLS),
            DatasetBatch(option_rules(), chain, expected=("BTC",)),
        ],
        run_id="r",
        as_of=now,
        policy=GatePolicy(max_bad_fraction=0.05),
    )
    store_gate(lake_dir, report)
    assert read_dataset(lake_dir, "tickers")["symbol"].to_list() == ["ETH/USDT:USDT"]
    assert read_dataset(lake_dir, "option_quotes").is_empty()
    quarantine = read_dataset(lake_dir, "quarantine")
    derived = quarantine.filter(pl.col("reasons") == "bars_quarantined")
    assert sorted(derived["dataset"].to_list()) == ["option_quotes", "tickers"]
    assert _statuses(report)["tickers.bars_quarantined"] == "fail"  # advisory: named, kept
    assert report.passed, report.reasons
