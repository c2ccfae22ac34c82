"""The ledger read through its book checkpoint answers exactly as the whole ledger does.

Each test drives "cycles" (one checkpointed ledger per stage, as a cycle does) over a real
lake on ``tmp_path`` and compares every answer with :class:`Ledger` reading everything.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qbtc.execution.book_checkpoint import checkpoint_path
from qbtc.execution.ledger import BALANCE_ID, Fill, Ledger, OrderEvent, Settlement
from qbtc.execution.ledger_view import CheckpointedLedger
from qbtc.idindex import IdIndex, bucket_of
from qbtc.lake import compact_dataset, increments, write_dataset
from qbtc.schemas import FILLS, FUNDING_RATES, ORDER_EVENTS

T0 = datetime(2026, 1, 5, tzinfo=UTC)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")
OPTION = "BTC/USDT:USDT-260106-100000-C"


def view(root: Path) -> CheckpointedLedger:
    return CheckpointedLedger(root / "lake", "main", root / "state" / "ledger")


def whole(root: Path) -> Ledger:
    return Ledger(root / "lake", "main")


def order(
    root: Path,
    cid: str,
    symbol: str,
    side: str,
    qty: float,
    price: float,
    at: datetime,
    *,
    fill: bool = True,
) -> None:
    """An order's events (and its fill) as the submitter would record them."""
    ledger = view(root)
    names = ["intent", "submitted", "acknowledged"] + (["filled"] if fill else [])
    events = [
        OrderEvent(
            cid,
            "run",
            name,
            symbol,
            side,
            qty,
            filled_quantity=qty if name == "filled" else 0.0,
            venue_order_id="v" + cid,
            timestamp=at,
        )
        for name in names
    ]
    fills = (
        [
            Fill(
                cid,
                "v" + cid,
                "main",
                symbol,
                at,
                side,
                qty,
                price,
                qty * price * 5e-4,
                fill_id=f"{cid}:{qty:g}",
            )
        ]
        if fill
        else []
    )
    ledger.record(events, fills)


def funding(root: Path, symbol: str, at: datetime, rate: float, mark: float) -> None:
    frame = pl.DataFrame(
        [
            {
                "symbol": symbol,
                "timestamp": at,
                "funding_rate": rate,
                "mark_price": mark,
                "index_price": mark,
                "source": "test",
            }
        ],
        schema=FUNDING_RATES.schema,
    )
    write_dataset(root / "lake", FUNDING_RATES, frame)


def snapshot(root: Path, at: datetime) -> None:
    """The last stage of a cycle: the book at ``at``, then the checkpoint."""
    ledger = view(root)
    ledger.positions(until=at)
    ledger.save_checkpoint()


def assert_same(root: Path, until: datetime | None = None) -> None:
    mine, truth = view(root), whole(root)
    assert mine.positions(until=until) == truth.positions(until=until)
    # Reconciliation's own ids (equity adjustments, repairs) are never orders in flight.
    orders = {c: s for c, s in truth.open_order_states().items() if c != BALANCE_ID}
    assert mine.open_order_states() == orders
    assert mine.traded_symbols() == truth.traded_symbols()
    assert mine.balance_adjustments() == pytest.approx(truth.balance_adjustments())
    for symbol in SYMBOLS:
        assert mine.usd_size(symbol) == pytest.approx(truth.usd_size(symbol))
    ids = truth.client_order_ids() | {"never-seen"}
    assert mine.order_states(ids) == truth.order_states(ids)
    assert all(mine.has_order(i) == (i in truth.client_order_ids()) for i in ids)


def spy_on_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The Parquet files the checkpointed ledger reads from now on."""
    read: list[Path] = []
    original = increments.scan_files

    def spy(dataset, files):  # type: ignore[no-untyped-def]
        read.extend(files)
        return original(dataset, files)

    monkeypatch.setattr(increments, "scan_files", spy)
    return read


step = st.tuples(
    st.sampled_from(SYMBOLS),
    st.sampled_from(["buy", "sell"]),
    st.floats(0.1, 5.0),
    st.floats(50.0, 150.0),
    st.booleans(),
    st.booleans(),
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=8), compact_at=st.integers(0, 8))
def test_cycles_on_the_checkpoint_match_the_whole_ledger(
    tmp_path_factory, steps, compact_at
) -> None:
    root = tmp_path_factory.mktemp("data")
    for n, (symbol, side, qty, price, filled, pays) in enumerate(steps):
        at = T0 + timedelta(hours=n)
        order(root, f"qb{n}", symbol, side, qty, price, at, fill=filled)
        if pays:
            funding(root, symbol, at + timedelta(minutes=30), 1e-4, price)
        if n == compact_at:
            for dataset in (FILLS, ORDER_EVENTS, FUNDING_RATES):
                compact_dataset(root / "lake", dataset)
        snapshot(root, at + timedelta(minutes=45))
        assert_same(root)
        assert_same(root, until=at + timedelta(minutes=45))


def test_a_cycle_reads_only_the_files_written_since_the_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        order(tmp_path, f"qb{n}", SYMBOLS[0], "buy", 1.0, 100.0, T0 + timedelta(hours=n))
    snapshot(tmp_path, T0 + timedelta(hours=6))
    order(tmp_path, "qb-new", SYMBOLS[0], "sell", 1.0, 110.0, T0 + timedelta(hours=7))
    read = spy_on_reads(monkeypatch)
    ledger = view(tmp_path)
    assert ledger.positions()[SYMBOLS[0]].quantity == pytest.approx(4.0)
    assert ledger.order_states(["qb-new", "qb-other"])["qb-new"].status == "filled"
    assert {p.parent.parent.name for p in read} <= {"fills", "order_events"}
    assert len(read) == 2  # the new order's one events file and one fills file


def test_a_finished_order_of_long_ago_is_still_known_as_finished(tmp_path: Path) -> None:
    order(tmp_path, "qb-old", SYMBOLS[0], "buy", 1.0, 100.0, T0)
    snapshot(tmp_path, T0 + timedelta(hours=1))
    for n in range(3):
        order(tmp_path, f"qb{n}", SYMBOLS[1], "buy", 1.0, 100.0, T0 + timedelta(hours=2 + n))
        snapshot(tmp_path, T0 + timedelta(hours=3 + n))
    state = view(tmp_path).order_states(["qb-old"])["qb-old"]
    assert (state.status, state.filled_quantity) == ("filled", 1.0)
    assert view(tmp_path).has_order("qb-old")


def test_a_quarantined_fills_file_rebuilds_the_book_from_what_is_left(tmp_path: Path) -> None:
    order(tmp_path, "qb1", SYMBOLS[0], "buy", 1.0, 100.0, T0)
    order(tmp_path, "qb2", SYMBOLS[0], "buy", 2.0, 100.0, T0 + timedelta(hours=1))
    snapshot(tmp_path, T0 + timedelta(hours=2))
    first = sorted((tmp_path / "lake" / "fills").rglob("*.parquet"))[0]
    aside = tmp_path / "aside.parquet"
    shutil.move(first, aside)
    assert view(tmp_path).positions()[SYMBOLS[0]].quantity == pytest.approx(2.0)
    assert_same(tmp_path)


def test_a_late_funding_rate_or_a_run_into_the_past_rebuilds_the_book(tmp_path: Path) -> None:
    order(tmp_path, "qb1", SYMBOLS[0], "buy", 1.0, 100.0, T0)
    order(tmp_path, "qb2", SYMBOLS[0], "buy", 1.0, 100.0, T0 + timedelta(hours=2))
    snapshot(tmp_path, T0 + timedelta(hours=3))
    funding(tmp_path, SYMBOLS[0], T0 + timedelta(hours=1), 1e-3, 100.0)  # between the fills
    assert view(tmp_path).positions()[SYMBOLS[0]].funding == pytest.approx(-0.1)
    assert_same(tmp_path)
    snapshot(tmp_path, T0 + timedelta(hours=3))
    order(tmp_path, "qb0", SYMBOLS[0], "sell", 1.0, 90.0, T0 - timedelta(hours=1))  # --as-of
    assert_same(tmp_path)


def test_settlements_and_equity_adjustments_carry_across_checkpoints(tmp_path: Path) -> None:
    order(tmp_path, "qb1", OPTION, "buy", 1.0, 50.0, T0)
    ledger = view(tmp_path)
    ledger.record([OrderEvent(BALANCE_ID, "r", "reconciled", "USDT", "buy", 25.0, timestamp=T0)])
    snapshot(tmp_path, T0 + timedelta(hours=1))
    view(tmp_path).record_settlements(
        [
            Settlement(
                f"{OPTION}:x", "main", OPTION, T0 + timedelta(days=1), 1.0, 101_000, 1_000, 0.5
            )
        ]
    )
    snapshot(tmp_path, T0 + timedelta(days=2))
    assert_same(tmp_path)
    assert view(tmp_path).balance_adjustments() == (25.0, 1)
    assert view(tmp_path).positions()[OPTION].realized_pnl == pytest.approx(950.0)


@pytest.mark.parametrize("damage", ["torn", "garbage", "index lost", "index behind"])
def test_a_damaged_checkpoint_or_index_is_rebuilt_or_repaired(tmp_path: Path, damage: str) -> None:
    order(tmp_path, "qb1", SYMBOLS[0], "buy", 1.0, 100.0, T0)
    snapshot(tmp_path, T0 + timedelta(hours=1))
    order(tmp_path, "qb2", SYMBOLS[1], "sell", 2.0, 10.0, T0 + timedelta(hours=2))
    snapshot(tmp_path, T0 + timedelta(hours=3))
    path = checkpoint_path(tmp_path / "state" / "ledger", "main")
    index = tmp_path / "state" / "ledger" / "ids-main"
    if damage == "torn":
        path.write_text(path.read_text()[:100])
    elif damage == "garbage":
        path.write_text(json.dumps({"version": 1, "portfolio_id": "main"}))
    elif damage == "index lost":
        shutil.rmtree(index)
    else:  # the machine died after the checkpoint was written, before the index's last append
        (index / f"{bucket_of('qb2')}.txt").write_text("")
        assert "qb1" in IdIndex(index)
    assert_same(tmp_path)
    assert view(tmp_path).order_states(["qb2"])["qb2"].status == "filled"


def test_a_funding_rate_stored_minutes_after_its_time_needs_no_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order(tmp_path, "qb1", SYMBOLS[0], "buy", 1.0, 100.0, T0)
    order(tmp_path, "qb2", SYMBOLS[0], "buy", 1.0, 100.0, T0 + timedelta(hours=2))
    snapshot(tmp_path, T0 + timedelta(hours=2, minutes=10))  # the fill of 2h is folded later
    # The rate of 1:55 is stored after the fill of 2:00 was: it sorts before that fill.
    funding(tmp_path, SYMBOLS[0], T0 + timedelta(hours=1, minutes=55), 1e-3, 100.0)
    read = spy_on_reads(monkeypatch)
    assert view(tmp_path).positions()[SYMBOLS[0]].funding == pytest.approx(-0.1)
    assert {p.parent.parent.name for p in read} == {"funding_rates"}
    monkeypatch.undo()
    assert_same(tmp_path)


def test_two_portfolios_keep_their_own_checkpoints(tmp_path: Path) -> None:
    other = CheckpointedLedger(tmp_path / "lake", "other", tmp_path / "state" / "ledger")
    order(tmp_path, "qb1", SYMBOLS[0], "buy", 1.0, 100.0, T0)
    snapshot(tmp_path, T0 + timedelta(hours=2))
    order(tmp_path, "qb2", SYMBOLS[0], "buy", 1.0, 100.0, T0 + timedelta(hours=3), fill=False)
    other.positions(until=T0 + timedelta(hours=4))
    other.save_checkpoint()  # sees qb2 (events are not per portfolio) before "main" does
    assert list(view(tmp_path).open_order_states()) == ["qb2"]
    assert_same(tmp_path)
