"""The dashboard page and its assets: served at /, offline, token asked by the page."""

from __future__ import annotations

import html
import json
import re

from fastapi.testclient import TestClient
from pydantic import SecretStr

from qbtc.api import create_app
from qbtc.api.routers.dashboard import STATIC_DIR
from tests.api.conftest import make_settings


def _meta(page: str) -> dict:
    match = re.search(r'<meta name="qbtc-api" content="([^"]*)">', page)
    assert match, "the page lost its qbtc-api meta tag"
    return json.loads(html.unescape(match.group(1)))


def test_the_page_is_served_at_root_with_the_routes_it_may_use(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    meta = _meta(response.text)
    assert meta["token_required"] is False
    assert {"/api/pnl", "/api/exposures", "/api/alerts", "/api/desk"} <= set(meta["routes"])
    assert "/api/orders/{client_order_id}/lineage" in meta["routes"]


def test_every_asset_the_page_loads_is_shipped_and_nothing_comes_from_elsewhere(client):
    page = client.get("/").text
    assets = re.findall(r'(?:src|href)="(/static/dashboard/[^"]+)"', page)
    assert len(assets) >= 3
    assert "--bg:" in page  # the page's own styles come inline: first paint waits for nothing
    for path in assets:
        assert client.get(path).status_code == 200, path
    scripts = [p.read_text() for p in (STATIC_DIR / "js").glob("*.js")]
    for text in [page, *scripts]:
        assert "http://" not in text.replace("http://127.0.0.1", "")
        assert "https://" not in text
    for module in re.findall(r'from "\./([a-z]+\.js)"', "\n".join(scripts)):
        assert client.get(f"/static/dashboard/js/{module}").status_code == 200


def test_the_charting_library_ships_with_its_licence():
    vendor = STATIC_DIR / "vendor" / "uplot"
    assert "MIT License" in (vendor / "LICENSE").read_text()
    assert (vendor / "uPlot.iife.min.js").stat().st_size > 40_000


def test_with_a_token_the_page_asks_for_it_and_the_data_needs_it(data_dir):
    settings = make_settings(data_dir, api_token=SecretStr("s3cret"))
    with TestClient(create_app(settings)) as secured:
        page = secured.get("/")
        assert page.status_code == 200
        assert _meta(page.text)["token_required"] is True
        assert secured.get("/static/dashboard/js/app.js").status_code == 200
        assert secured.get("/api/desk").status_code == 401
        assert secured.get("/api/pnl").status_code == 401
        authorized = {"Authorization": "Bearer s3cret"}
        assert secured.get("/api/desk", headers=authorized).status_code == 200
