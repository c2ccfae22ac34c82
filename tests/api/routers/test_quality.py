"""Quarantine counts, volatility views, and the vol view in an order's lineage."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from qbtc.api import create_app
from qbtc.lake import write_dataset
from qbtc.quality.datadocs import run_page
from tests.api.conftest import make_settings
from tests.api.lakedata import frame


def _quarantined(run_id: str, key: str, stamp) -> dict[str, object]:
    return {
        "dataset": "ohlcv",
        "run_id": run_id,
        "row_key": key,
        "timestamp": stamp,
        "reasons": "high < low",
        "row": "{}",
    }


def _view(underlying: str, run_id: str, stamp, value: float) -> dict[str, object]:
    return {
        "view_id": f"vv-{underlying}-{run_id}",
        "run_id": run_id,
        "underlying": underlying,
        "timestamp": stamp,
        "vol_view": value,
        "confidence": 0.6,
        "horizon_minutes": 1440,
        "provider": "rules",
        "model": None,
        "rationale": "ATM IV below forecast realised vol",
        "feature_snapshot": "snap",
        "expiry": None,
        "tenor_days": 30.0,
        "atm_iv": 0.5,
        "realised_forecast": 0.6,
        "term_slope": 0.1,
        "rr_25d": -0.02,
        "fallback_reason": None,
        "created_at": stamp,
    }


def test_quarantine_counts_rows_in_all_and_in_the_last_gate_run(own_lake, data_dir):
    stamp = own_lake.last_bar
    rows = [
        _quarantined("run-1", "a", stamp - timedelta(hours=1)),
        _quarantined("run-2", "b", stamp),
        _quarantined("run-2", "c", stamp),
    ]
    write_dataset(own_lake.root, "quarantine", frame(rows, "quarantine"))
    with TestClient(create_app(make_settings(data_dir))) as own:
        body = own.get("/api/quarantine").json()
    assert body["gate_run_id"] == "run-2"
    assert body["datasets"] == [
        {"dataset": "ohlcv", "rows": 3, "last_gate_rows": 2, "newest": "2026-01-06T23:59:00Z"}
    ]


def test_quarantine_of_a_clean_lake_is_empty(client):
    body = client.get("/api/quarantine").json()
    assert body == {"gate_run_id": "run-2", "datasets": []}


def test_vol_views_newest_first_and_in_the_lineage_of_the_run(own_lake, data_dir):
    stamp = own_lake.last_bar
    views = [
        _view("BTC", "run-1", stamp - timedelta(hours=1), -0.2),
        _view("BTC", "run-2", stamp, 0.4),
        _view("ETH", "run-2", stamp, 0.1),
    ]
    write_dataset(own_lake.root, "vol_views", frame(views, "vol_views"))
    with TestClient(create_app(make_settings(data_dir))) as own:
        body = own.get("/api/vol-views").json()
        btc = own.get("/api/vol-views", params={"underlying": "BTC"}).json()
        lineage = own.get(f"/api/orders/qb{0:032d}/lineage").json()
        bad = own.get("/api/vol-views", params={"underlying": "btc"})
    assert body["total"] == 3
    assert [v["run_id"] for v in body["items"]][:2] == ["run-2", "run-2"]
    assert [v["vol_view"] for v in btc["items"]] == [0.4, -0.2]
    assert lineage["vol_view"]["view_id"] == "vv-BTC-run-2"
    assert bad.status_code == 422


def test_the_gate_links_its_data_docs_page_which_the_api_serves(own_lake, data_dir):
    settings = make_settings(data_dir)
    with TestClient(create_app(settings)) as client:
        gate = client.get("/api/health").json()["quality_gate"]
        assert gate["run_id"] == "run-2"
        assert gate["docs_url"] is None  # no Data Docs built for that run
        assert client.get("/quality/docs/index.html").status_code == 404
        page = run_page(data_dir, "run-2")
        page.parent.mkdir(parents=True)
        page.write_text("<html><body>Quality gate of run run-2</body></html>")
        gate = client.get("/api/health").json()["quality_gate"]
        assert gate["docs_url"] == "/quality/docs/runs/run-2.html"
        served = client.get(gate["docs_url"])
        assert served.status_code == 200
        assert "Quality gate of run run-2" in served.text


def test_data_docs_need_the_token_when_one_is_set(own_lake, data_dir):
    page = run_page(data_dir, "run-2")
    page.parent.mkdir(parents=True)
    page.write_text("<html><body>rows of the lake</body></html>")
    settings = make_settings(data_dir, api_token="s3cret-token", api_public_docs=True)
    with TestClient(create_app(settings)) as client:
        assert client.get("/quality/docs/runs/run-2.html").status_code == 401
        token = {"Authorization": "Bearer s3cret-token"}
        assert client.get("/quality/docs/runs/run-2.html", headers=token).status_code == 200
