"""Option settlements read back from real venues by reconciliation, through the real ccxt
clients against local stubs (tests/market/deribit_stub.py, tests/market/bybit_stub.py).

Payloads:
- Deribit: the "real example" answers of Deribit's API v2 documentation,
  https://docs.deribit.com/#private-get_settlement_history_by_currency (a ``delivery`` of
  13 BTC of ``BTC-15FEB19-4000-P`` at index 3,566.08 USD, ``mark_price`` 0.121679828 BTC =
  (4000 - 3566.08) / 3566.08) and https://docs.deribit.com/#public-get_last_settlements_by_currency
  (the same session's ``BTC-15FEB19-4000-C``, worthless, in a record of the same shape).
  ccxt has no unified settlement history for Deribit (``fetchMySettlementHistory: False``);
  its implicit API has the endpoint (``privateGetGetSettlementHistoryByCurrency``).
- Bybit: the ``/v5/asset/delivery-record`` example quoted in ccxt's ``bybit.py``
  (``fetch_my_settlement_history``, ts/src/bybit.ts of github.com/ccxt/ccxt): a long 0.01
  ``SOL-27JUN23-20-C`` delivered at 16.62258889 USDC.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, reconcile_book
from qbtc.execution.ledger import Fill
from qbtc.execution.pnl import compute_positions
from qbtc.execution.settlements import fetch_settlements
from qbtc.market import venue_lookups
from qbtc.risk.killswitch import KillSwitch
from tests.market.bybit_stub import BybitVenue, bybit_exchange, running_bybit
from tests.market.deribit_stub import PERP_SYMBOL, DeribitVenue, deribit_exchange, running_deribit

PUT = "BTC/USD:BTC-190215-4000-P"
DERIBIT_DELIVERY = {  # docs: private/get_settlement_history_by_currency
    "type": "delivery",
    "timestamp": 1550242800013,
    "session_profit_loss": 1.567969302,
    "profit_loss": -0.251617338,
    "position": 13,
    "mark_price": 0.121679828,
    "instrument_name": "BTC-15FEB19-4000-P",
    "index_price": 3566.08,
}
DERIBIT_OTHER = {  # docs: public/get_last_settlements_by_currency, an option the book never held
    "type": "delivery",
    "timestamp": 1550242800013,
    "session_profit_loss": 3.135938604,
    "profit_loss": -2.539278115,
    "position": 206,
    "mark_price": 0,
    "instrument_name": "BTC-15FEB19-4000-C",
    "index_price": 3566.08,
}
SOL_CALL = "SOL/USD:USDC-230627-20-C"  # as ccxt lists Bybit's USDC options (quote USD)
BYBIT_DELIVERY = {  # ccxt bybit.py, fetch_my_settlement_history's example
    "symbol": "SOL-27JUN23-20-C",
    "deliveryPrice": "16.62258889",
    "deliveryTime": "1687852800000",
    "side": "Buy",
    "strike": "20",
    "fee": "0.00000000",
    "position": "0.01",
    "deliveryRpl": "3.5",
}


def held(symbol: str, quantity: float, price: float, at: datetime) -> Fill:
    """A fill of the ledger that opened ``quantity`` of ``symbol`` at ``price`` (USD)."""
    return Fill(
        client_order_id=f"opened-{symbol}",
        venue_order_id="v-1",
        portfolio_id="main",
        symbol=symbol,
        timestamp=at,
        side="buy",
        quantity=quantity,
        price=price,
        fee=0.0,
        fee_currency="USD",
        liquidity="venue",
        fill_id=f"fill-{symbol}",
    )


def book(config: ExecutionConfig, symbol: str) -> tuple[float, float]:
    ledger = config.ledger()
    position = compute_positions(ledger.fills(), settlements=ledger.settlements())[symbol]
    return position.quantity, position.realized_pnl


@pytest.fixture
def deribit(config: ExecutionConfig) -> Iterator[tuple[DeribitVenue, Broker, ExecutionConfig]]:
    with running_deribit() as (venue, url):
        venue.settlements += [DERIBIT_DELIVERY, DERIBIT_OTHER]
        yield (
            venue,
            Broker(deribit_exchange(url), paper=False),
            dataclasses.replace(config, symbols=(PERP_SYMBOL,)),
        )


def test_deribit_settles_a_held_option_once_and_closes_its_position(
    deribit: tuple[DeribitVenue, Broker, ExecutionConfig], kill_switch: KillSwitch
) -> None:
    """Without the read-back the ledger would still hold 13 BTC of puts the venue no longer
    has: reconciliation would repair the position with a made-up fill and trip the kill
    switch. With it, the venue's delivery is booked, the position closes at the payoff and
    a second reconciliation books nothing again."""
    venue, broker, config = deribit
    bought = datetime(2019, 2, 1, 9, tzinfo=UTC)
    config.ledger().record([], [held(PUT, 13.0, 0.1 * 3_800.0, bought)])

    report = reconcile_book(broker, config, run_id="after-expiry", kill_switch=kill_switch)

    assert not report.tripped, report.mismatches
    assert not [r for r in report.repairs if r.startswith("position")], report.repairs
    [query] = venue.calls("/api/v2/private/get_settlement_history_by_currency")
    assert (query["currency"], query["type"]) == ("BTC", "delivery")
    [row] = config.ledger().settlements().iter_rows(named=True)
    assert (row["symbol"], row["quantity"], row["delivery_price"]) == (PUT, 13.0, 3566.08)
    payoff = 4000.0 - 3566.08  # USD per BTC, what Deribit paid as 0.121679828 BTC
    assert row["settlement_price"] == pytest.approx(payoff)
    assert row["settlement_price"] == pytest.approx(0.121679828 * 3566.08, abs=1e-4)
    assert (row["fee"], row["fee_currency"]) == (0.0, "USD")
    assert row["timestamp"] == datetime.fromtimestamp(1550242800.013, tz=UTC)
    assert book(config, PUT) == (0.0, pytest.approx(13.0 * (payoff - 380.0)))

    again = reconcile_book(broker, config, run_id="next-cycle", kill_switch=kill_switch)
    assert not again.tripped
    assert config.ledger().settlements().height == 1
    assert len(venue.calls("/api/v2/private/get_settlement_history_by_currency")) == 1


def test_a_settlement_read_twice_is_booked_once(
    deribit: tuple[DeribitVenue, Broker, ExecutionConfig],
) -> None:
    """A re-run that reads the same delivery again (a crash after booking it, before the
    position step) stores it once: its id is the venue's record."""
    _, broker, config = deribit
    ledger = config.ledger()
    for _ in range(2):
        found = fetch_settlements(broker.exchange, [PUT], portfolio_id="main")
        assert [s.settlement_id for s in found] == ["BTC-15FEB19-4000-P:1550242800013"]
        ledger.record_settlements(found)
    assert ledger.settlements().height == 1


def test_deribit_pages_back_until_it_finds_the_delivery(
    deribit: tuple[DeribitVenue, Broker, ExecutionConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    venue, broker, _ = deribit
    later = [
        DERIBIT_OTHER | {"timestamp": 1550242800013 + k * 86_400_000, "instrument_name": name}
        for k, name in enumerate(f"BTC-{d}FEB19-5000-C" for d in range(16, 28))
    ]
    venue.settlements += later  # 12 newer deliveries first, in pages of 5
    monkeypatch.setattr(venue_lookups, "DERIBIT_PAGE_SIZE", 5)
    rows = broker.exchange.fetch_my_settlement_history(PUT)  # type: ignore[attr-defined]
    assert [r["amount"] for r in rows] == [13.0]
    pages = venue.calls("/api/v2/private/get_settlement_history_by_currency")
    assert [p.get("continuation") for p in pages] == [None, "5", "10"]


def test_an_option_the_venue_has_not_settled_yet_stays_held(
    deribit: tuple[DeribitVenue, Broker, ExecutionConfig],
) -> None:
    venue, broker, _ = deribit
    venue.settlements.clear()
    assert fetch_settlements(broker.exchange, [PUT], portfolio_id="main") == []


@pytest.fixture
def bybit(config: ExecutionConfig) -> Iterator[tuple[BybitVenue, Broker, ExecutionConfig]]:
    with running_bybit() as (venue, url):
        venue.deliveries.append(BYBIT_DELIVERY)
        yield (
            venue,
            Broker(bybit_exchange(url), paper=False),
            dataclasses.replace(config, symbols=()),
        )


def test_bybit_settles_a_held_usdc_option_and_closes_its_position(
    bybit: tuple[BybitVenue, Broker, ExecutionConfig], kill_switch: KillSwitch
) -> None:
    """Bybit's delivery record names the expired option by its id; ccxt rebuilds it as
    ``SOL/USDC:USDC-...`` while it was traded as ``SOL/USD:USDC-...``: matched by contract."""
    venue, broker, config = bybit
    config.ledger().record([], [held(SOL_CALL, 0.01, 0.9, datetime(2023, 6, 20, tzinfo=UTC))])

    report = reconcile_book(broker, config, run_id="after-expiry", kill_switch=kill_switch)

    assert not report.tripped, report.mismatches
    [query] = venue.calls("/v5/asset/delivery-record")
    assert query["category"] == "option"
    [row] = config.ledger().settlements().iter_rows(named=True)
    assert (row["symbol"], row["quantity"]) == (SOL_CALL, 0.01)
    assert row["delivery_price"] == pytest.approx(16.62258889)
    assert row["settlement_price"] == 0.0  # a 20 call delivered at 16.62: worthless
    assert (row["fee"], row["fee_currency"]) == (0.0, "USDC")
    assert book(config, SOL_CALL) == (0.0, pytest.approx(-0.01 * 0.9))
    reconcile_book(broker, config, run_id="next-cycle", kill_switch=kill_switch)
    assert config.ledger().settlements().height == 1
    assert len(venue.calls("/v5/asset/delivery-record")) == 1
