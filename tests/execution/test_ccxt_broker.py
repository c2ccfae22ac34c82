"""The live path: the real ccxt binanceusdm client against a local Binance stub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, reconcile_book, submit_intents
from qbtc.execution.submit import SubmissionResult
from qbtc.market.ccxt_adapter import CcxtExchange
from qbtc.market.retry import VenueRetryPolicy
from qbtc.risk.killswitch import KillSwitch
from tests.execution.binance_stub import StubVenue, binance_client, running_stub
from tests.execution.conftest import make_intent


@pytest.fixture
def stub() -> Iterator[tuple[StubVenue, Broker]]:
    """The production path: qbtc's CcxtExchange around the real client, retries instant."""
    with running_stub() as (venue, url):
        exchange = CcxtExchange(
            binance_client(url, timeout_ms=1_000),
            symbols=("BTC/USDT:USDT",),
            policy=VenueRetryPolicy(max_retries=1, backoff_base_s=0.0),
            sandbox=True,
            sleep=lambda seconds: None,
        )
        yield venue, Broker(exchange, paper=False)


def submit(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch, **kwargs: object
) -> SubmissionResult:
    intent = make_intent(quantity=0.01, **kwargs)  # type: ignore[arg-type]
    return submit_intents(broker, config, [intent], run_id="live", kill_switch=kill_switch)[0]


def posts(venue: StubVenue) -> int:
    return sum(1 for method, path in venue.requests if (method, path) == ("POST", "/fapi/v1/order"))


def test_an_acknowledged_order_is_open_with_its_venue_id(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = stub
    venue.script.append("ack")
    result = submit(broker, config, kill_switch)
    assert (result.action, result.status, result.filled_quantity) == ("submitted", "open", 0.0)
    sent = venue.orders[result.client_order_id]
    assert result.venue_order_id == str(sent["orderId"])
    assert broker.name == "ccxt:binanceusdm"


def test_a_reduce_only_intent_is_sent_reduce_only(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = stub
    result = submit(broker, config, kill_switch, side="sell", reduce_only=True)
    assert venue.orders[result.client_order_id]["reduceOnly"] is True


def test_a_filled_order_gets_a_fill_with_an_estimated_taker_fee(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    _, broker = stub
    result = submit(broker, config, kill_switch)
    assert result.status == "filled"
    fill = config.ledger().fills().row(0, named=True)
    assert (fill["quantity"], fill["price"]) == (0.01, 50_000.0)
    assert fill["fee"] == pytest.approx(0.01 * 50_000.0 * 0.0005)
    assert fill["liquidity"] == "taker"


def test_a_partial_fill_is_recorded_as_such(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = stub
    venue.script.append("partial")
    result = submit(broker, config, kill_switch)
    assert (result.status, result.filled_quantity) == ("open", 0.005)
    events = config.ledger().events()["event"].to_list()
    assert events[-1] == "partially_filled"


def test_a_rejection_is_recorded_with_the_venue_code(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = stub
    venue.script.append("reject")
    result = submit(broker, config, kill_switch)
    assert result.status == "rejected"
    assert "-2019" in (result.reason or "")
    assert config.circuit().state().consecutive_errors == 0


def test_a_duplicate_id_rejection_is_reconciled_not_failed(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = stub
    first = submit(broker, config, kill_switch)
    # A second process with an empty ledger; the venue's look-up lags behind its book.
    other = ExecutionConfig(
        config.lake_dir.parent / "other-lake", config.state_dir, symbols=config.symbols
    )
    venue.lagging_lookups = 1
    again = submit(broker, other, kill_switch)
    assert again.client_order_id == first.client_order_id
    assert (again.action, again.status) == ("found", "filled")
    assert "-4116" in (again.reason or "")
    assert len(venue.orders) == 1
    assert posts(venue) == 2


def test_a_5xx_is_resolved_by_fetching_and_a_rerun_sends_the_order_once(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = stub
    venue.script.append("5xx")
    result = submit(broker, config, kill_switch)
    assert (result.action, result.status) == ("unknown", "submitted")
    assert "no such order" in (result.reason or "")
    assert config.circuit().state().consecutive_errors == 0  # the fetch answered: venue is up
    rerun = submit(broker, config, kill_switch)
    assert (rerun.action, rerun.status) == ("submitted", "filled")
    assert len(venue.orders) == 1
    assert posts(venue) == 2


def test_a_timeout_after_the_venue_accepted_is_resolved_by_fetching(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = stub
    venue.script.append("timeout")
    venue.delay_s = 1.5
    result = submit(broker, config, kill_switch)
    assert (result.action, result.status) == ("found", "filled")
    assert posts(venue) == 1
    assert len(venue.orders) == 1
    assert config.ledger().fills().height == 1


def test_a_418_opens_the_circuit_and_nothing_more_is_sent(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = stub
    venue.script.append("418")
    intents = [make_intent(quantity=0.01, leg="a"), make_intent(quantity=0.01, leg="b")]
    results = submit_intents(broker, config, intents, run_id="live", kill_switch=kill_switch)
    assert [r.action for r in results] == ["unknown", "blocked"]
    assert "418" in (config.circuit().state().reason or "")
    assert posts(venue) == 1
    assert not venue.orders


def test_reconciliation_reads_binance_positions_and_balance(
    stub: tuple[StubVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = stub
    btc_only = ExecutionConfig(config.lake_dir, config.state_dir, symbols=("BTC/USDT:USDT",))
    submit(broker, btc_only, kill_switch)
    report = reconcile_book(broker, btc_only, run_id="rc", kill_switch=kill_switch)
    assert not report.tripped
    assert report.repairs == ()
    assert ("GET", "/fapi/v3/positionRisk") in venue.requests
    assert ("GET", "/fapi/v3/account") in venue.requests


def test_equity_counts_usdc_margin_beside_usdt(stub: tuple[StubVenue, Broker]) -> None:
    """Binance USD-M in Multi-Assets mode reports each margin asset in ``/fapi/v3/account``
    (https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Account-Information-V3)."""
    venue, broker = stub
    venue.usdc = 2_500.0
    equity = broker.equity()
    assert equity.usd == pytest.approx(12_500.0)
    assert set(equity.holdings) == {"USDT", "USDC"}
