"""WebSockets ``/ws/prices``, ``/ws/positions``, ``/ws/alerts``: push updates as the lake changes.

Each connection first gets a snapshot, then a new frame whenever the datasets behind the
channel change (seen by :class:`~qbtc.api.lakestate.LakeWatcher`, every 0.25 s) and the
content differs from what it last got; ``/ws/alerts`` sends each alert once. Frames are
:class:`~qbtc.api.models.StreamMessage` JSON. Read-only: what the client sends is ignored.
With ``QBTC_API_TOKEN`` set, the handshake must carry ``Authorization: Bearer <token>`` or,
from a browser (which cannot set headers), the subprotocols ``["bearer", token]``; else it is
refused with code 1008.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from pydantic import BaseModel

from qbtc.api.context import ApiContext, api_sql, get_context, to_models
from qbtc.api.models import Alert, Position, PriceRow, StreamMessage
from qbtc.api.routers.positions import STRUCTURE_DATASETS, with_leg_states
from qbtc.api.security import websocket_authorized, websocket_credentials

router = APIRouter()
log = logging.getLogger(__name__)

#: Alerts sent on connect (the most recent ones, oldest first).
RECENT_ALERTS = 50


def prices(context: ApiContext) -> list[PriceRow]:
    return to_models(context.query("prices"), PriceRow)


def positions(context: ApiContext) -> list[Position]:
    params = {"portfolio_id": None, "type": None, "include_flat": True}
    sql = f"SELECT * FROM ({api_sql('positions')}) ORDER BY portfolio_id, symbol"
    return to_models(with_leg_states(context, context.query_sql(sql, params)), Position)


def recent_alerts(context: ApiContext) -> list[Alert]:
    alerts = to_models(context.query("recent_alerts", {"limit": RECENT_ALERTS}), Alert)
    return alerts[::-1]


@dataclass(frozen=True)
class Channel:
    """What a stream sends: a loader over the lake and the datasets it depends on.

    ``item_id`` (when set) makes the channel send each item once, by that id.
    """

    name: str
    datasets: tuple[str, ...]
    load: Callable[[ApiContext], Sequence[BaseModel]]
    item_id: Callable[[Any], Any] | None = None


@dataclass
class Feed:
    """Per-connection state: what was sent, so only changes go out."""

    channel: Channel
    sequence: int = 0
    last: Sequence[BaseModel] | None = None
    sent_ids: set[Any] = field(default_factory=set)

    def frame(self, items: Sequence[BaseModel]) -> str | None:
        """JSON of the next frame for ``items``, or None when there is nothing new."""
        item_id = self.channel.item_id
        if item_id is not None:
            items = [item for item in items if item_id(item) not in self.sent_ids]
            self.sent_ids.update(item_id(item) for item in items)
            if not items and self.sequence:
                return None
        if items == self.last:
            return None
        self.last, self.sequence = items, self.sequence + 1
        message = {"channel": self.channel.name, "sequence": self.sequence, "data": items}
        return StreamMessage.model_validate(message).model_dump_json()


async def _drain(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """Read (and ignore) client frames until it leaves, then stop the stream."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()
    scope.cancel()


async def _push(websocket: WebSocket, context: ApiContext, channel: Channel) -> None:
    feed, seen = Feed(channel), None
    load = partial(channel.load, context)
    while True:
        seen = await context.watcher.wait_for_change(channel.datasets, seen)
        items = await anyio.to_thread.run_sync(
            context.cached, ("stream", channel.name), channel.datasets, load
        )
        text = feed.frame(items)
        if text is not None:
            await websocket.send_text(text)


async def serve_channel(websocket: WebSocket, channel: Channel) -> None:
    """Authorize, accept, then push frames until the client leaves."""
    context = get_context(websocket)
    if not websocket_authorized(websocket, websocket.app.state.api_token):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="invalid token")
        return
    _, subprotocol = websocket_credentials(websocket)
    await websocket.accept(subprotocol=subprotocol)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_drain, websocket, group.cancel_scope)
            await _push(websocket, context, channel)
    except* (WebSocketDisconnect, OSError):
        pass  # the client left while a frame was being sent
    except* Exception as errors:
        log.error("stream %s failed", channel.name, exc_info=errors)
        with contextlib.suppress(Exception):
            await websocket.close(code=status.WS_1011_INTERNAL_ERROR, reason="internal error")


PRICES = Channel("prices", ("tickers", "ohlcv"), prices)
POSITIONS = Channel("positions", STRUCTURE_DATASETS, positions)
ALERTS = Channel("alerts", ("alerts",), recent_alerts, item_id=lambda alert: alert.alert_id)


@router.websocket("/ws/prices")
async def stream_prices(websocket: WebSocket) -> None:
    """Latest ticker and last bar of every symbol, on each change of tickers or bars."""
    await serve_channel(websocket, PRICES)


@router.websocket("/ws/positions")
async def stream_positions(websocket: WebSocket) -> None:
    """Latest snapshot of every position (flat ones included), on each change."""
    await serve_channel(websocket, POSITIONS)


@router.websocket("/ws/alerts")
async def stream_alerts(websocket: WebSocket) -> None:
    """The most recent alerts on connect, then each new alert once."""
    await serve_channel(websocket, ALERTS)
