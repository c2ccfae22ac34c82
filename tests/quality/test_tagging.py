"""Row tagging with polars: each bad row gets exactly its reasons; a crashing check tags none."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.lake import SchemaMismatchError
from qbtc.quality import CheckContext, ExpectationSpec, RowCheck, ohlcv_rules, option_rules
from qbtc.quality.tagging import BAD, REASONS, conform, tag_rows
from qbtc.schemas import OHLCV, OPTION_QUOTES
from tests.factories import T0, ohlcv_frame

STEP = timedelta(minutes=1)


def _context(frame: pl.DataFrame, **changes: object) -> CheckContext:
    as_of = frame["timestamp"].max() + 2 * STEP  # type: ignore[operator]
    symbols = tuple(sorted(frame["symbol"].unique()))
    values: dict[str, object] = {"as_of": as_of, "step": STEP, "symbols": symbols}
    values.update(changes)
    return CheckContext(**values)  # type: ignore[arg-type]


def _set(frame: pl.DataFrame, row: int, **values: object) -> pl.DataFrame:
    index = pl.int_range(pl.len())
    return frame.with_columns(
        pl.when(index == row).then(pl.lit(v)).otherwise(pl.col(k)).alias(k)
        for k, v in values.items()
    )


def _reasons(tagged: pl.DataFrame) -> dict[int, set[str]]:
    rows = tagged.with_row_index("i").filter(pl.col(BAD))
    return {int(i): set(r) for i, r in rows.select("i", REASONS).iter_rows()}


def test_clean_bars_have_no_reasons() -> None:
    frame = ohlcv_frame(n=120)
    tagged = tag_rows(frame, ohlcv_rules().checks, _context(frame))
    assert _reasons(tagged.frame) == {}
    assert all(c.bad_rows == 0 and c.error is None for c in tagged.counts)


def test_each_bad_value_is_tagged_with_its_own_reason() -> None:
    frame = ohlcv_frame(n=120)
    frame = _set(frame, 3, open=float("nan"))
    frame = _set(frame, 5, volume=-1.0)
    frame = _set(frame, 7, low=0.0)
    frame = _set(frame, 9, timestamp=T0 + timedelta(minutes=9, seconds=30))
    tagged = tag_rows(frame, ohlcv_rules().checks, _context(frame))
    assert _reasons(tagged.frame) == {
        3: {"open_null"},
        5: {"volume_negative"},
        7: {"low_not_positive"},
        9: {"off_grid"},
    }


def test_a_bar_not_closed_at_the_clock_is_tagged() -> None:
    frame = ohlcv_frame(symbols=("BTC/USDT:USDT",), n=60)
    as_of = T0 + timedelta(minutes=59, seconds=30)  # the 00:59 bar closes at 01:00
    tagged = tag_rows(frame, ohlcv_rules().checks, _context(frame, as_of=as_of))
    assert _reasons(tagged.frame) == {59: {"bar_not_closed"}}


def test_out_of_order_is_judged_per_symbol_in_batch_order() -> None:
    frame = ohlcv_frame(n=40)  # BTC rows then ETH rows: the symbol change is not a step back
    swapped = pl.concat([frame[:10], frame[11:12], frame[10:11], frame[12:]])
    tagged = tag_rows(swapped, ohlcv_rules().checks, _context(swapped))
    assert _reasons(tagged.frame) == {11: {"out_of_order"}}


def test_every_copy_of_a_duplicated_key_is_tagged() -> None:
    frame = ohlcv_frame(symbols=("BTC/USDT:USDT",), n=50)
    doubled = pl.concat([frame, frame[20:21].with_columns(pl.col("close") * 1.0001)])
    tagged = tag_rows(doubled, ohlcv_rules().checks, _context(doubled))
    assert _reasons(tagged.frame) == {20: {"duplicate_key"}, 50: {"duplicate_key", "out_of_order"}}


def test_a_crashing_check_is_an_error_and_tags_no_row() -> None:
    crashing = RowCheck(
        "crashes",
        bad=lambda ctx: pl.col("no_such_column") > 0,
        expect=lambda ctx: (ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "x"}),),
    )
    frame = _set(ohlcv_frame(n=40), 2, volume=-3.0)
    tagged = tag_rows(frame, ohlcv_rules(extra=(crashing,)).checks, _context(frame))
    counts = {c.name: c for c in tagged.counts}
    assert counts["crashes"].bad_rows is None
    assert "no_such_column" in (counts["crashes"].error or "")
    assert tagged.errored == ("crashes",)
    assert _reasons(tagged.frame) == {2: {"volume_negative"}}


def test_a_crashing_helper_column_is_an_error() -> None:
    def boom(frame: pl.DataFrame, ctx: CheckContext) -> pl.Series:
        raise ZeroDivisionError("helper failed")

    check = RowCheck(
        "derived", bad=lambda ctx: pl.col("_derived") > 0, expect=lambda ctx: (), derive=boom
    )
    frame = ohlcv_frame(n=40)
    tagged = tag_rows(frame, (check,), _context(frame))
    assert tagged.counts[0].error == "ZeroDivisionError: helper failed"
    assert not tagged.frame[BAD].any()


def test_conform_turns_nan_in_optional_columns_into_null_and_keeps_required_nan() -> None:
    row = {c: None for c in OPTION_QUOTES.columns}
    row.update(symbol="BTC/USDT:USDT-260130-90000-C", underlying="BTC", strike=90_000.0)
    row.update(bid=float("nan"), mark=float("nan"))
    frame = pl.DataFrame([row], schema=OPTION_QUOTES.schema)
    out = conform(OPTION_QUOTES, frame)
    assert out["bid"][0] is None
    assert out["mark"].is_nan()[0]
    assert "mark_null" in tag_rows(out, option_rules().checks, CheckContext(T0)).frame[REASONS][0]


def test_conform_refuses_a_frame_with_wrong_columns() -> None:
    with pytest.raises(SchemaMismatchError, match="missing column"):
        conform(OHLCV, ohlcv_frame(n=3).drop("volume"))
    with pytest.raises(SchemaMismatchError, match="volume is Int64"):
        conform(OHLCV, ohlcv_frame(n=3).with_columns(pl.col("volume").cast(pl.Int64)))


@given(
    bad_volume=st.sets(st.integers(0, 79), max_size=10),
    bad_high=st.sets(st.integers(0, 79), max_size=10),
)
def test_tags_are_exactly_the_corrupted_rows(bad_volume: set[int], bad_high: set[int]) -> None:
    frame = ohlcv_frame(n=40)  # 80 rows
    index = pl.int_range(pl.len())
    frame = frame.with_columns(
        pl.when(index.is_in(list(bad_volume))).then(-1.0).otherwise("volume").alias("volume"),
        pl.when(index.is_in(list(bad_high)))
        .then(pl.min_horizontal("open", "close") * 0.999)
        .otherwise("high")
        .alias("high"),
    )
    tagged = tag_rows(frame, ohlcv_rules().checks, _context(frame)).frame
    reasons = _reasons(tagged)
    assert {i for i, r in reasons.items() if "volume_negative" in r} == bad_volume
    assert {i for i, r in reasons.items() if "high_below_open" in r} == bad_high
    assert set(reasons) == bad_volume | bad_high
