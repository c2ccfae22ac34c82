from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import polars as pl
import pytest
from fastapi.testclient import TestClient

from qbtc.api import create_app
from qbtc.lake import read_dataset, write_dataset
from qbtc.pricing import greeks
from tests.api.conftest import make_settings


def test_chain_is_the_latest_snapshot_with_greeks(client, shared_lake):
    body = client.get("/api/options/BTC/chain").json()
    assert body["underlying"] == "BTC"
    assert body["timestamp"] == "2026-01-06T23:59:00Z"
    assert body["greeks"].startswith("qbtc.pricing.greeks")
    quotes = body["quotes"]
    assert len(quotes) == 12  # 2 expiries x 3 strikes x call/put, latest snapshot only
    assert {q["timestamp"] for q in quotes} == {body["timestamp"]}
    assert [q["expiry"] for q in quotes] == sorted(q["expiry"] for q in quotes)
    pairs: dict[tuple[str, float], dict[str, dict]] = defaultdict(dict)
    for quote in quotes:
        pairs[(quote["expiry"], quote["strike"])][quote["option_type"]] = quote
    for pair in pairs.values():
        call, put = pair["call"], pair["put"]
        assert call["delta"] - put["delta"] == pytest.approx(1.0)  # put-call parity
        assert call["gamma"] == pytest.approx(put["gamma"])
        assert call["vega"] == pytest.approx(put["vega"])
        assert call["gamma"] > 0
        assert call["vega"] > 0
        assert call["theta"] < 0  # undiscounted: a long option only loses time value
    atm = pairs[(quotes[0]["expiry"], 100_000.0)]["call"]
    years = (29 * 86400 + 8 * 3600 + 60) / (365 * 86400)
    assert atm["expiry_years"] == pytest.approx(years)
    expected = greeks(100_000.0, 100_000.0, years, 0.5, True)
    # The desk's units (qbtc.units): vega per vol point, theta per calendar day.
    desk = {
        "delta": expected.delta,
        "gamma": expected.gamma,
        "vega": expected.vega / 100,
        "theta": expected.theta / 365,
    }
    for name, value in desk.items():
        assert atm[name] == pytest.approx(float(value), rel=1e-12)
    assert "vega: premium change per vol point" in body["greeks"]
    assert "theta: premium change per calendar day" in body["greeks"]
    assert atm["mark_iv"] == 0.5


def test_inverse_quotes_get_coin_greeks(own_lake, data_dir):
    chain = read_dataset(own_lake.root, "option_quotes").filter(pl.col("option_type") == "call")
    later = chain.with_columns(
        pl.col("timestamp") + timedelta(minutes=1),
        pl.lit("inverse").alias("settlement"),
        pl.lit("deribit").alias("source"),
    )
    write_dataset(own_lake.root, "option_quotes", later)
    with TestClient(create_app(make_settings(data_dir))) as client:
        calls = client.get("/api/options/BTC/chain", params={"option_type": "call"})
    quotes = calls.json()["quotes"]
    assert {q["settlement"] for q in quotes} == {"inverse"}
    quote = quotes[0]
    expected = greeks(
        quote["underlying_price"],
        quote["strike"],
        quote["expiry_years"],
        quote["mark_iv"],
        True,
        settlement="inverse",
    )
    assert quote["delta"] == pytest.approx(float(expected.delta), rel=1e-12)
    assert quote["vega"] == pytest.approx(float(expected.vega_per_vol_point), rel=1e-12)
    assert quote["theta"] == pytest.approx(float(expected.theta_per_day), rel=1e-12)


def test_chain_filters(client):
    calls = client.get("/api/options/BTC/chain", params={"option_type": "put"}).json()["quotes"]
    assert {q["option_type"] for q in calls} == {"put"}
    by_expiry = client.get("/api/options/BTC/chain", params={"expiry": "2026-02-05"}).json()
    assert {q["expiry"][:10] for q in by_expiry["quotes"]} == {"2026-02-05"}
    assert len(by_expiry["quotes"]) == 6


def test_unknown_underlying_is_404_naming_the_known_ones(client):
    response = client.get("/api/options/ETH/chain")
    assert response.status_code == 404
    assert response.json()["detail"] == "no option quotes for underlying ETH; known: BTC"


@pytest.mark.parametrize("path", ["/api/options/btc/chain", "/api/options/B-TC/chain"])
def test_malformed_underlying_is_422(client, path):
    response = client.get(path)
    assert response.status_code == 422
    assert "upper-case coin such as BTC" in response.json()["detail"]


def test_every_greek_field_of_the_api_names_its_unit(client):
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    for model, names in {
        "OptionQuote": ("delta", "gamma", "vega", "theta"),
        "Position": ("delta", "gamma", "vega", "theta"),
        "RiskMetric": ("delta_usd", "gamma_usd", "vega_usd", "theta_usd"),
    }.items():
        fields = spec[model]["properties"]
        for name in names:
            described = fields[name].get("description", "")
            assert "per" in described or "coin" in described, (model, name, described)
    assert "per vol point" in spec["OptionQuote"]["properties"]["vega"]["description"]
    assert "per calendar day" in spec["RiskMetric"]["properties"]["theta_usd"]["description"]
