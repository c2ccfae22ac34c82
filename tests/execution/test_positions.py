"""Position snapshots of the book: perps and options, valued at the venue's marks."""

from __future__ import annotations

import pytest

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, snapshot_positions, submit_intents
from qbtc.lake import LakeReader
from qbtc.market.contracts import parse_option_symbol
from qbtc.market.sim import SimExchange
from qbtc.pricing import greeks, year_fraction
from qbtc.risk.killswitch import KillSwitch
from tests.execution.conftest import AS_OF, make_intent


def near_the_money_call(venue: SimExchange) -> str:
    chain = venue.fetch_option_chain("BTC")
    spot = venue.fetch_ticker("BTC/USDT:USDT")["markPrice"]
    calls = [s for s in chain if s.endswith("-C") and parse_option_symbol(s).expiry > AS_OF]
    return min(
        calls,
        key=lambda s: (
            abs(parse_option_symbol(s).strike - spot)
            + parse_option_symbol(s).expiry.timestamp() / 1e12
        ),
    )


def test_perp_and_option_positions_are_snapshotted_with_pnl_and_greeks(
    venue: SimExchange, broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    option = near_the_money_call(venue)
    intents = [
        make_intent(quantity=0.4),
        make_intent("ETH/USDT:USDT", "buy", 2.0, leg="eth"),
        make_intent(option, "buy", 3.0, leg="call"),
    ]
    submit_intents(broker, config, intents, run_id="r", kill_switch=kill_switch)
    # Close ETH: its snapshot stays, flat, so the latest view is never stale.
    submit_intents(
        broker,
        config,
        [make_intent("ETH/USDT:USDT", "sell", 2.0, leg="eth-close")],
        run_id="r",
        kill_switch=kill_switch,
    )
    frame = snapshot_positions(broker, config)
    rows = {row["symbol"]: row for row in frame.iter_rows(named=True)}
    btc, eth, call = rows["BTC/USDT:USDT"], rows["ETH/USDT:USDT"], rows[option]

    mark = venue.fetch_ticker("BTC/USDT:USDT")["markPrice"]
    assert btc["id"] == "main:BTC/USDT:USDT"
    assert (btc["type"], btc["side"], btc["quantity"], btc["mark_price"]) == (
        "perp",
        "long",
        0.4,
        mark,
    )
    assert btc["unrealized_pnl"] == pytest.approx(0.4 * (mark - btc["entry_price"]))
    assert btc["delta"] == 0.4
    assert btc["timestamp"] == AS_OF
    assert (eth["side"], eth["quantity"]) == ("flat", 0.0)
    assert eth["realized_pnl"] < 0  # bought at the ask, sold at the bid
    assert eth["fees"] > 0

    ticker = venue.fetch_ticker(option)
    contract = parse_option_symbol(option)
    expected = greeks(
        float(ticker["info"]["forwardPrice"]),
        contract.strike,
        float(year_fraction(AS_OF, contract.expiry)),
        float(ticker["info"]["markIV"]),
        True,
    )
    assert (call["type"], call["underlying"], call["option_type"]) == ("option", "BTC", "call")
    assert call["strike"] == contract.strike
    assert call["expiry"] == contract.expiry
    assert call["delta"] == pytest.approx(3.0 * float(expected.delta))
    assert 0 < call["delta"] < 3.0
    assert call["vega"] == pytest.approx(3.0 * float(expected.vega_per_vol_point))
    assert call["theta"] == pytest.approx(3.0 * float(expected.theta_per_day))
    assert call["mark_price"] == ticker["markPrice"]

    reader = LakeReader(config.lake_dir)
    try:
        view = reader.query(
            "SELECT id, symbol, type, quantity, entry_price, timestamp FROM positions ORDER BY symbol"
        )
    finally:
        reader.close()
    assert view.columns[:6] == ["id", "symbol", "type", "quantity", "entry_price", "timestamp"]
    assert view.height == 3
