"""Dry-run: the real ccxt client reads a venue's public data from a local stub and a paper
book fills at its live quotes; no order endpoint of the venue is ever called.

Binance USD-M answers as in tests/market/binance_stub.py (exchangeInfo filters LOT_SIZE and
MIN_NOTIONAL, bookTicker, premiumIndex as Binance documents them); Deribit as in
tests/market/deribit_stub.py (ccxt's example responses).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from qbtc.execution.brokers import Broker, BrokerSettings, open_broker
from qbtc.execution.cycle import ExecutionConfig, reconcile_book, snapshot_positions, submit_intents
from qbtc.market.sim import SimExchange
from qbtc.risk.killswitch import KillSwitch
from tests.execution.conftest import make_intent
from tests.market.binance_stub import BinanceStub
from tests.market.deribit_stub import (
    FORWARD,
    NOW_MS,
    OPTION_SYMBOL,
    PERP_SYMBOL,
    running_deribit,
)

BTC = "BTC/USDT:USDT"


@pytest.fixture
def binance() -> Iterator[BinanceStub]:
    with BinanceStub(SimExchange(seed=7, symbols=(BTC, "ETH/USDT:USDT"))) as stub:
        yield stub


def fast(broker: Broker) -> Broker:
    """ccxt's limiter stays on; Binance's 50 ms per request weight would only slow tests."""
    broker.exchange.venue.client.rateLimit = 1  # type: ignore[attr-defined]
    return broker


def dry_run_settings(
    data_dir: Path, exchange: str, url: str, symbols: tuple[str, ...]
) -> BrokerSettings:
    return BrokerSettings(
        exchange=exchange,
        live=False,
        base_url=url,
        data_dir=data_dir,
        symbols=symbols,
        capital=100_000.0,
        timeout_ms=2_000,
        max_retries=0,
    )


def test_a_dry_run_fills_at_the_venues_quotes_and_sends_nothing(
    binance: BinanceStub, data_dir: Path, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    broker = fast(open_broker(dry_run_settings(data_dir, "binanceusdm", binance.base_url, (BTC,))))
    assert (broker.mode, broker.name, broker.paper) == ("dry-run", "dry-run:binanceusdm", True)
    quote = binance.venue.fetch_ticker(BTC)
    result = submit_intents(
        broker, config, [make_intent(BTC, quantity=0.01)], run_id="dry", kill_switch=kill_switch
    )[0]
    assert (result.action, result.status, result.filled_quantity) == ("submitted", "filled", 0.01)
    assert result.average_price is not None
    assert quote["ask"] <= result.average_price < quote["ask"] * 1.001  # the ask, plus impact
    fill = config.ledger().fills().row(0, named=True)
    assert fill["fee"] == pytest.approx(0.01 * fill["price"] * 0.0005)  # Binance's taker fee
    assert binance.calls("/fapi/v1/order") == []  # nothing reached the venue
    assert binance.calls("/fapi/v1/ticker/bookTicker")  # its live quotes were read
    report = reconcile_book(broker, config, run_id="next", kill_switch=kill_switch)
    assert not report.tripped, report.mismatches
    book = snapshot_positions(broker, config).row(0, named=True)
    assert book["mark_price"] == pytest.approx(quote["markPrice"])


def test_a_dry_run_keeps_the_venues_lot_and_minimum(
    binance: BinanceStub, data_dir: Path, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    broker = fast(open_broker(dry_run_settings(data_dir, "binanceusdm", binance.base_url, (BTC,))))
    off_lot, too_small = (
        make_intent(BTC, quantity=0.0105),
        make_intent(BTC, quantity=0.001, leg="b"),
    )
    results = submit_intents(
        broker, config, [off_lot, too_small], run_id="dry", kill_switch=kill_switch
    )
    assert [r.status for r in results] == ["rejected", "rejected"]
    assert "Precision is over the maximum" in (results[0].reason or "")  # LOT_SIZE 0.001
    assert "notional must be no smaller than 100" in (results[1].reason or "")  # MIN_NOTIONAL
    assert binance.calls("/fapi/v1/order") == []


def test_a_dry_run_account_is_its_own(
    binance: BinanceStub, data_dir: Path, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    settings = dry_run_settings(data_dir, "binanceusdm", binance.base_url, (BTC,))
    first = fast(open_broker(settings))
    submit_intents(
        first, config, [make_intent(BTC, quantity=0.01)], run_id="a", kill_switch=kill_switch
    )
    again = fast(open_broker(settings))  # a later cycle, a new process: the paper account persists
    [position] = again.fetch_positions()
    assert (position["symbol"], position["contracts"]) == (BTC, 0.01)
    assert again.equity().usd == pytest.approx(100_000.0, rel=1e-3)


def test_a_deribit_dry_run_prices_coin_options_in_usd_and_never_calls_private(
    data_dir: Path, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    with running_deribit() as (venue, url):
        broker = fast(open_broker(dry_run_settings(data_dir, "deribit", url, (PERP_SYMBOL,))))
        # the payloads' moment, before the option's expiry (the paper book trades no expired
        # option); ccxt's own clock (its rate limiter) is left alone
        broker.exchange.venue.milliseconds = lambda: NOW_MS  # type: ignore[attr-defined]
        ticker = broker.exchange.fetch_ticker(OPTION_SYMBOL)
        assert ticker["ask"] == pytest.approx(0.219 * FORWARD)  # coin premium, in USD
        intent = dataclasses.replace(
            make_intent(OPTION_SYMBOL, quantity=0.5, leg="call"),
            order_type="limit",
            limit_price=0.219,  # as the chain quotes it: BTC
            notional=0.5 * 0.219 * FORWARD,
        )
        deribit_config = dataclasses.replace(config, symbols=(PERP_SYMBOL,))
        [result] = submit_intents(
            broker, deribit_config, [intent], run_id="dry", kill_switch=kill_switch
        )
        assert result.action == "submitted", result.reason
        assert not [path for path, _ in venue.requests if "/private/" in path]
        # filled at the ask for the size Deribit quotes there (public/ticker's
        # best_ask_amount 9.1; its book summaries quote no sizes)
        events = deribit_config.ledger().events()["event"].to_list()
        assert events[-1] == "filled", events
        [fill] = deribit_config.ledger().fills().iter_rows(named=True)
        assert fill["quantity"] == 0.5
        assert fill["underlying_price"] == FORWARD  # what its USD is worth in BTC at
        at = datetime.fromtimestamp(NOW_MS / 1000, UTC)
        book = snapshot_positions(broker, deribit_config, timestamp=at)
        [row] = book.filter(pl.col("symbol") == OPTION_SYMBOL).iter_rows(named=True)
        assert row["pnl_coin_currency"] == "BTC"
        paid, fee = fill["price"] / FORWARD, fill["fee"] / FORWARD  # 0.219 BTC, its fee in BTC
        assert paid == pytest.approx(0.219)
        assert row["pnl_coin"] == pytest.approx(0.5 * (row["mark_price"] / FORWARD - paid) - fee)
        expiry_ms = 1_727_424_000_000  # 27 Sep 2024 08:00 UTC: settles at Deribit's price
        view = broker.exchange.view  # type: ignore[attr-defined]
        assert view.delivery_price("BTC", expiry_ms) == 65_702.36
        assert venue.calls("/api/v2/public/get_delivery_prices") == [
            {"index_name": "btc_usd", "count": "30"}
        ]
