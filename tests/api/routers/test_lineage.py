"""An order's lineage and the LLM calls list."""

from __future__ import annotations

from qbtc.lake import write_dataset
from tests.api.lakedata import END, frame


def test_lineage_of_a_filled_order_goes_back_to_its_run(client):
    cid = f"qb{0:032d}"  # BTC, accepted and filled in run-2
    body = client.get(f"/api/orders/{cid}/lineage").json()
    assert body["intent"]["symbol"] == "BTC/USDT:USDT"
    assert body["intent"]["status"] == "accepted"
    assert [e["event"] for e in body["events"]] == ["filled"]
    assert body["fills"] == []
    assert body["signal"]["signal_id"] == "sig-BTC/USDT:USDT"
    assert body["signal"]["rationale"] == "momentum"
    assert [(r["method"], r["phase"]) for r in body["risk"]] == [("historical", "pre_trade")]
    assert body["run"]["run_id"] == "run-2"
    assert body["llm_calls"] == []
    assert body["features"] is None  # the fixture lake has no feature rows


def test_lineage_of_a_refused_order_has_its_reason_and_no_ledger(client):
    body = client.get(f"/api/orders/qb{2:032d}/lineage").json()
    assert body["intent"]["status"] == "refused"
    assert body["intent"]["reason"] == "symbol notional limit"
    assert body["events"] == []


def test_lineage_of_an_unknown_order_is_a_clear_404(client):
    response = client.get("/api/orders/qb-nope/lineage")
    assert response.status_code == 404
    assert response.json()["detail"] == "unknown order qb-nope: no order intent with that id"
    assert client.get("/api/orders/bad%20id/lineage").status_code == 422


def test_lineage_includes_the_llm_calls_and_features_of_the_run(own_lake, data_dir):
    from fastapi.testclient import TestClient

    from qbtc.api import create_app
    from tests.api.conftest import make_settings

    call = {
        "call_id": "c1",
        "run_id": "run-2",
        "timestamp": END,
        "provider": "gemini",
        "model": "gemini-3-flash-preview",
        "prompt_hash": "h",
        "prompt": "the prompt",
        "response": '{"signals": []}',
        "status": "ok",
        "error": None,
        "input_tokens": 10,
        "output_tokens": 5,
        "latency_ms": 120.0,
        "cost_usd": 0.001,
    }
    write_dataset(own_lake.root, "llm_calls", frame([call], "llm_calls"))
    feature = {"symbol": "BTC/USDT:USDT", "timestamp": own_lake.last_bar, "close": 100.0}
    write_dataset(own_lake.root, "features", frame([feature], "features").fill_null(0.5))
    with TestClient(create_app(make_settings(data_dir))) as own:
        body = own.get(f"/api/orders/qb{0:032d}/lineage").json()
        calls = own.get("/api/llm-calls", params={"run_id": "run-2"}).json()
    assert [c["prompt"] for c in body["llm_calls"]] == ["the prompt"]
    assert body["features"]["close"] == 100.0
    assert body["features"]["rsi_14"] == 0.5
    assert calls["total"] == 1
    assert calls["items"][0]["response"] == '{"signals": []}'
