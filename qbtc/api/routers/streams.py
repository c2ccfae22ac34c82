"""WebSockets ``/ws/prices``, ``/ws/positions``, ``/ws/alerts``: push updates as the lake changes.

Each connection first gets a snapshot, then a new message whenever the datasets behind the
channel change (detected by :class:`~qbtc.api.lakestate.LakeWatcher`, every 0.25 s) and the
content differs from what it last got. Messages are :class:`~qbtc.api.models.StreamMessage`
JSON. Read-only: anything the client sends is ignored. With ``QBTC_API_TOKEN`` set, the
handshake must carry ``Authorization: Bearer <token>`` (else it is closed with code 1008).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from pydantic import BaseModel
from starlette.websockets import WebSocketState

from qbtc.api.context import ApiContext, api_sql, get_context, to_models
from qbtc.api.models import Alert, Position, PriceRow, StreamMessage
from qbtc.api.security import websocket_authorized

router = APIRouter()

#: Alerts sent on connect (most recent first in the lake, oldest first on the wire).
RECENT_ALERTS = 50


def prices(context: ApiContext) -> list[PriceRow]:
    return to_models(context.query("prices"), PriceRow)


def positions(context: ApiContext) -> list[Position]:
    params = {"portfolio_id": None, "type": None, "include_flat": True}
    sql = f"SELECT * FROM ({api_sql('positions')}) ORDER BY portfolio_id, symbol"
    return to_models(context.query_sql(sql, params), Position)


def recent_alerts(context: ApiContext) -> list[Alert]:
    alerts = to_models(context.query("recent_alerts", {"limit": RECENT_ALERTS}), Alert)
    return alerts[::-1]


async def _drain(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """Read (and ignore) client frames until it disconnects, then stop the stream."""
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        scope.cancel()


async def _stream(
    websocket: WebSocket,
    channel: str,
    datasets: tuple[str, ...],
    load: Callable[[ApiContext], Sequence[BaseModel]],
    *,
    only_new: Callable[[BaseModel], Any] | None = None,
) -> None:
    """Send ``load(context)`` now and after every change; with ``only_new`` (an id function),
    send only items not sent before."""
    context = get_context(websocket)
    if not websocket_authorized(websocket, websocket.app.state.api_token):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="invalid token")
        return
    await websocket.accept()
    sent: set[Any] = set()
    last: Sequence[BaseModel] | None = None
    sequence = 0
    async with anyio.create_task_group() as group:
        group.start_soon(_drain, websocket, group.cancel_scope)
        seen = None
        while websocket.application_state == WebSocketState.CONNECTED:
            seen = await context.watcher.wait_for_change(datasets, seen)
            items = await anyio.to_thread.run_sync(
                context.cached, (channel,), datasets, lambda: load(context)
            )
            if only_new is not None:
                items = [item for item in items if only_new(item) not in sent]
                sent.update(only_new(item) for item in items)
            if items == last or (only_new is not None and not items and sequence):
                continue
            last, sequence = items, sequence + 1
            message = StreamMessage.model_validate(
                {"channel": channel, "sequence": sequence, "data": items}
            )
            await websocket.send_text(message.model_dump_json())


def _alert_id(alert: BaseModel) -> Any:
    return getattr(alert, "alert_id", None)


@router.websocket("/ws/prices")
async def stream_prices(websocket: WebSocket) -> None:
    """Latest ticker and last bar of every symbol, on each change of tickers or bars."""
    await _stream(websocket, "prices", ("tickers", "ohlcv"), prices)


@router.websocket("/ws/positions")
async def stream_positions(websocket: WebSocket) -> None:
    """Latest snapshot of every position (flat ones included), on each change."""
    await _stream(websocket, "positions", ("positions",), positions)


@router.websocket("/ws/alerts")
async def stream_alerts(websocket: WebSocket) -> None:
    """The most recent alerts on connect, then each new alert once."""
    await _stream(websocket, "alerts", ("alerts",), recent_alerts, only_new=_alert_id)
