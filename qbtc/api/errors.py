"""Error answers: one clear JSON message, never a stack trace, a file path or a setting.

Every error body is an :class:`~qbtc.api.models.ErrorResponse`. :func:`responses` builds
the ``responses=`` argument of a route so the OpenAPI spec lists every status it can answer.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from qbtc.api.models import ErrorResponse, FieldError

log = logging.getLogger(__name__)

_DESCRIPTIONS = {
    401: "Missing or invalid bearer token (only when QBTC_API_TOKEN is set).",
    404: "Unknown symbol or underlying.",
    422: "Invalid parameter; the message says which and what is expected.",
    429: "Too many requests from this client (QBTC_API_RATE_LIMIT); see Retry-After.",
}

#: Hints for parameters whose pattern errors are otherwise cryptic.
_HINTS = {
    "symbol": "expected an upper-case ccxt perpetual symbol such as BTC/USDT:USDT",
    "underlying": "expected an upper-case coin such as BTC",
    "portfolio_id": "expected letters, digits and _.:- (at most 64)",
    "run_id": "expected letters, digits and _.:- (at most 128)",
    "flow": "expected letters, digits and _.:- (at most 64)",
    "status": "expected letters, digits and _.:- (at most 64)",
    "method": "expected letters, digits and _.:- (at most 64)",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each code with the error model and a description."""
    return {code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}


def error_body(detail: str, errors: list[FieldError] | None = None) -> dict[str, Any]:
    return ErrorResponse(detail=detail, errors=errors).model_dump(mode="json", exclude_none=True)


def _field_error(error: dict[str, Any]) -> FieldError:
    location = ".".join(str(part) for part in error.get("loc", ()))
    name = str(error["loc"][-1]) if error.get("loc") else ""
    message = str(error.get("msg", "invalid value"))
    if error.get("type") == "string_pattern_mismatch" and name in _HINTS:
        message = _HINTS[name]
    return FieldError(location=location, message=message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(error) for error in exc.errors()]
    summary = "; ".join(f"{e.location}: {e.message}" for e in errors[:3]) or "invalid request"
    return JSONResponse(error_body(f"invalid request: {summary}", errors), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    return JSONResponse(error_body(detail), status_code=exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = error_body("internal error; it was logged on the server. Retry, or report it.")
    return JSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error to one of the handlers above."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
