"""The dashboard's endpoints: equity/PnL series, exposures, stress, alerts and the desk."""

from __future__ import annotations

import json

import polars as pl
import pytest
from fastapi.testclient import TestClient

from qbtc.api import create_app
from qbtc.api.routers.series import thin
from tests.api.conftest import make_settings
from tests.api.lakedata import END, build_lake


def test_pnl_sums_the_latest_snapshot_of_every_position_at_each_time(client):
    body = client.get("/api/pnl").json()
    assert body["capital"] == 1_000_000.0
    assert body["max_drawdown"] == 0.15
    # Risk rows at the last 5 minutes, position snapshots at the last two.
    assert [t[11:16] for t in body["timestamp"]] == ["23:55", "23:56", "23:57", "23:58", "23:59"]
    assert body["total_points"] == 5
    assert (body["realized_pnl"][0], body["total_pnl"][0]) == (0.0, 0.0)
    # Three positions: realised 5, fees 1, funding -0.5 each; unrealised q * p * 1%.
    assert body["realized_pnl"][-1] == pytest.approx(15.0)
    assert body["fees"][-1] == pytest.approx(3.0)
    assert body["funding"][-1] == pytest.approx(-1.5)
    assert body["unrealized_pnl"][-1] == pytest.approx(1.0 - 4.0 + 9.0)
    assert body["total_pnl"][-1] == pytest.approx(15.0 + 6.0 - 3.0 - 1.5)
    assert body["equity"][-1] == 1_010_000.0
    assert body["drawdown"][-1] == 0.03


def test_pnl_counts_a_position_once_however_many_snapshots_it_has(client):
    realized = client.get("/api/pnl").json()["realized_pnl"]
    assert realized[-2] == realized[-1] == pytest.approx(15.0)


def test_pnl_window_and_thinning(client):
    two = client.get("/api/pnl", params={"max_points": 2}).json()
    assert [t[11:16] for t in two["timestamp"]] == ["23:56", "23:59"]
    assert len(two["equity"]) == len(two["total_pnl"]) == 2
    assert two["total_points"] == 5
    since = client.get("/api/pnl", params={"since": "2026-01-06T23:58:00Z"}).json()
    assert len(since["timestamp"]) == 2
    assert client.get("/api/pnl", params={"window": "2d"}).status_code == 422
    assert client.get("/api/pnl", params={"max_points": 1}).status_code == 422


def test_risk_series_has_var_before_and_after_orders(client):
    body = client.get("/api/risk/series", params={"method": "historical"}).json()
    assert body["var_limit"] == 100_000.0
    assert len(body["timestamp"]) == body["total_points"] == 5
    assert body["var_book"] == [12_000.0] * 5
    assert body["cvar_book"][-1] == 15_000.0
    assert body["var_pre_trade"] == [None, None, None, None, 11_000.0]
    other = client.get("/api/risk/series", params={"method": "nope"}).json()
    assert other["timestamp"] == []
    assert other["total_points"] == 0


def test_symbols_with_market_data(client):
    body = client.get("/api/symbols").json()
    assert body["perps"] == ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
    assert body["option_underlyings"] == ["BTC"]


def test_thin_keeps_the_last_row_and_at_most_max_points():
    frame = pl.DataFrame({"timestamp": list(range(10))})
    assert thin(frame, 3)["timestamp"].to_list() == [2, 5, 9]
    assert thin(frame, 20).height == 10


def test_pnl_of_an_empty_lake_is_empty(tmp_path):
    with TestClient(create_app(make_settings(tmp_path / "data"))) as empty:
        body = empty.get("/api/pnl").json()
    assert body["timestamp"] == []
    assert body["total_points"] == 0


def test_exposures_per_underlying_on_the_latest_marks(client):
    body = client.get("/api/exposures").json()
    assert body["note"] is None
    assert body["as_of"] == "2026-01-06T23:59:00Z"
    by = {row["underlying"]: row for row in body["by_underlying"]}
    # Quantities 1, -2, 3 at marks 100, 200, 300 (the tickers).
    assert by["BTC"]["delta_coin"] == pytest.approx(1.0)
    assert by["ETH"]["delta_usd"] == pytest.approx(-400.0)
    assert by["SOL"]["perp_delta_coin"] == pytest.approx(3.0)
    assert by["SOL"]["options_delta_coin"] == 0.0
    assert body["net_notional"] == pytest.approx(600.0)
    assert body["gross_notional"] == pytest.approx(1400.0)
    assert body["delta_usd"] == pytest.approx(600.0)
    assert {r["symbol"]: r["notional"] for r in body["by_symbol"]}["ETH/USDT:USDT"] == -400.0
    assert body["hedge_band_usd"] == 5000.0


def test_stress_revalues_the_book(client):
    body = client.get("/api/risk/stress").json()
    pnl = {row["name"]: row["pnl"] for row in body["scenarios"]}
    assert pnl["spot -10%"] == pytest.approx(-60.0)
    assert pnl["spot +20%"] == pytest.approx(120.0)
    assert pnl["vol +20 pts"] == pytest.approx(0.0)


def test_exposures_without_data_say_why(tmp_path):
    with TestClient(create_app(make_settings(tmp_path / "data"))) as empty:
        body = empty.get("/api/exposures").json()
        stress = empty.get("/api/risk/stress").json()
    assert body["by_underlying"] == []
    assert "qbtc ingest" in body["note"]
    assert stress["scenarios"] == []
    assert stress["note"] == body["note"]


def test_alerts_newest_first_and_filtered(client):
    body = client.get("/api/alerts").json()
    assert body["total"] == 1
    assert body["items"][0]["alert_id"] == "a1"
    assert client.get("/api/alerts", params={"severity": "critical"}).json()["total"] == 0
    assert client.get("/api/alerts", params={"kind": "var_limit"}).json()["total"] == 1
    assert client.get("/api/alerts", params={"severity": "loud"}).status_code == 422


def test_desk_has_limits_and_a_closed_circuit(client):
    body = client.get("/api/desk").json()
    assert body["portfolio_id"] == "main"
    assert body["limits"]["max_var_99"] == 100_000.0
    assert body["circuit"]["open"] is False
    assert body["prefect_ui_url"] == "http://127.0.0.1:4200"


def test_an_unreadable_circuit_file_reads_as_open(data_dir):
    build_lake(data_dir)
    (data_dir / "state" / "circuit.json").write_text("{not json")
    with TestClient(create_app(make_settings(data_dir))) as own:
        circuit = own.get("/api/desk").json()["circuit"]
    assert circuit["open"] is True
    assert "unreadable" in circuit["reason"]


def test_an_open_circuit_says_until_when(data_dir):
    build_lake(data_dir)
    until = END.replace(year=2999).isoformat()
    state = {
        "consecutive_errors": 5,
        "opened_at": END.isoformat(),
        "open_until": until,
        "reason": "5 errors",
    }
    (data_dir / "state" / "circuit.json").write_text(json.dumps(state))
    with TestClient(create_app(make_settings(data_dir))) as own:
        circuit = own.get("/api/desk").json()["circuit"]
    assert circuit["open"] is True
    assert circuit["consecutive_errors"] == 5


def test_a_held_position_without_a_mark_is_named_in_the_note(own_lake, data_dir):
    from qbtc.lake import write_dataset
    from tests.api.lakedata import frame, position

    rows = [position(f"X{i}/USDT:USDT", 1.0, 10.0, own_lake.last_bar) for i in range(7)]
    write_dataset(own_lake.root, "positions", frame(rows, "positions"))
    with TestClient(create_app(make_settings(data_dir))) as own:
        body = own.get("/api/exposures").json()
    assert body["by_underlying"] == []
    assert body["note"].startswith("no mark for 7 held position(s) (X0/USDT:USDT, ")
    assert "and 2 more" in body["note"]
