"""PnL of coin-settled (inverse) options in their coin, beside the book's USD figures.

Deribit's BTC options are paid for, charged and settled in BTC; the ledger books them in USD
at the underlying price each coin amount was converted at (``fills.underlying_price``), so
the coin figures follow from dividing back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.execution.ledger import Settlement, settlements_frame
from qbtc.execution.pnl import coin_currency, coin_pnl, compute_positions
from qbtc.execution.positions import OptionMark, position_rows
from qbtc.schemas import FILLS

CALL = "BTC/USD:BTC-260327-42000-C"  # Deribit's, coin-settled
LINEAR = "BTC/USDT:USDT-260327-42000-C"
DAY = datetime(2026, 3, 1, tzinfo=UTC)


def fill(
    i: int, side: str, quantity: float, coin_price: float, coin_fee: float, rate: float | None
) -> dict[str, object]:
    """A fill as the broker books a coin option: USD price and fee at ``rate`` USD/BTC."""
    usd = rate or 40_000.0
    return {
        "fill_id": f"f{i}",
        "client_order_id": f"o{i}",
        "venue_order_id": str(i),
        "portfolio_id": "main",
        "symbol": CALL,
        "timestamp": DAY + timedelta(hours=i),
        "side": side,
        "quantity": quantity,
        "price": coin_price * usd,
        "fee": coin_fee * usd,
        "fee_currency": "USD",
        "liquidity": "venue",
        "underlying_price": rate,
    }


def frame(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=FILLS.schema)


def test_only_coin_settled_options_have_a_coin() -> None:
    assert coin_currency(CALL) == "BTC"
    assert coin_currency("ETH/USD:ETH-260327-2000-P") == "ETH"
    assert coin_currency(LINEAR) is None
    assert coin_currency("BTC/USD:BTC") is None  # an inverse perpetual is no option


def test_a_hand_computed_round_trip_and_settlement_in_coin() -> None:
    """Buy 2 BTC of calls at 0.05 BTC (BTC at 40,000), sell 1 at 0.08 (BTC at 50,000); the
    last one settles at delivery 45,000: worth (45,000 - 42,000) / 45,000 BTC."""
    fills = frame(
        fill(0, "buy", 2.0, 0.05, 0.0006, 40_000.0),
        fill(1, "sell", 1.0, 0.08, 0.0003, 50_000.0),
    )
    settled = Settlement(
        settlement_id="s1",
        portfolio_id="main",
        symbol=CALL,
        timestamp=DAY + timedelta(days=26),
        quantity=1.0,
        delivery_price=45_000.0,
        settlement_price=3_000.0,
        fee=0.0,
        fee_currency="USD",
    )
    book = compute_positions(fills, settlements=settlements_frame([settled]))[CALL]
    assert book.quantity == 0.0
    assert book.realized_pnl_coin == pytest.approx((0.08 - 0.05) + (3_000 / 45_000 - 0.05))
    assert book.fees_coin == pytest.approx(0.0009)
    assert coin_pnl(book, None) == pytest.approx(0.03 + 1 / 15 - 0.05 - 0.0009)
    # in USD the same trades realise 1 x (4,000 - 2,000) + 1 x (3,000 - 2,000)
    assert book.realized_pnl == pytest.approx(3_000.0)


def test_an_open_position_is_valued_at_the_coin_mark() -> None:
    book = compute_positions(frame(fill(0, "buy", 0.5, 0.217, 0.00015, 38_992.71)))[CALL]
    assert book.entry_price_coin == pytest.approx(0.217)
    marked = compute_positions(
        frame(fill(0, "buy", 0.5, 0.217, 0.00015, 38_992.71)), marks={CALL: 0.2168 * 39_500.0}
    )[CALL]
    assert coin_pnl(marked, 39_500.0) == pytest.approx(0.5 * (0.2168 - 0.217) - 0.00015)
    assert coin_pnl(marked, None) is None  # no forward, no coin mark


def test_a_fill_without_its_conversion_price_leaves_the_coin_figures_unknown() -> None:
    book = compute_positions(
        frame(fill(0, "buy", 1.0, 0.05, 0.0, 40_000.0), fill(1, "buy", 1.0, 0.05, 0.0, None))
    )[CALL]
    assert (book.realized_pnl_coin, book.fees_coin, coin_pnl(book, 40_000.0)) == (None, None, None)


@given(
    trades=st.lists(
        st.tuples(
            st.sampled_from(["buy", "sell"]),
            st.floats(0.1, 5.0),
            st.floats(0.001, 0.5),
            st.floats(0.0, 0.001),
        ),
        min_size=1,
        max_size=12,
    ),
    rate=st.floats(1_000.0, 200_000.0),
    mark=st.floats(0.001, 0.5),
)
def test_at_one_underlying_price_the_coin_pnl_is_the_usd_pnl_over_that_price(
    trades: list[tuple[str, float, float, float]], rate: float, mark: float
) -> None:
    """Converted at one price throughout, coin and USD books tell the same story."""
    fills = frame(*(fill(i, *t, rate) for i, t in enumerate(trades)))
    book = compute_positions(fills, marks={CALL: mark * rate})[CALL]
    usd = book.realized_pnl + book.unrealized_pnl - book.fees
    coin = coin_pnl(book, rate)
    assert coin is not None
    assert coin * rate == pytest.approx(usd, rel=1e-9, abs=1e-6)


def test_position_rows_carry_usd_and_coin_pnl() -> None:
    fills = frame(fill(0, "buy", 0.5, 0.217, 0.00015, 38_992.71))
    linear = fills.with_columns(
        pl.lit(LINEAR).alias("symbol"), pl.lit(None, pl.Float64).alias("underlying_price")
    )
    books = compute_positions(
        pl.concat([fills, linear.with_columns(pl.lit("f9").alias("fill_id"))]),
        marks={CALL: 0.2168 * 39_500.0, LINEAR: 8_600.0},
    )
    marks = {s: OptionMark(forward=39_500.0, mark_iv=0.61) for s in (CALL, LINEAR)}
    rows = position_rows(books, portfolio_id="main", timestamp=DAY, option_marks=marks)
    inverse, linear_row = (
        rows.filter(pl.col("symbol") == s).row(0, named=True) for s in (CALL, LINEAR)
    )
    assert inverse["pnl_usd"] == pytest.approx(books[CALL].net_pnl)
    assert inverse["pnl_coin"] == pytest.approx(0.5 * (0.2168 - 0.217) - 0.00015)
    assert inverse["pnl_coin_currency"] == "BTC"
    assert linear_row["pnl_usd"] == pytest.approx(books[LINEAR].net_pnl)
    assert (linear_row["pnl_coin"], linear_row["pnl_coin_currency"]) == (None, None)


def test_the_coin_figures_survive_the_ledger_checkpoint(tmp_path: Path) -> None:
    """A cycle reads the book from the stored checkpoint plus what was added since: the coin
    figures it gives are those of a pass over the whole ledger."""
    from qbtc.execution.ledger import Fill, Ledger
    from qbtc.execution.ledger_view import CheckpointedLedger

    def checkpointed() -> CheckpointedLedger:
        return CheckpointedLedger(tmp_path / "lake", "main", tmp_path / "state" / "ledger")

    rows = [
        fill(0, "buy", 2.0, 0.05, 0.0006, 40_000.0),
        fill(1, "sell", 1.0, 0.08, 0.0003, 50_000.0),
        fill(2, "buy", 0.5, 0.06, 0.0002, 45_000.0),
    ]
    for i, row in enumerate(rows):
        ledger = checkpointed()
        ledger.record([], [Fill(**{k: v for k, v in row.items()})])  # type: ignore[arg-type]
        if i == 1:
            cycle = checkpointed()
            cycle.positions()
            cycle.save_checkpoint()
    cycle = checkpointed()
    read = cycle.positions()[CALL]
    full = Ledger(tmp_path / "lake", "main").positions()[CALL]
    assert read == full
    assert read.realized_pnl_coin == pytest.approx(0.03)
    assert read.entry_price_coin == pytest.approx((1.0 * 0.05 + 0.5 * 0.06) / 1.5)
