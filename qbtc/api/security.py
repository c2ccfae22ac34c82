"""Access control: optional read-only bearer token, per-client rate limit, closed CORS."""

from __future__ import annotations

import secrets

from fastapi import Depends, HTTPException, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import parse_many
from pydantic import SecretStr
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address
from starlette.types import ASGIApp, Receive, Scope, Send

from qbtc.api.errors import rate_limited

_bearer = HTTPBearer(auto_error=False, description="Read-only token (QBTC_API_TOKEN).")


def token_matches(given: str | None, expected: SecretStr) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    if not given:
        return False
    return secrets.compare_digest(given.encode(), expected.get_secret_value().encode())


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


def websocket_authorized(websocket: WebSocket, token: SecretStr | None) -> bool:
    """True when no token is configured or the handshake carries the right bearer token."""
    if token is None:
        return True
    scheme, _, given = websocket.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token_matches(given.strip(), token)


def make_limiter(rate: str) -> Limiter:
    """A per-client (remote address) limit shared by every route, in ``limits`` syntax.

    Raises ``ValueError`` with the setting's name when ``rate`` cannot be parsed.
    """
    try:
        parse_many(rate)
    except ValueError:
        raise ValueError(
            f"invalid QBTC_API_RATE_LIMIT {rate!r}: use the limits syntax, e.g. '600/minute'"
        ) from None
    return Limiter(
        key_func=get_remote_address,
        application_limits=[rate],
        storage_uri="memory://",
        strategy="fixed-window",
        headers_enabled=False,
    )


class RateLimitMiddleware:
    """Apply the limiter's per-client limit to every HTTP request, before routing.

    slowapi's own middlewares look the route up first and silently skip routes added with
    ``include_router`` on FastAPI >= 0.137 (laurentS/slowapi#281), so the check is called
    here directly; the limit is application-wide, so no route lookup is needed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        limiter: Limiter = scope["app"].state.limiter
        try:
            limiter._check_request_limit(request, None, True)
        except RateLimitExceeded as exc:
            response = await rate_limited(request, exc)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
