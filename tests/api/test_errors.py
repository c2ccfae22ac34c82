from __future__ import annotations

from fastapi.testclient import TestClient

from qbtc.api import create_app
from qbtc.api.context import ApiContext
from tests.api.conftest import make_settings


def test_unexpected_errors_are_a_generic_500(own_lake, data_dir, monkeypatch):
    secret_path = str(data_dir / "lake" / "positions")

    def broken(self, sql, params=None):
        raise RuntimeError(f"IO Error: cannot open {secret_path} (token=hunter2)")

    monkeypatch.setattr(ApiContext, "query_sql", broken)
    app = create_app(make_settings(data_dir, api_token="hunter2"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/positions", headers={"Authorization": "Bearer hunter2"})
    assert response.status_code == 500
    assert response.json() == {
        "detail": "internal error; it was logged on the server. Retry, or report it."
    }
    for leak in (secret_path, "hunter2", "Traceback", "RuntimeError", str(data_dir)):
        assert leak not in response.text


def test_unknown_path_is_a_json_404(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_validation_message_names_field_and_bound(client):
    body = client.get("/api/signals", params={"limit": 0}).json()
    assert body["detail"] == (
        "invalid request: query.limit: Input should be greater than or equal to 1"
    )
    assert body["errors"] == [
        {"location": "query.limit", "message": "Input should be greater than or equal to 1"}
    ]


def test_pattern_errors_never_show_a_regex(client):
    for path, params in [("/api/runs", {"flow": "a b"}), ("/api/risk/metrics", {"method": "x/y"})]:
        body = client.get(path, params=params).json()
        assert "expected letters, digits" in body["detail"]
        assert "^" not in body["detail"]
