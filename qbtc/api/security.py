"""Access control: optional read-only bearer token, per-client rate limit and lock-out after
failed authentications (REST and WebSocket handshakes alike), docs behind the token, closed
CORS, and the bind guard of ``qbtc api``."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, WebSocket
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse_many
from pydantic import SecretStr
from slowapi import Limiter
from slowapi.util import get_remote_address
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
                detail=UNAUTHORIZED,
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
    """``"600/minute"`` (limits syntax) -> limit items; ValueError names the setting.

    A limit of zero requests (``0/minute``) would answer 429 to everything: refused.
    """
    try:
        items = parse_many(rate)
    except ValueError:
        raise ValueError(
            f"invalid QBTC_API_RATE_LIMIT {rate!r}: use the limits syntax, e.g. '600/minute'"
        ) from None
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(
            f"invalid QBTC_API_RATE_LIMIT {rate!r}: every limit must allow at least one request, "
            "e.g. '600/minute'"
        )
    return items


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


#: Paths of the interactive docs and the spec (FastAPIOffline), gated like the API.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
DOCS_ASSETS_PREFIX = "/static-offline-docs/"
DATA_PAGES_PREFIX = "/quality/docs"
"""Static pages mounted outside the routers (no route dependency guards them)."""


def is_docs_path(path: str) -> bool:
    return path in DOCS_PATHS or path.startswith(DOCS_ASSETS_PREFIX)


@dataclass(frozen=True)
class AccessPolicy:
    """What :class:`AccessMiddleware` enforces.

    ``auth_failures`` failed authentications (401 on REST, a refused WebSocket handshake)
    within a minute lock the client out for ``lockout_s`` seconds: every request and
    handshake then answers 429. ``docs_token`` is the token the docs need (None: public).
    """

    rate: str
    auth_failures: int = 10
    lockout_s: float = 300.0
    docs_token: SecretStr | None = None
    data_token: SecretStr | None = None
    """Token of the static pages that show data (the gate's Data Docs); None: public."""


class AccessMiddleware:
    """Rate limit, authentication lock-out and docs gate for HTTP requests *and* handshakes.

    Uses the slowapi limiter's strategy and storage directly. slowapi's own middlewares
    look the route up first and silently skip routes added with ``include_router`` on
    FastAPI >= 0.137 (laurentS/slowapi#281); the limit here is application-wide, so no
    route lookup is needed (and the check stays cheap: one counter increment). WebSocket
    handshakes count against the same per-client limit as REST requests; a refused
    handshake answers HTTP 429 (the ASGI denial-response extension) where the server
    supports it, else closes with 1008.
    """

    def __init__(self, app: ASGIApp, *, limiter: Limiter, policy: AccessPolicy) -> None:
        self.app = app
        self.strategy = limiter.limiter
        self.items = parse_rate(policy.rate)
        self.failure_item = parse_many(f"{policy.auth_failures}/minute")[0]
        self.policy = policy
        self._locked_until: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = client[0] if client else "127.0.0.1"
        refusal = self._refusal(key)
        if refusal is not None:
            await _deny(scope, receive, send, 429, refusal[0], refusal[1])
            return
        if scope["type"] == "http" and self._docs_refused(scope):
            self._failed(key)
            await _deny(scope, receive, send, 401, UNAUTHORIZED, None)
            return
        await self.app(scope, receive, self._watch(scope, send, key))

    def _refusal(self, key: str) -> tuple[str, int] | None:
        """(message, retry-after seconds) when the client must be refused now."""
        now = time.time()
        locked = self._locked_until.get(key)
        if locked is not None:
            if locked > now:
                wait = max(1, math.ceil(locked - now))
                return f"too many failed authentications; retry in {wait} s", wait
            del self._locked_until[key]
        for item in self.items:
            if not self.strategy.hit(item, LIMIT_SCOPE, key):
                reset_at = self.strategy.get_window_stats(item, LIMIT_SCOPE, key).reset_time
                wait = max(1, math.ceil(reset_at - now))
                return f"rate limit exceeded ({item} per client); retry in {wait} s", wait
        return None

    def _docs_refused(self, scope: Scope) -> bool:
        path = scope["path"]
        if path.startswith(DATA_PAGES_PREFIX):
            token = self.policy.data_token
        elif is_docs_path(path):
            token = self.policy.docs_token
        else:
            return False
        return token is not None and not token_matches(bearer_token(scope["headers"]), token)

    def _failed(self, key: str) -> None:
        item = self.failure_item
        counted = self.strategy.hit(item, AUTH_SCOPE, key)
        if not counted or self.strategy.get_window_stats(item, AUTH_SCOPE, key).remaining <= 0:
            self._locked_until[key] = time.time() + self.policy.lockout_s

    def _watch(self, scope: Scope, send: Send, key: str) -> Send:
        """``send`` that records a failed authentication (401, or a handshake closed 1008)."""
        accepted = False

        async def watched(message: Message) -> None:
            nonlocal accepted
            kind = message["type"]
            if kind == "websocket.accept":
                accepted = True
            failed = (kind == "http.response.start" and message["status"] == 401) or (
                kind == "websocket.close"
                and not accepted
                and message.get("code") == WS_POLICY_VIOLATION
            )
            if failed:
                self._failed(key)
            await send(message)

        return watched


#: Scope of the failed-authentication counter in the limiter's storage.
AUTH_SCOPE = "qbtc-auth"
WS_POLICY_VIOLATION = 1008
UNAUTHORIZED = "missing or invalid bearer token: send 'Authorization: Bearer <token>'"


async def _deny(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, retry: int | None
) -> None:
    """Answer ``status`` with an error body, for an HTTP request or a WebSocket handshake."""
    headers = {"Retry-After": str(retry)} if retry is not None else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    response = JSONResponse(error_body(detail), status_code=status, headers=headers)
    if scope["type"] == "http":
        await response(scope, receive, send)
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        # Starlette sends the response as a handshake denial (HTTP status, not a close code).
        await response(scope, receive, send)
        return
    await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION, "reason": detail[:120]})


class HeadMiddleware:
    """``HEAD`` answers wherever ``GET`` does (RFC 9110 9.3.2): same status and headers, no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headless(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headless)
