from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from qbtc.lake import read_dataset

BTC = "BTC/USDT:USDT"


@pytest.fixture(scope="module")
def btc_bars(shared_lake) -> pl.DataFrame:
    bars = read_dataset(shared_lake.root, "ohlcv", symbols=[BTC])
    return bars.sort("timestamp")


def test_market_summary_matches_the_bars(client, shared_lake, btc_bars):
    body = client.get(f"/api/market/{BTC}").json()
    day = btc_bars.tail(1440)
    returns = np.diff(np.log(day["close"].to_numpy()))
    assert body["symbol"] == BTC
    assert body["bars_24h"] == 1440
    assert body["open_24h"] == pytest.approx(day["open"][0])
    assert body["high_24h"] == pytest.approx(day["high"].max())
    assert body["low_24h"] == pytest.approx(day["low"].min())
    assert body["close"] == pytest.approx(day["close"][-1])
    assert body["volume_24h"] == pytest.approx(day["volume"].sum())
    assert body["change_24h"] == pytest.approx(day["close"][-1] / day["open"][0] - 1)
    expected_vol = returns.std(ddof=1) * math.sqrt(365 * 1440)
    assert body["realized_vol_24h"] == pytest.approx(expected_vol, rel=1e-9)
    # The ticker at the last bar is the freshest price.
    assert body["last_price"] == 100.0
    assert [body["bid"], body["ask"]] == [99.9, 100.1]
    assert body["funding_rate"] == pytest.approx(0.0001)
    assert body["funding_timestamp"] == "2026-01-06T16:00:00Z"


def test_unknown_symbol_is_404_with_suggestions(client):
    response = client.get("/api/market/BTC/USDC:USDC")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("unknown symbol BTC/USDC:USDC")
    assert "did you mean BTC/USDT:USDT" in response.json()["detail"]


@pytest.mark.parametrize(
    "symbol",
    ["btc/usdt:usdt", "BTCUSDT", "BTC/USDT:USDT-261127-90000-C", "BTC/USDT/ETH", "BTC%20/USDT"],
)
def test_malformed_symbol_is_422_with_an_example(client, symbol):
    response = client.get(f"/api/market/{symbol}")
    assert response.status_code == 422
    assert "such as BTC/USDT:USDT" in response.json()["detail"]


def test_ohlcv_without_since_is_the_last_bars_oldest_first(client, btc_bars):
    body = client.get(f"/api/market/{BTC}/ohlcv", params={"limit": 5}).json()
    assert body["next_since"] is None
    closes = [bar["close"] for bar in body["items"]]
    assert closes == pytest.approx(btc_bars["close"].tail(5).to_list())


def test_ohlcv_pages_from_since_are_contiguous(client, btc_bars):
    since = "2026-01-05T10:00:00Z"
    first = client.get(f"/api/market/{BTC}/ohlcv", params={"since": since, "limit": 3}).json()
    second = client.get(
        f"/api/market/{BTC}/ohlcv", params={"since": first["next_since"], "limit": 3}
    ).json()
    stamps = [bar["timestamp"] for bar in first["items"] + second["items"]]
    assert stamps == [f"2026-01-05T10:0{minute}:00Z" for minute in range(6)]


def test_ohlcv_hour_bars_aggregate_sixty_minutes(client, btc_bars):
    params = {"timeframe": "1h", "since": "2026-01-06T05:00:00Z", "limit": 1}
    bar = client.get(f"/api/market/{BTC}/ohlcv", params=params).json()["items"][0]
    hour = btc_bars.filter(pl.col("timestamp").dt.strftime("%Y-%m-%dT%H") == "2026-01-06T05")
    assert bar["bars"] == 60
    assert bar["open"] == pytest.approx(hour["open"][0])
    assert bar["high"] == pytest.approx(hour["high"].max())
    assert bar["low"] == pytest.approx(hour["low"].min())
    assert bar["close"] == pytest.approx(hour["close"][-1])
    assert bar["volume"] == pytest.approx(hour["volume"].sum())


@pytest.mark.parametrize(
    "params", [{"timeframe": "7m"}, {"limit": 0}, {"limit": 1001}, {"since": "yesterday"}]
)
def test_bad_ohlcv_parameters_are_422(client, params):
    assert client.get(f"/api/market/{BTC}/ohlcv", params=params).status_code == 422


def test_ohlcv_of_unknown_symbol_is_404(client):
    assert client.get("/api/market/ZZZ/USDT:USDT/ohlcv").status_code == 404
