"""Access control: optional read-only bearer token, per-client rate limit, closed CORS."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterable

from fastapi import Depends, HTTPException, WebSocket
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse_many
from pydantic import SecretStr
from slowapi import Limiter
from slowapi.util import get_remote_address
from starlette.types import ASGIApp, Receive, Scope, Send

from qbtc.api.errors import error_body

_bearer = HTTPBearer(auto_error=False, description="Read-only token (QBTC_API_TOKEN).")
#: Scope of the application-wide limit in the limiter's storage.
LIMIT_SCOPE = "qbtc-api"


def token_matches(given: str | None, expected: SecretStr) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    if not given:
        return False
    return secrets.compare_digest(given.encode(), expected.get_secret_value().encode())


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header in raw ASGI headers."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


class RequireToken:
    """Dependency answering 401 unless the request carries ``Authorization: Bearer <token>``."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def __call__(self, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
        given = credentials.credentials if credentials else None
        if not token_matches(given, self._token):
            raise HTTPException(
                status_code=401,
                detail="missing or invalid bearer token: send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )


#: WebSocket subprotocol that carries the token from a browser, which cannot set headers:
#: ``new WebSocket(url, ["bearer", token])`` (the server answers with this subprotocol).
BEARER_SUBPROTOCOL = "bearer"


def websocket_credentials(websocket: WebSocket) -> tuple[str | None, str | None]:
    """The handshake's token and the subprotocol to accept (``bearer`` when it came that way).

    The ``Authorization: Bearer <token>`` header wins; otherwise the offered subprotocols
    ``bearer, <token>`` (``Sec-WebSocket-Protocol``) carry it.
    """
    header = bearer_token(websocket.scope["headers"])
    if header:
        return header, None
    offered = list(websocket.scope.get("subprotocols") or [])
    if len(offered) >= 2 and offered[0] == BEARER_SUBPROTOCOL:
        return offered[1], BEARER_SUBPROTOCOL
    return None, None


def websocket_authorized(websocket: WebSocket, token: SecretStr | None) -> bool:
    """True when no token is configured or the handshake carries the right bearer token."""
    if token is None:
        return True
    given, _ = websocket_credentials(websocket)
    return token_matches(given, token)


def parse_rate(rate: str) -> list[RateLimitItem]:
    """``"600/minute"`` (limits syntax) -> limit items; ValueError names the setting."""
    try:
        return parse_many(rate)
    except ValueError:
        raise ValueError(
            f"invalid QBTC_API_RATE_LIMIT {rate!r}: use the limits syntax, e.g. '600/minute'"
        ) from None


def make_limiter(rate: str) -> Limiter:
    """The slowapi limiter of the app: per client (remote address), in-memory, fixed window."""
    parse_rate(rate)
    return Limiter(
        key_func=get_remote_address,
        application_limits=[rate],
        storage_uri="memory://",
        strategy="fixed-window",
        headers_enabled=False,
    )


class RateLimitMiddleware:
    """Count every HTTP request of a client against the limit, before routing.

    Uses the slowapi limiter's strategy and storage directly. slowapi's own middlewares
    look the route up first and silently skip routes added with ``include_router`` on
    FastAPI >= 0.137 (laurentS/slowapi#281); the limit here is application-wide, so no
    route lookup is needed (and the check stays cheap: one counter increment).
    """

    def __init__(self, app: ASGIApp, *, limiter: Limiter, rate: str) -> None:
        self.app = app
        self.strategy = limiter.limiter
        self.items = parse_rate(rate)
        self.rate = rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = client[0] if client else "127.0.0.1"
        for item in self.items:
            if not self.strategy.hit(item, LIMIT_SCOPE, key):
                reset_at = self.strategy.get_window_stats(item, LIMIT_SCOPE, key).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                detail = f"rate limit exceeded ({item} per client); retry in {retry_after} s"
                response = JSONResponse(
                    error_body(detail),
                    status_code=429,
                    headers={"Retry-After": str(retry_after)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
