"""The read-only FastAPI service: :func:`create_app` builds it from settings.

Reads go through one in-memory :class:`~qbtc.lake.LakeReader` created in the lifespan (the
API never opens ``data/qbtc.duckdb``), cached on the lake's state (see
:mod:`qbtc.api.lakestate`). Only GET routes and WebSockets exist, so any other method
answers 405.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from qbtc import __version__
from qbtc.api.cache import HttpCacheMiddleware
from qbtc.api.context import ApiContext
from qbtc.api.errors import install_error_handlers
from qbtc.api.lakestate import LakeWatcher
from qbtc.api.routers import (
    alerts,
    backtests,
    desk,
    exposures,
    health,
    lineage,
    market,
    metrics,
    options,
    orders,
    positions,
    quality,
    risk,
    runs,
    series,
    signals,
    streams,
)
from qbtc.api.routers.dashboard import mount_dashboard
from qbtc.api.security import (
    AccessMiddleware,
    AccessPolicy,
    HeadMiddleware,
    RequireToken,
    make_limiter,
)
from qbtc.api.status import QUALITY_DOCS_PATH
from qbtc.config import Settings, load_settings
from qbtc.lake import LakeReader
from qbtc.quality.datadocs import docs_dir

#: Seconds between two scans of the lake for changes (WebSocket pushes, cache keys).
WATCH_INTERVAL_S = 0.25

_DESCRIPTION = """Read-only view of the qbtc desk: positions, market data, option chains,
risk, signals, orders and runs, read from the Parquet lake while the pipeline writes it.
Timestamps are UTC, money is USDT unless a field says otherwise. Streams: WebSockets
`/ws/prices`, `/ws/positions`, `/ws/alerts`. Prometheus metrics: `/metrics`."""

_ROUTERS = (
    health.router,
    positions.router,
    market.router,
    options.router,
    risk.router,
    signals.router,
    orders.router,
    runs.router,
    metrics.router,
    series.router,
    exposures.router,
    alerts.router,
    desk.router,
    lineage.router,
    quality.router,
    backtests.router,
)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    reader = LakeReader(settings.lake_dir)
    watcher = LakeWatcher(settings.lake_dir, settings.state_dir, interval_s=WATCH_INTERVAL_S)
    context = ApiContext(
        lake_dir=settings.lake_dir,
        state_dir=settings.state_dir,
        timeframe=settings.timeframe,
        reader=reader,
        watcher=watcher,
        cache_bytes=settings.api_cache_mb * 1024 * 1024,
        max_data_lag_s=settings.health_max_data_lag_s,
    )
    app.state.context = context
    app.state.registry = metrics.build_registry(context)
    task = asyncio.create_task(watcher.run(), name="qbtc-lake-watcher")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        reader.close()


class LaterStaticFiles(StaticFiles):
    """Static files of a directory that may not exist yet (404 until it does): the API
    never writes to the data dir, not even an empty folder."""

    async def check_config(self) -> None:
        if self.directory is not None and Path(self.directory).is_dir():
            await super().check_config()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API over ``settings.data_dir`` (settings from env/.env when not given).

    Raises ``ValueError`` with the setting's name when ``api_rate_limit`` is malformed.
    """
    settings = settings or load_settings()
    limiter = make_limiter(settings.api_rate_limit)
    # /docs and /redoc from bundled assets (under /static-offline-docs), never a CDN:
    # they work on a machine without internet.
    app = FastAPIOffline(
        title="qbtc",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.api_token = settings.api_token
    app.state.limiter = limiter
    app.add_middleware(HttpCacheMiddleware)
    policy = AccessPolicy(
        rate=settings.api_rate_limit,
        auth_failures=settings.api_auth_failures,
        lockout_s=settings.api_auth_lockout_s,
        docs_token=None if settings.api_public_docs else settings.api_token,
        data_token=settings.api_token,
    )
    app.add_middleware(AccessMiddleware, limiter=limiter, policy=policy)
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET"],
            allow_headers=["Authorization"],
        )
    # Outermost: HEAD is served as GET everywhere below, without a body.
    app.add_middleware(HeadMiddleware)
    install_error_handlers(app)
    guard = [Depends(RequireToken(settings.api_token))] if settings.api_token else []
    for router in _ROUTERS:
        app.include_router(router, dependencies=guard)
    app.include_router(streams.router)
    mount_dashboard(app, _ROUTERS)
    # The gate's Data Docs: static pages written by the flows (missing until the first gate).
    docs = LaterStaticFiles(directory=docs_dir(settings.data_dir), html=True, check_dir=False)
    app.mount(QUALITY_DOCS_PATH, docs, name="quality-docs")
    return app
