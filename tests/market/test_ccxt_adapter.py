"""The real ccxt client against a local Binance USD-M stub: data, pagination, every failure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import ccxt
import pytest

from qbtc.lake import write_dataset
from qbtc.lake.validate import check_frame
from qbtc.market import normalize
from qbtc.market.ccxt_adapter import CcxtExchange, create_client, enable_test_environment
from qbtc.market.errors import (
    UnknownSymbolError,
    VenueBannedError,
    VenueError,
    VenueUnavailableError,
)
from qbtc.market.retry import VenueRetryPolicy
from qbtc.market.sim import SimExchange
from qbtc.schemas import FUNDING_RATES, OHLCV, TICKERS
from tests.market.binance_stub import (
    BAN_BODY,
    RATE_LIMIT_BODY,
    SERVER_ERROR_BODY,
    BinanceStub,
    Reply,
    point_client_at,
)
from tests.market.conftest import AS_OF

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
KLINES = "/fapi/v1/klines"
NOW_MS = int(AS_OF.timestamp() * 1000)


class Sleeps(list[float]):
    """Records requested waits instead of sleeping (retries stay instant)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def stub() -> Iterator[BinanceStub]:
    with BinanceStub(SimExchange(seed=7, as_of=AS_OF, symbols=(BTC, ETH))) as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def _adapter(stub: BinanceStub, sleeps: Sleeps, *, timeout_ms: int = 2000) -> CcxtExchange:
    client = create_client("binanceusdm", timeout_ms=timeout_ms)
    assert enable_test_environment(client)
    point_client_at(client, stub.base_url)
    client.rateLimit = 1  # ccxt's limiter stays on; Binance's 50 ms per weight would slow tests
    policy = VenueRetryPolicy(max_retries=3, backoff_base_s=0.001, backoff_cap_s=0.01)
    return CcxtExchange(client, symbols=(BTC, ETH), policy=policy, sandbox=True, sleep=sleeps)


@pytest.fixture
def venue(stub: BinanceStub, sleeps: Sleeps) -> CcxtExchange:
    return _adapter(stub, sleeps)


def test_happy_path_gives_the_same_candles_as_the_venue(
    venue: CcxtExchange, stub: BinanceStub
) -> None:
    markets = venue.load_markets()
    assert markets[BTC]["id"] == "BTCUSDT"
    assert markets[BTC]["linear"]
    since = NOW_MS - 90 * 60_000
    candles = venue.fetch_ohlcv(BTC, "1m", since=since, limit=50)
    assert candles == stub.venue.fetch_ohlcv(BTC, "1m", since=since, limit=50)
    assert stub.calls(KLINES)[-1] == {
        "symbol": "BTCUSDT",
        "interval": "1m",
        "limit": "50",
        "startTime": str(since),
    }


def test_frames_from_binance_match_the_schemas_and_the_venue(
    venue: CcxtExchange, stub: BinanceStub, sleeps: Sleeps
) -> None:
    since = AS_OF - timedelta(hours=5)
    frame = normalize.fetch_ohlcv_frame(venue, ETH, since=since, until=AS_OF)
    check_frame(OHLCV, frame)
    expected = normalize.fetch_ohlcv_frame(stub.venue, ETH, since=since, until=AS_OF)
    assert frame.drop("source").equals(expected.drop("source"))
    assert frame["source"].unique().to_list() == ["binanceusdm-testnet"]  # a test environment

    tickers = normalize.fetch_tickers_frame(venue, [BTC, ETH], now=AS_OF)
    check_frame(TICKERS, tickers)
    reference = normalize.fetch_tickers_frame(stub.venue, [BTC, ETH], now=AS_OF)
    for column in ("bid", "ask", "last", "mark", "index", "volume_24h"):
        assert tickers[column].to_list() == pytest.approx(reference[column].to_list()), column

    funding = normalize.fetch_funding_frame(venue, BTC, since=AS_OF - timedelta(days=2))
    check_frame(FUNDING_RATES, funding)
    sim_funding = normalize.fetch_funding_frame(stub.venue, BTC, since=AS_OF - timedelta(days=2))
    assert funding["funding_rate"].to_list() == sim_funding["funding_rate"].to_list()
    assert funding["mark_price"].to_list() == sim_funding["mark_price"].to_list()
    assert funding["index_price"].null_count() == funding.height  # Binance does not send it
    assert sleeps == []


def test_backfill_paginates_from_the_last_candle(venue: CcxtExchange, stub: BinanceStub) -> None:
    until = AS_OF.replace(second=0)
    since = until - timedelta(minutes=2500)
    frame = normalize.fetch_ohlcv_frame(venue, BTC, since=since, until=until, page_limit=1000)
    assert frame.height == 2500
    starts = [int(q["startTime"]) for q in stub.calls(KLINES)]
    first = normalize.to_ms(since)
    assert starts == [first, first + 1000 * 60_000, first + 2000 * 60_000]
    assert frame["timestamp"].is_sorted()
    assert frame["timestamp"].n_unique() == 2500


def test_rate_limited_then_success_waits_as_retry_after_says(
    venue: CcxtExchange, stub: BinanceStub, sleeps: Sleeps
) -> None:
    stub.fail(KLINES, Reply(429, {"Retry-After": "1"}, RATE_LIMIT_BODY))
    candles = venue.fetch_ohlcv(BTC, limit=10)
    assert len(candles) == 10
    assert sleeps == [1.0]
    assert len(stub.calls(KLINES)) == 2


def test_a_retry_after_beyond_the_limit_stops_at_once(
    venue: CcxtExchange, stub: BinanceStub, sleeps: Sleeps
) -> None:
    stub.fail(KLINES, Reply(429, {"Retry-After": "3600"}, RATE_LIMIT_BODY))
    with pytest.raises(VenueUnavailableError, match="wait 3600 s"):
        venue.fetch_ohlcv(BTC, limit=10)
    assert sleeps == []
    assert len(stub.calls(KLINES)) == 1


def test_a_server_error_then_success_backs_off_once(
    venue: CcxtExchange, stub: BinanceStub, sleeps: Sleeps
) -> None:
    stub.fail(KLINES, Reply(503, body=SERVER_ERROR_BODY))
    assert len(venue.fetch_ohlcv(BTC, limit=3)) == 3
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 0.001


def test_repeated_server_errors_end_in_venue_unavailable(
    venue: CcxtExchange, stub: BinanceStub, sleeps: Sleeps
) -> None:
    stub.fail(KLINES, *[Reply(502, body=SERVER_ERROR_BODY)] * 10)
    with pytest.raises(
        VenueUnavailableError, match=r"after 4 attempt\(s\) \(last error: HTTP 502"
    ) as caught:
        venue.fetch_ohlcv(BTC, limit=3)
    assert "Nothing was written" in str(caught.value)
    assert len(stub.calls(KLINES)) == 4
    assert len(sleeps) == 3
    assert sleeps == sorted(sleeps) or max(sleeps) <= 0.01  # exponential, capped, jittered


def test_a_timeout_is_retried_and_repeated_timeouts_give_up(
    stub: BinanceStub, sleeps: Sleeps
) -> None:
    venue = _adapter(stub, sleeps, timeout_ms=150)
    venue.load_markets()
    stub.fail(KLINES, Reply(200, body=[], delay_s=0.6))
    assert len(venue.fetch_ohlcv(BTC, limit=2)) == 2
    assert len(sleeps) == 1
    stub.fail(KLINES, *[Reply(200, body=[], delay_s=0.6)] * 4)
    with pytest.raises(VenueUnavailableError, match="RequestTimeout"):
        venue.fetch_ohlcv(BTC, limit=2)


def test_an_ip_ban_is_never_retried(venue: CcxtExchange, stub: BinanceStub, sleeps: Sleeps) -> None:
    venue.load_markets()
    stub.fail(KLINES, Reply(418, {"Retry-After": "120"}, BAN_BODY))
    with pytest.raises(VenueBannedError, match="IP address is banned") as caught:
        venue.fetch_ohlcv(BTC, limit=2)
    assert "Stop every process" in str(caught.value)
    assert not isinstance(caught.value, ccxt.NetworkError)
    assert len(stub.calls(KLINES)) == 1
    assert sleeps == []


def test_an_unknown_symbol_lists_close_matches_without_calling_klines(
    venue: CcxtExchange, stub: BinanceStub
) -> None:
    with pytest.raises(UnknownSymbolError, match="did you mean BTC/USDT:USDT"):
        venue.fetch_ohlcv("BTC/USDT", limit=2)
    assert stub.calls(KLINES) == []


def test_configured_symbols_missing_from_the_venue_fail_on_load(
    stub: BinanceStub, sleeps: Sleeps
) -> None:
    venue = _adapter(stub, sleeps)
    venue.symbols = (BTC, "SOL/USDT:USDT")
    with pytest.raises(UnknownSymbolError, match="'SOL/USDT:USDT' on binanceusdm"):
        venue.load_markets()


def test_binance_options_have_no_chain_call_and_say_where_to_go(venue: CcxtExchange) -> None:
    with pytest.raises(ccxt.NotSupported, match="deribit"):
        venue.fetch_option_chain("BTC")


def test_create_opens_the_test_environment_unless_told_otherwise() -> None:
    test = CcxtExchange.create("binanceusdm", timeout_ms=1234, max_retries=2)
    assert test.sandbox
    assert not test.live
    assert test.client.urls["api"]["fapiPublic"].startswith("https://demo-fapi.binance.com")
    assert test.client.timeout == 1234
    assert test.client.enableRateLimit
    assert test.caller.policy.max_retries == 2
    live = CcxtExchange.create("binanceusdm", testnet=False)
    assert live.live
    assert live.client.urls["api"]["fapiPublic"] == "https://fapi.binance.com/fapi/v1"
    deribit = CcxtExchange.create("deribit")
    assert deribit.client.urls["api"]["rest"] == "https://test.deribit.com"


def _trader(stub: BinanceStub, sleeps: Sleeps) -> CcxtExchange:
    client = create_client("binanceusdm", api_key="test-key", secret="test-secret")
    enable_test_environment(client)
    point_client_at(client, stub.base_url)
    client.rateLimit = 1
    policy = VenueRetryPolicy(max_retries=3, backoff_base_s=0.001)
    return CcxtExchange(client, symbols=(BTC,), policy=policy, sandbox=True, sleep=sleeps)


def test_an_order_is_not_resent_after_a_server_error(stub: BinanceStub, sleeps: Sleeps) -> None:
    trader = _trader(stub, sleeps)
    stub.fail("/fapi/v1/order", Reply(503, body=SERVER_ERROR_BODY))
    with pytest.raises(ccxt.OperationFailed, match="-1001"):
        trader.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "qbtc-1"})
    assert len(stub.calls("/fapi/v1/order")) == 1
    assert sleeps == []


def test_an_order_refused_for_rate_limits_is_sent_again(stub: BinanceStub, sleeps: Sleeps) -> None:
    trader = _trader(stub, sleeps)
    stub.fail("/fapi/v1/order", Reply(429, {"Retry-After": "2"}, RATE_LIMIT_BODY))
    order = trader.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "qbtc-2"})
    assert order["clientOrderId"] == "qbtc-2"
    assert order["status"] == "open"
    sent = stub.calls("/fapi/v1/order")
    assert [q["newClientOrderId"] for q in sent] == ["qbtc-2", "qbtc-2"]
    assert sleeps == [2.0]


def test_trading_on_a_live_endpoint_needs_an_explicit_opt_in() -> None:
    venue = CcxtExchange(create_client("binanceusdm"), sandbox=False, live=False)
    with pytest.raises(VenueError, match="QBTC_EXCHANGE_TESTNET=false"):
        venue.create_order(BTC, "market", "buy", 0.001)


def test_an_unknown_exchange_id_suggests_close_ids() -> None:
    with pytest.raises(VenueError, match="binanceusdm"):
        create_client("binanceusdn")


def test_threads_sharing_one_client_keep_the_venue_rate_limit(
    stub: BinanceStub, sleeps: Sleeps
) -> None:
    """ccxt's throttle is not thread-safe: threads read one "last request" time and go out
    together. Requests to one venue are serialised, so they keep ``rateLimit`` apart.

    The times are taken where ccxt hands a request to HTTP (after its throttle), not on
    arrival at the stub, whose clock a busy machine jitters by tens of milliseconds."""
    venue = _adapter(stub, sleeps)
    venue.load_markets()
    venue.client.rateLimit = 60  # ms per unit of cost; a 10-candle klines request costs 1
    sent: list[float] = []
    fetch = venue.client.fetch

    def timed_fetch(url: str, *args: object, **kwargs: object) -> object:
        if "klines" in url:
            sent.append(time.monotonic())
        return fetch(url, *args, **kwargs)

    venue.client.fetch = timed_fetch
    since = NOW_MS - 600 * 60_000
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda i: venue.fetch_ohlcv(BTC, "1m", since + i * 60_000, 10), range(6)))
    assert len(sent) == 6
    assert len([path for path, _ in stub.arrivals if path == KLINES]) == 6
    gaps = [later - earlier for earlier, later in pairwise(sorted(sent))]
    assert min(gaps) >= 0.05, gaps


def test_rows_from_a_real_venue_are_not_mixed_with_stored_testnet_rows(
    venue: CcxtExchange, tmp_path: Path
) -> None:
    from qbtc.market.ingest import check_source

    since = AS_OF - timedelta(minutes=30)
    frame = normalize.fetch_ohlcv_frame(venue, BTC, since=since, until=AS_OF)
    write_dataset(tmp_path, OHLCV, frame)
    check_source(tmp_path, [BTC], "binanceusdm-testnet")  # more of the same: fine
    with pytest.raises(ValueError, match=r"already holds testnet bars \(binanceusdm-testnet\)"):
        check_source(tmp_path, [BTC], "binanceusdm")
    check_source(tmp_path, [ETH], "binanceusdm")  # no stored ETH bars
