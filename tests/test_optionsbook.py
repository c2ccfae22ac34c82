"""The options book as shown: legs by structure, Greeks per underlying and whether the hedge
is inside its band, read back from real lake files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from qbtc.lake import write_dataset
from qbtc.optionsbook import options_summary, render_options_markdown, underlying_greeks
from qbtc.schemas import BOOK_GREEKS, ORDER_INTENTS, POSITIONS

AT = datetime(2026, 12, 1, 12, tzinfo=UTC)
CALL, PUT = "ETH/USDT:USDT-261225-3100-C", "ETH/USDT:USDT-261225-3100-P"


def greeks_row(phase: str, underlying: str, delta: float, **hedge: object) -> dict[str, object]:
    row = dict.fromkeys(BOOK_GREEKS.columns)
    row.update(
        portfolio_id="main",
        run_id="r1",
        timestamp=AT,
        phase=phase,
        underlying=underlying,
        spot=3000.0,
        delta_coin=delta,
        option_delta_coin=-10.0 if underlying == "ETH" else 0.0,
        perp_delta_coin=delta + (10.0 if underlying == "ETH" else 0.0),
        delta_usd=delta * 3000.0,
        gamma_usd=1.0,
        vega_usd=-900.0,
        theta_usd=50.0,
        **hedge,
    )
    return row


def write_book(lake: Path, eth_after: float) -> None:
    hedge = {"hedge_perp": "ETH/USDT:USDT", "directional_coin": -20.0, "band_usd": 5000.0}
    rows = [
        greeks_row("pre_trade", "ETH", 0.0, **hedge),
        greeks_row("book", "ETH", eth_after),
        greeks_row("book", "SOL", 3.0),  # no options, no hedge: not shown
    ]
    write_dataset(lake, BOOK_GREEKS, pl.DataFrame(rows, schema=BOOK_GREEKS.schema))


def test_the_hedge_is_in_band_when_the_net_delta_is_near_its_target(tmp_path: Path) -> None:
    write_book(tmp_path, eth_after=-19.0)  # 1 coin x 3000 = 3000 USDT from target
    (eth,) = underlying_greeks(tmp_path, "r1", "main")
    assert (eth["underlying"], eth["phase"], eth["in_band"]) == ("ETH", "book", True)
    assert eth["hedge_gap_usd"] == 3000.0
    write_book(tmp_path, eth_after=-10.0)  # 10 coins off: 30,000 USDT
    (eth,) = underlying_greeks(tmp_path, "r1", "main")
    assert eth["in_band"] is False
    lines = render_options_markdown({"greeks": [eth], "vol_views": [], "legs": []})
    assert lines[-1].endswith("| 30,000.00 | 5,000.00 | NO |")


def straddle_book(tmp_path: Path, put_quantity: float = -5.0) -> pl.DataFrame:
    """A short ETH straddle's intents (5 of each leg) and the positions held after them."""
    write_book(tmp_path, eth_after=-19.0)
    intents = []
    for symbol in (CALL, PUT):
        row = dict.fromkeys(ORDER_INTENTS.columns)
        row.update(
            client_order_id=f"qb-{symbol[-1]}",
            run_id="r1",
            portfolio_id="main",
            strategy="qbtc",
            symbol=symbol,
            leg="straddle-" + ("call" if symbol == CALL else "put"),
            timestamp=AT,
            side="sell",
            quantity=5.0,
            order_type="limit",
            limit_price=100.0,
            reduce_only=False,
            notional=500.0,
            status="accepted",
            structure_id="os-eth",
        )
        intents.append(row)
    write_dataset(tmp_path, ORDER_INTENTS, pl.DataFrame(intents, schema=ORDER_INTENTS.schema))
    positions = []
    for symbol, kind in ((CALL, "option"), (PUT, "option"), ("ETH/USDT:USDT", "perp")):
        row = dict.fromkeys(POSITIONS.columns)
        row.update(
            id=f"main:{symbol}",
            portfolio_id="main",
            symbol=symbol,
            type=kind,
            side="short",
            quantity=put_quantity if symbol == PUT else -5.0,
            entry_price=100.0,
            mark_price=90.0,
            unrealized_pnl=50.0,
            realized_pnl=0.0,
            fees=0.1,
            funding=0.0,
            underlying="ETH",
            timestamp=AT,
        )
        positions.append(row)
    return pl.DataFrame(positions, schema=POSITIONS.schema)


def test_option_legs_are_grouped_by_the_structure_of_their_intents(tmp_path: Path) -> None:
    summary = options_summary(tmp_path, "r1", "main", straddle_book(tmp_path))
    assert [
        (leg["symbol"], leg["structure_id"], leg["structure_state"]) for leg in summary["legs"]
    ] == [(CALL, "os-eth", "complete"), (PUT, "os-eth", "complete")]
    lines = render_options_markdown(summary)
    assert lines[0].startswith("- options: 2 leg(s) held in 1 structure(s)")
    assert not any("INCOMPLETE" in line for line in lines)


def test_a_structure_one_leg_of_which_filled_in_part_is_flagged(tmp_path: Path) -> None:
    summary = options_summary(tmp_path, "r1", "main", straddle_book(tmp_path, -2.0))
    states = {leg["structure_state"] for leg in summary["legs"]}
    assert states == {f"incomplete: {PUT} held -2, -3 to the structure's size"}
    lines = render_options_markdown(summary)
    assert (
        lines[1]
        == f"- INCOMPLETE option structure(s): os-eth incomplete: {PUT} held -2, -3 to the structure's size"
    )


def test_coin_pnl_columns_are_shown_only_for_a_book_with_coin_settled_options() -> None:
    from qbtc.optionsbook import shown_pnl_columns

    linear = pl.DataFrame(
        {
            "symbol": ["BTC/USDT:USDT"],
            "pnl_usd": [1.0],
            "pnl_coin": [None],
            "pnl_coin_currency": [None],
        }
    )
    assert shown_pnl_columns(linear).columns == ["symbol", "pnl_usd"]
    inverse = pl.concat(
        [
            linear,
            pl.DataFrame(
                {
                    "symbol": ["BTC/USD:BTC-261225-100000-C"],
                    "pnl_usd": [-20.0],
                    "pnl_coin": [-0.00025],
                    "pnl_coin_currency": ["BTC"],
                }
            ),
        ],
        how="vertical_relaxed",
    )
    assert shown_pnl_columns(inverse).columns == inverse.columns
