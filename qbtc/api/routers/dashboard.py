"""The dashboard: ``/`` serves the page, ``/static/dashboard/`` its assets (shipped here).

The page holds no data: it reads the public REST API and WebSockets with the token the user
gives it, so the page and its assets are served without a token (they are the same for
everyone) while every data route stays behind it. The page is told whether a token is needed
and which GET routes exist (so it never probes for a route this version does not serve).
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
ASSETS_PATH = "/static/dashboard"
_META = '<meta name="qbtc-api" content="{}">'

router = APIRouter(include_in_schema=False)


@cache
def _page_template() -> str:
    text = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    if _META not in text:
        raise RuntimeError("index.html lost its qbtc-api meta tag")
    return text


def api_routes(app: FastAPI) -> list[str]:
    """GET paths of the API (``/api/...``) as its OpenAPI spec lists them."""
    paths = app.openapi()["paths"]
    return sorted(path for path, ops in paths.items() if path.startswith("/api/") and "get" in ops)


def render_page(app: FastAPI) -> str:
    meta = {"token_required": app.state.api_token is not None, "routes": api_routes(app)}
    content = html.escape(json.dumps(meta, separators=(",", ":")), quote=True)
    return _page_template().replace(_META, f'<meta name="qbtc-api" content="{content}">')


@router.get("/", response_class=HTMLResponse)
async def dashboard_page(request: Request) -> HTMLResponse:
    # Always revalidated, so a new version of the page is picked up at once.
    return HTMLResponse(render_page(request.app), headers={"Cache-Control": "no-cache"})


def mount_dashboard(app: FastAPI) -> None:
    """The page at ``/`` and its assets under :data:`ASSETS_PATH`."""
    app.include_router(router)
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC_DIR), name="dashboard-assets")
