"""The dashboard: ``/`` serves the page, ``/static/dashboard/`` its assets (shipped here).

The page holds no data: it reads the public REST API and WebSockets with the token the user
gives it, so the page and its assets are served without a token (they are the same for
everyone) while every data route stays behind it. The page is told whether a token is needed
and which GET routes exist (so it never probes for a route this version does not serve).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
ASSETS_PATH = "/static/dashboard"
_META = '<meta name="qbtc-api" content="{}">'

router = APIRouter(include_in_schema=False)


_STYLESHEET = f'<link rel="stylesheet" href="{ASSETS_PATH}/app.css">'


@cache
def _page_template() -> str:
    """index.html with app.css inlined: the first paint then waits for no other request."""
    text = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    if _META not in text or _STYLESHEET not in text:
        raise RuntimeError("index.html lost its qbtc-api meta tag or its stylesheet link")
    css = (STATIC_DIR / "app.css").read_text(encoding="utf-8")
    return text.replace(_STYLESHEET, f"<style>\n{css}</style>")


def api_routes(routers: Iterable[APIRouter]) -> list[str]:
    """GET paths under ``/api/`` of ``routers``, as declared (``/api/orders/{client_order_id}``)."""
    return sorted(
        {
            route.path
            for router in routers
            for route in router.routes
            if isinstance(route, APIRoute)
            and route.path.startswith("/api/")
            and "GET" in (route.methods or ())
        }
    )


def render_page(token_required: bool, routes: list[str]) -> str:
    meta = {"token_required": token_required, "routes": routes}
    content = html.escape(json.dumps(meta, separators=(",", ":")), quote=True)
    return _page_template().replace(_META, f'<meta name="qbtc-api" content="{content}">')


@router.get("/", response_class=HTMLResponse)
async def dashboard_page(request: Request) -> HTMLResponse:
    page: str = request.app.state.dashboard_page
    # Always revalidated, so a new version of the page is picked up at once.
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


def mount_dashboard(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """The page at ``/`` (told about ``routers``' GET routes) and its assets."""
    app.state.dashboard_page = render_page(app.state.api_token is not None, api_routes(routers))
    app.include_router(router)
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC_DIR), name="dashboard-assets")
