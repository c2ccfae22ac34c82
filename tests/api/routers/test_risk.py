from __future__ import annotations


def test_risk_has_latest_per_method_and_phase_and_history(client):
    body = client.get("/api/risk/metrics", params={"limit": 4}).json()
    latest = body["latest"]
    assert [(row["method"], row["phase"]) for row in latest] == [
        ("historical", "book"),
        ("historical", "pre_trade"),
        ("parametric", "book"),
    ]
    assert {row["timestamp"] for row in latest} == {"2026-01-06T23:59:00Z"}
    assert [row["var"] for row in latest] == [12_000.0, 11_000.0, 12_000.0]
    assert latest[0]["mc_stderr"] is None
    history = body["history"]
    assert history["total"] == 11
    assert history["next_offset"] == 4
    stamps = [row["timestamp"] for row in history["items"]]
    assert stamps == sorted(stamps, reverse=True)


def test_risk_filters_by_method_phase_and_time(client):
    params = {"method": "historical", "since": "2026-01-06T23:57:00Z"}
    body = client.get("/api/risk/metrics", params=params).json()
    assert [row["phase"] for row in body["latest"]] == ["book", "pre_trade"]
    assert body["history"]["total"] == 4
    pre = client.get("/api/risk/metrics", params={**params, "phase": "pre_trade"}).json()
    assert [row["var"] for row in pre["latest"]] == [11_000.0]
    assert pre["history"]["total"] == 1
    until = client.get("/api/risk/metrics", params={"until": "2026-01-06T23:55:00Z"}).json()
    assert until["history"]["total"] == 2


def test_an_unknown_phase_is_a_clear_422(client):
    response = client.get("/api/risk/metrics", params={"phase": "after"})
    assert response.status_code == 422
    assert "pre_trade" in response.text


def test_naive_since_is_utc(client):
    aware = client.get("/api/risk/metrics", params={"since": "2026-01-06T23:57:00+00:00"})
    naive = client.get("/api/risk/metrics", params={"since": "2026-01-06T23:57:00"})
    shifted = client.get("/api/risk/metrics", params={"since": "2026-01-07T00:57:00+01:00"})
    assert aware.json() == naive.json() == shifted.json()
