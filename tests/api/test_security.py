from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from qbtc.api import create_app
from qbtc.api.security import token_matches
from tests.api.conftest import make_settings
from tests.api.paths import GET_ROUTES


@pytest.fixture(scope="module")
def guarded(shared_lake, shared_data_dir):
    # Every route is tried with a wrong token: allow that many failures before a lock-out.
    settings = make_settings(shared_data_dir, api_token="s3cret-token", api_auth_failures=1000)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize("path", GET_ROUTES)
def test_token_is_required_on_every_route_when_set(guarded, path):
    missing = guarded.get(path)
    wrong = guarded.get(path, headers={"Authorization": "Bearer nope"})
    right = guarded.get(path, headers={"Authorization": "Bearer s3cret-token"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["detail"]
    assert "s3cret" not in missing.text + wrong.text
    assert right.status_code == 200


def test_without_a_token_setting_no_token_is_needed(client):
    assert client.get("/api/health").status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


def test_token_comparison():
    from pydantic import SecretStr

    assert token_matches("abc", SecretStr("abc"))
    assert not token_matches("abd", SecretStr("abc"))
    assert not token_matches("", SecretStr("abc"))
    assert not token_matches(None, SecretStr("abc"))


def test_rate_limit_answers_429_with_retry_after(shared_lake, shared_data_dir):
    settings = make_settings(shared_data_dir, api_rate_limit="3/minute")
    with TestClient(create_app(settings)) as client:
        codes = [client.get("/api/positions").status_code for _ in range(3)]
        # The limit is per client across routes, not per route.
        limited = client.get("/api/runs")
    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["detail"].startswith("rate limit exceeded (3 per 1 minute per client)")


def test_invalid_rate_limit_setting_is_a_clear_error(data_dir):
    with pytest.raises(ValueError, match="QBTC_API_RATE_LIMIT"):
        create_app(make_settings(data_dir, api_rate_limit="lots"))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", GET_ROUTES)
def test_other_methods_are_405(client, method, path):
    response = client.request(method, path)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert response.json() == {"detail": "Method Not Allowed"}


def test_cors_is_closed_by_default(client):
    origin = {"Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in client.get("/api/health", headers=origin).headers
    preflight = client.options(
        "/api/health", headers={**origin, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_only_configured_origins(shared_lake, shared_data_dir):
    settings = make_settings(shared_data_dir, api_cors_origins=["https://desk.example"])
    with TestClient(create_app(settings)) as client:
        allowed = client.get("/api/health", headers={"Origin": "https://desk.example"})
        other = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://desk.example"
    assert "access-control-allow-origin" not in other.headers


def test_openapi_declares_every_status_and_only_gets(client):
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        assert set(operations) == {"get"}, path
        declared = set(operations["get"]["responses"])
        assert {"200", "401", "429"} <= declared, path
        if operations["get"].get("parameters"):
            assert "422" in declared, path
        if "{" in path:
            assert "404" in declared, path
        for code in declared - {"200"}:
            schema = operations["get"]["responses"][code]["content"]["application/json"]
            assert schema["schema"]["$ref"].endswith("/ErrorResponse"), (path, code)


def test_docs_work_offline_from_bundled_assets(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200
        assert "cdn." not in html.text  # nothing from the internet
        assets = re.findall(r'(?:src|href)="(/static-offline-docs/[^"]+)"', html.text)
        assert assets, html.text
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
    assert client.post("/static-offline-docs/swagger-ui.css").status_code == 405


TOKEN = {"Authorization": "Bearer s3cret-token"}


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_docs_need_the_token_when_one_is_set(guarded, path):
    assert guarded.get(path).status_code == 401
    assert guarded.get(path, headers=TOKEN).status_code == 200


def test_docs_assets_need_the_token_when_one_is_set(guarded):
    html = guarded.get("/docs", headers=TOKEN).text
    asset = re.findall(r'(?:src|href)="(/static-offline-docs/[^"]+)"', html)[0]
    assert guarded.get(asset).status_code == 401
    assert guarded.get(asset, headers=TOKEN).status_code == 200


def test_public_docs_is_an_explicit_setting(shared_lake, shared_data_dir):
    settings = make_settings(shared_data_dir, api_token="s3cret-token", api_public_docs=True)
    with TestClient(create_app(settings)) as client:
        assert client.get("/docs").status_code == 200
        assert client.get("/api/health").status_code == 401


def test_websocket_handshakes_count_against_the_rate_limit(shared_lake, shared_data_dir):
    settings = make_settings(shared_data_dir, api_token="s3cret-token", api_rate_limit="5/minute")
    refused = []
    with TestClient(create_app(settings)) as client:
        for _ in range(8):
            try:
                with client.websocket_connect("/ws/alerts"):
                    pass
            except WebSocketDenialResponse as denial:
                refused.append(denial.status_code)
            except WebSocketDisconnect as closed:
                refused.append(closed.code)
        rest = client.get("/api/health", headers=TOKEN)
    # Five wrong-token handshakes are refused as unauthorized, then the limit answers 429.
    assert refused[:5] == [1008] * 5
    assert refused[5:] == [429] * 3
    assert rest.status_code == 429


def test_a_client_that_keeps_failing_authentication_is_locked_out(shared_lake, shared_data_dir):
    settings = make_settings(shared_data_dir, api_token="s3cret-token", api_auth_failures=3)
    with TestClient(create_app(settings)) as client:
        failures = [client.get("/api/positions").status_code for _ in range(3)]
        right = ["bearer", "s3cret-token"]
        with (
            pytest.raises(WebSocketDenialResponse) as denial,
            client.websocket_connect("/ws/alerts", subprotocols=right),
        ):
            pass
        locked = client.get("/api/positions", headers=TOKEN)
    assert failures == [401, 401, 401]
    assert denial.value.status_code == 429
    # Even the right token is refused for a while: guessing cannot go on at full speed.
    assert locked.status_code == 429
    assert "failed authentications" in locked.json()["detail"]


@pytest.mark.parametrize("rate", ["0/minute", "10/second;0/minute"])
def test_a_rate_limit_of_zero_is_refused(data_dir, rate):
    with pytest.raises(ValueError, match="at least one request"):
        create_app(make_settings(data_dir, api_rate_limit=rate))


@pytest.mark.parametrize("path", GET_ROUTES)
def test_head_answers_wherever_get_does(client, path):
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
