"""The simulated venue's trading side: fills, fees, funding, partial fills, its own book."""

from __future__ import annotations

import json
import math
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ccxt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.lake import LakeReader, read_dataset
from qbtc.market.sim import SimExchange
from qbtc.market.sim.matching import FUNDING_INTERVAL_MS, execution_price
from qbtc.market.sim.trading import SimTrading

SYMBOL = "BTC/USDT:USDT"
T0 = int(datetime(2026, 1, 5, 12, tzinfo=UTC).timestamp() * 1000)
SIGMA = math.sqrt(365.0) * 0.01  # one percent a day
QUOTE_VOLUME = 14_400_000.0  # 10,000 USDT a minute; an order may take 1,000 a minute


class FakeMarket:
    """A market view with prices and a clock the test sets (the seam's MarketView)."""

    id = "binanceusdm"

    def __init__(self) -> None:
        self.now = T0
        self.bid, self.ask = 100.0, 101.0
        self.funding: dict[int, tuple[float, float]] = {}

    def milliseconds(self) -> int:
        return self.now

    def load_markets(self, reload: bool = False) -> dict[str, dict[str, Any]]:
        return {SYMBOL: self.market(SYMBOL)}

    def market(self, symbol: str) -> dict[str, Any]:
        return {"symbol": symbol}  # no lots, ticks or minimums: the venue rules let all pass

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        mid = (self.bid + self.ask) / 2
        return {
            "symbol": symbol,
            "bid": self.bid,
            "ask": self.ask,
            "last": mid,
            "markPrice": mid,
            "quoteVolume": QUOTE_VOLUME,
            "info": {"volatility": SIGMA},
        }

    def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        rate, mark = self.funding.get(since or 0, (0.0, 0.0))
        return [{"timestamp": since, "fundingRate": rate, "info": {"markPrice": str(mark)}}]


@pytest.fixture
def market() -> FakeMarket:
    return FakeMarket()


def open_trading(data_dir: Path, market: FakeMarket) -> SimTrading:
    trading = SimTrading(data_dir)
    trading.attach(market)
    return trading


@pytest.fixture
def trading(data_dir: Path, market: FakeMarket) -> SimTrading:
    return open_trading(data_dir, market)


def buy(trading: SimTrading, amount: float, cid: str, **params: Any) -> dict[str, Any]:
    return trading.create_order(
        SYMBOL, "market", "buy", amount, None, {"clientOrderId": cid, **params}
    )


def test_a_market_buy_fills_above_the_ask_by_the_square_root_impact(trading: SimTrading) -> None:
    order = buy(trading, 5.0, "a")
    slip = 0.7 * 0.01 * math.sqrt(5.0 * 101.0 / QUOTE_VOLUME)
    assert order["status"] == "closed"
    assert order["average"] == pytest.approx(101.0 * (1 + slip), rel=1e-12)
    assert order["fee"]["cost"] == pytest.approx(5.0 * order["average"] * 0.0005, rel=1e-12)
    sell = trading.create_order(SYMBOL, "market", "sell", 2.0, None, {"clientOrderId": "b"})
    assert sell["average"] < 100.0


@given(
    st.floats(min_value=1.0, max_value=1e7),
    st.floats(min_value=1.0, max_value=1e7),
    st.floats(min_value=0.05, max_value=3.0),
    st.floats(min_value=0.05, max_value=3.0),
)
def test_slippage_grows_with_size_and_volatility(
    small: float, large: float, calm: float, wild: float
) -> None:
    small, large = sorted((small, large))
    calm, wild = sorted((calm, wild))

    def price(side: str, notional: float, vol: float) -> float:
        return execution_price(
            side, 100.0, 101.0, notional, volatility=vol, quote_volume=1e8, impact=0.7
        )

    assert (
        101.0 <= price("buy", small, calm) <= price("buy", large, calm) <= price("buy", large, wild)
    )
    assert (
        100.0
        >= price("sell", small, calm)
        >= price("sell", large, calm)
        >= price("sell", large, wild)
    )


def test_a_large_order_fills_partially_then_as_the_clock_advances(
    trading: SimTrading, market: FakeMarket
) -> None:
    order = buy(trading, 20.0, "big")
    per_minute = 1_000.0 / 101.0
    assert order["status"] == "open"
    assert order["filled"] == pytest.approx(per_minute)
    assert [o["clientOrderId"] for o in trading.fetch_open_orders()] == ["big"]
    market.now += 60_000
    assert trading.fetch_order("", SYMBOL, {"clientOrderId": "big"})["filled"] == pytest.approx(
        2 * per_minute
    )
    market.now += 60_000
    done = trading.fetch_order("", SYMBOL, {"clientOrderId": "big"})
    assert (done["status"], done["filled"], done["remaining"]) == ("closed", 20.0, 0.0)
    assert trading.fetch_open_orders() == []


def test_a_resting_limit_order_fills_at_its_price_as_a_maker(
    trading: SimTrading, market: FakeMarket
) -> None:
    order = trading.create_order(SYMBOL, "limit", "buy", 3.0, 99.0, {"clientOrderId": "lim"})
    assert (order["status"], order["filled"]) == ("open", 0.0)
    market.now += 60_000
    assert trading.fetch_order("", SYMBOL, {"clientOrderId": "lim"})["filled"] == 0.0
    market.bid, market.ask = 97.5, 98.0
    market.now += 60_000
    filled = trading.fetch_order("", SYMBOL, {"clientOrderId": "lim"})
    assert (filled["status"], filled["average"]) == ("closed", 99.0)
    assert filled["fee"]["cost"] == pytest.approx(3.0 * 99.0 * 0.0002)


def test_a_marketable_limit_order_fills_at_once_as_a_taker(trading: SimTrading) -> None:
    order = trading.create_order(SYMBOL, "limit", "buy", 1.0, 102.0, {"clientOrderId": "x"})
    assert order["status"] == "closed"
    assert 101.0 < order["average"] < 102.0
    assert order["fee"]["cost"] == pytest.approx(order["average"] * 0.0005)


def test_funding_settles_every_eight_hours_on_the_open_position(
    trading: SimTrading, market: FakeMarket
) -> None:
    buy(trading, 5.0, "a")
    wallet = trading.fetch_balance()["info"]["walletBalance"]
    first = T0 - T0 % FUNDING_INTERVAL_MS + FUNDING_INTERVAL_MS
    market.funding = {first: (0.0001, 100.0), first + FUNDING_INTERVAL_MS: (-0.0002, 110.0)}
    market.now = first + FUNDING_INTERVAL_MS + 1
    balance = trading.fetch_balance()
    paid = -5.0 * 100.0 * 0.0001 + 5.0 * 110.0 * 0.0002
    assert balance["info"]["walletBalance"] == pytest.approx(wallet + paid)
    assert trading.fetch_positions()[0]["info"]["funding"] == pytest.approx(paid)


def test_positions_and_balance_have_ccxt_shapes(trading: SimTrading) -> None:
    buy(trading, 5.0, "a")
    trading.create_order(SYMBOL, "market", "sell", 7.0, None, {"clientOrderId": "b"})
    (position,) = trading.fetch_positions()
    assert (position["side"], position["contracts"]) == ("short", pytest.approx(2.0))
    assert position["unrealizedPnl"] == pytest.approx(-2.0 * (100.5 - position["entryPrice"]))
    balance = trading.fetch_balance()
    assert balance["total"]["USDT"] == pytest.approx(
        balance["info"]["walletBalance"] + position["unrealizedPnl"]
    )
    assert balance["USDT"]["used"] == pytest.approx(2.0 * 100.5 / 20.0)


def test_a_reused_client_order_id_is_refused_like_binance(trading: SimTrading) -> None:
    buy(trading, 1.0, "dup")
    with pytest.raises(ccxt.InvalidOrder, match="-4116") as caught:
        buy(trading, 1.0, "dup")
    assert isinstance(caught.value, ccxt.DuplicateOrderId)


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        (
            lambda t: t.create_order(SYMBOL, "market", "sell", 1.0, None, {"reduceOnly": True}),
            ccxt.InvalidOrder,
            "-2022",
        ),
        (
            lambda t: t.create_order(SYMBOL, "market", "buy", 1e6, None, {}),
            ccxt.InsufficientFunds,
            "-2019",
        ),
        (
            lambda t: t.create_order(SYMBOL, "market", "buy", -1.0, None, {}),
            ccxt.InvalidOrder,
            "-4003",
        ),
        (
            lambda t: t.create_order(SYMBOL, "limit", "buy", 1.0, None, {}),
            ccxt.BadRequest,
            "-1102",
        ),
        (
            lambda t: t.fetch_order("", SYMBOL, {"clientOrderId": "nope"}),
            ccxt.OrderNotFound,
            "-2013",
        ),
        (lambda t: t.cancel_order("123", SYMBOL), ccxt.OrderNotFound, "-2013"),
    ],
)
def test_bad_requests_are_refused_with_binance_codes(
    trading: SimTrading, call: Any, error: type[Exception], code: str
) -> None:
    with pytest.raises(error, match=code):
        call(trading)


def test_a_reduce_only_order_may_close_but_not_flip(trading: SimTrading) -> None:
    buy(trading, 2.0, "a")
    with pytest.raises(ccxt.InvalidOrder, match="-2022"):
        trading.create_order(SYMBOL, "market", "sell", 3.0, None, {"reduceOnly": "true"})
    closed = trading.create_order(SYMBOL, "market", "sell", 2.0, None, {"reduceOnly": True})
    assert closed["reduceOnly"] is True
    assert trading.fetch_positions() == []


def test_cancel_leaves_the_filled_part(trading: SimTrading) -> None:
    order = buy(trading, 20.0, "big")
    cancelled = trading.cancel_order(order["id"], SYMBOL)
    assert cancelled["status"] == "canceled"
    assert cancelled["filled"] == pytest.approx(order["filled"])


def test_the_venue_keeps_its_own_book_across_restarts(
    data_dir: Path, market: FakeMarket, trading: SimTrading
) -> None:
    buy(trading, 1.0, "old")
    market.now += 8 * 86_400_000  # a week later the order has left the account file
    buy(trading, 1.0, "new")
    # Placements publish the book lazily (one write per burst); any other call publishes.
    assert not (data_dir / "lake" / "sim_venue_orders").exists()
    trading.publish()
    restarted = open_trading(data_dir, market)
    assert "old" not in (data_dir / "venue" / "account.json").read_text()
    with pytest.raises(ccxt.DuplicateOrderId):
        buy(restarted, 1.0, "old")
    assert restarted.fetch_order("", SYMBOL, {"clientOrderId": "old"})["status"] == "closed"
    assert restarted.fetch_positions()[0]["contracts"] == pytest.approx(2.0)
    book = read_dataset(data_dir / "lake", "sim_venue_orders").sort("order_id")
    assert book["client_order_id"].to_list() == ["old", "new"]
    reader = LakeReader(data_dir / "lake")
    try:
        view = reader.query(
            "SELECT client_order_id, status, filled FROM sim_venue_orders ORDER BY 1"
        )
    finally:
        reader.close()
    assert view.rows() == [("new", "closed", 1.0), ("old", "closed", 1.0)]


def test_two_threads_sending_the_same_client_order_id_make_one_order(
    data_dir: Path, market: FakeMarket
) -> None:
    outcomes: list[str] = []

    def send() -> None:
        venue = open_trading(data_dir, market)
        try:
            buy(venue, 1.0, "race")
            outcomes.append("ok")
        except ccxt.DuplicateOrderId:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["duplicate", "duplicate", "duplicate", "ok"]
    open_trading(data_dir, market).publish()
    assert read_dataset(data_dir / "lake", "sim_venue_orders").height == 1


def test_the_simulated_exchange_delegates_trading_to_it(data_dir: Path) -> None:
    as_of = datetime(2026, 1, 5, 12, tzinfo=UTC)
    venue = SimExchange(seed=7, as_of=as_of, trading=SimTrading(data_dir))
    ticker = venue.fetch_ticker("ETH/USDT:USDT")
    order = venue.create_order("ETH/USDT:USDT", "market", "buy", 1.0, None, {"clientOrderId": "q1"})
    assert ticker["ask"] < order["average"] < ticker["ask"] * 1.001
    assert order["timestamp"] == int(as_of.timestamp() * 1000)
    venue.set_clock(as_of + timedelta(hours=9))  # one funding settlement later
    position = venue.fetch_positions()[0]
    assert position["info"]["funding"] != 0.0
    assert position["markPrice"] == venue.fetch_ticker("ETH/USDT:USDT")["markPrice"]


# -- venue rules: the simulated venue refuses what Binance refuses --------------------------------


@pytest.fixture
def sim(data_dir: Path) -> SimExchange:
    as_of = datetime(2026, 1, 5, 12, tzinfo=UTC)
    return SimExchange(
        seed=7, as_of=as_of, symbols=(SYMBOL, "ADA/USDT:USDT"), trading=SimTrading(data_dir)
    )


@pytest.mark.parametrize(
    ("symbol", "kind", "amount", "price", "params", "error", "message"),
    [
        # the unrounded ADA quantity the planner used to send (lot: 1 ADA)
        ("ADA/USDT:USDT", "market", 65815.293856, None, {}, ccxt.BadRequest, '"code":-1111'),
        (SYMBOL, "market", 0.0015, None, {}, ccxt.BadRequest, "Precision is over the maximum"),
        (SYMBOL, "limit", 0.01, 90_000.05, {}, ccxt.BadRequest, '"code":-4014'),
        (
            SYMBOL,
            "market",
            0.001,
            None,
            {},
            ccxt.InvalidOrder,
            "notional must be no smaller than 100 \\(unless you choose reduce only\\)",
        ),
    ],
)
def test_orders_off_the_grid_or_below_the_minimum_are_refused(
    sim: SimExchange,
    symbol: str,
    kind: str,
    amount: float,
    price: float | None,
    params: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        sim.create_order(symbol, kind, "buy", amount, price, {"clientOrderId": "x", **params})
    assert sim.fetch_open_orders() == []
    assert sim.fetch_positions() == []


def test_a_reduce_only_order_below_the_minimum_notional_is_accepted(sim: SimExchange) -> None:
    sim.create_order(SYMBOL, "market", "buy", 0.002, None, {"clientOrderId": "open"})
    closed = sim.create_order(
        SYMBOL, "market", "sell", 0.001, None, {"clientOrderId": "close", "reduceOnly": True}
    )
    assert closed["status"] == "closed"
    assert sim.fetch_positions()[0]["contracts"] == pytest.approx(0.001)


def test_an_option_below_its_lot_is_refused(sim: SimExchange) -> None:
    option = next(s for s in sim.load_markets() if s.startswith("BTC/USDT:USDT-"))
    with pytest.raises(ccxt.BadRequest, match="-1111"):
        sim.create_order(option, "limit", "buy", 0.015, 100.0, {"clientOrderId": "o"})


def test_a_lost_account_file_is_refused_not_replaced_by_a_fresh_account(
    data_dir: Path, market: FakeMarket
) -> None:
    from qbtc.market.errors import VenueStateError

    trading = open_trading(data_dir, market)
    buy(trading, 1.0, "first")
    trading.publish()
    (data_dir / "venue" / "account.json").unlink()
    again = open_trading(data_dir, market)
    for call in (again.fetch_positions, again.fetch_balance, lambda: buy(again, 1.0, "second")):
        with pytest.raises(VenueStateError, match=r"account .*account.json is missing"):
            call()
    assert not (data_dir / "venue" / "account.json").exists()


def test_a_malformed_account_file_names_itself(data_dir: Path, market: FakeMarket) -> None:
    from qbtc.market.errors import VenueStateError

    trading = open_trading(data_dir, market)
    buy(trading, 1.0, "first")
    path = data_dir / "venue" / "account.json"
    path.write_text('{"balance": "lots", "positions": []}')
    with pytest.raises(VenueStateError, match=r"account\.json is unreadable"):
        open_trading(data_dir, market).fetch_positions()


def test_a_venue_that_never_traded_starts_a_fresh_account(data_dir: Path, market: FakeMarket):
    assert open_trading(data_dir, market).fetch_positions() == []


def test_an_account_saved_before_options_settled_still_reads(
    data_dir: Path, market: FakeMarket
) -> None:
    trading = open_trading(data_dir, market)
    buy(trading, 1.0, "before")
    path = data_dir / "venue" / "account.json"
    old = json.loads(path.read_text())
    del old["settlements"]
    path.write_text(json.dumps(old))
    again = open_trading(data_dir, market)
    assert again.fetch_positions()[0]["contracts"] == 1.0
    assert again.fetch_my_settlement_history() == []


def test_a_partial_fill_is_a_whole_number_of_lots(sim: SimExchange) -> None:
    order = sim.create_order("ADA/USDT:USDT", "market", "buy", 200_000.0, None, {})
    assert order["status"] == "open"
    assert 0 < order["filled"] < 200_000.0
    assert order["filled"] == int(order["filled"])  # ADA's lot is one coin


def test_the_account_keeps_a_bounded_number_of_closed_orders(
    data_dir: Path, market: FakeMarket
) -> None:
    from qbtc.market.sim.venue_store import KEEP_CLOSED_ORDERS

    trading = open_trading(data_dir, market)
    for n in range(KEEP_CLOSED_ORDERS + 30):
        buy(trading, 0.01, f"burst-{n}")
    trading.publish()
    account = json.loads((data_dir / "venue" / "account.json").read_text())
    assert len(account["orders"]) == KEEP_CLOSED_ORDERS


def test_an_order_the_account_forgot_is_still_found_and_its_id_still_refused(
    data_dir: Path, market: FakeMarket
) -> None:
    trading = open_trading(data_dir, market)
    first = buy(trading, 1.0, "old-order")
    market.now += 2 * 3_600_000  # two hours on: the account forgets the closed order
    buy(trading, 1.0, "later")
    trading.publish()
    account = json.loads((data_dir / "venue" / "account.json").read_text())
    assert first["id"] not in account["orders"]
    again = open_trading(data_dir, market)
    found = again.fetch_order("", SYMBOL, {"clientOrderId": "old-order"})
    assert (found["id"], found["status"], found["filled"]) == (first["id"], "closed", 1.0)
    with pytest.raises(ccxt.DuplicateOrderId):
        buy(again, 1.0, "old-order")


def test_the_single_client_id_file_of_earlier_versions_is_moved_into_the_index(
    data_dir: Path, market: FakeMarket
) -> None:
    trading = open_trading(data_dir, market)
    buy(trading, 1.0, "kept")
    trading.publish()
    venue = data_dir / "venue"
    (venue / "client_ids.txt").write_text("legacy-1\nlegacy-2\nlegacy-")  # torn last line
    market.now += 2 * 3_600_000
    again = open_trading(data_dir, market)
    assert again.fetch_positions()[0]["contracts"] == 1.0
    assert not (venue / "client_ids.txt").exists()
    assert "legacy-1" in again.store.ids
    assert "legacy-2" in again.store.ids
    assert "legacy-" not in again.store.ids


def test_a_venue_sees_the_account_another_process_wrote(data_dir: Path, market: FakeMarket):
    """Each call re-reads an account file another process changed (the unchanged file is
    not parsed again, a changed one always is)."""
    first, second = open_trading(data_dir, market), open_trading(data_dir, market)
    buy(first, 1.0, "a")
    assert second.fetch_positions()[0]["contracts"] == pytest.approx(1.0)
    buy(second, 2.0, "b")
    assert first.fetch_positions()[0]["contracts"] == pytest.approx(3.0)
    path = data_dir / "venue" / "account.json"
    path.write_text('{"balance": "lots", "positions": []}')
    from qbtc.market.errors import VenueStateError

    with pytest.raises(VenueStateError, match=r"account\.json is unreadable"):
        first.fetch_positions()


def test_a_call_that_fails_leaves_no_unsaved_change_behind(
    data_dir: Path, market: FakeMarket, trading: SimTrading
) -> None:
    buy(trading, 1.0, "a")

    def fail_after_a_change() -> None:
        with trading.store.locked() as account:
            account.balance += 1e6
            raise RuntimeError("the call failed before saving")

    with pytest.raises(RuntimeError):
        fail_after_a_change()
    assert trading.fetch_balance()["info"]["walletBalance"] < 1e6
