"""Opening brokers: paper on the simulator, dry-run on a real venue without --live, and with
--live the venue's testnet unless QBTC_EXCHANGE_TESTNET=false, keys required."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbtc.execution.brokers import BrokerConfigError, BrokerSettings, open_broker
from qbtc.execution.intents import OrderIntent
from qbtc.market.ccxt_adapter import CcxtExchange
from tests.execution.conftest import make_intent


def test_the_simulator_gives_a_paper_broker_with_its_own_venue(data_dir: Path) -> None:
    broker = open_broker(BrokerSettings(data_dir=data_dir, symbols=("BTC/USDT:USDT",)))
    assert (broker.paper, broker.name) == (True, "paper:sim")
    assert broker.exchange.fetch_balance()["total"]["USDT"] == 1_000_000.0
    assert (data_dir / "venue").is_dir()


def test_live_needs_a_real_venue(data_dir: Path) -> None:
    with pytest.raises(BrokerConfigError, match="QBTC_EXCHANGE to a ccxt venue"):
        open_broker(BrokerSettings(data_dir=data_dir, live=True))


@pytest.mark.parametrize("testnet", [True, False])
def test_sending_orders_to_a_ccxt_venue_needs_keys(testnet: bool) -> None:
    with pytest.raises(BrokerConfigError, match="QBTC_EXCHANGE_API_KEY") as caught:
        open_broker(BrokerSettings(exchange="binanceusdm", live=True, testnet=testnet))
    assert ("testnet keys" in str(caught.value)) is testnet
    assert "without --live a run is a dry-run and needs no keys" in str(caught.value)


def test_live_orders_go_to_the_test_environment_unless_it_is_turned_off() -> None:
    keys = {"api_key": "k", "api_secret": "s", "symbols": ("BTC/USDT:USDT",)}
    testnet = open_broker(BrokerSettings(exchange="binanceusdm", live=True, **keys))  # type: ignore[arg-type]
    assert isinstance(testnet.exchange, CcxtExchange)
    assert (testnet.paper, testnet.exchange.sandbox, testnet.mode) == (False, True, "testnet")
    real = open_broker(
        BrokerSettings(exchange="binanceusdm", live=True, testnet=False, **keys)  # type: ignore[arg-type]
    )
    assert (real.exchange.sandbox, real.exchange.live, real.mode) == (False, True, "live")  # type: ignore[attr-defined]


def test_orders_carry_the_client_id_and_reduce_only(data_dir: Path) -> None:
    broker = open_broker(BrokerSettings(data_dir=data_dir))
    closing: OrderIntent = make_intent(side="sell", reduce_only=True)
    assert broker.order_params(closing) == {
        "clientOrderId": closing.client_order_id,
        "reduceOnly": True,
    }
    assert "reduceOnly" not in broker.order_params(make_intent())
