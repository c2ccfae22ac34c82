"""Caches of rendered answers, keyed on the lake state they were computed from.

:class:`ResponseCache` is a small thread-safe LRU with single-flight computation; keys
include the lake tokens of the datasets an answer reads (see :mod:`qbtc.api.lakestate`), so
an entry is never stale: a write changes the key, and old entries age out.
:class:`HttpCacheMiddleware` serves a repeated GET of the same URL straight from it.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import polars as pl
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from qbtc.api.security import bearer_token, token_matches

Value = TypeVar("Value")


#: Default byte budget of one cache (answers, rendered bodies, stream values).
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


def approximate_size(value: Any) -> int:
    """Bytes a cached value holds, roughly: bodies exactly, models by their JSON size.

    Deep enough for what the API caches (bytes, models, lists and tuples of them, frames);
    the point is a budget that grows with what a client can make the server keep.
    """
    if isinstance(value, bytes | str):
        return len(value) + 64
    if isinstance(value, CachedResponse):
        return len(value.body) + 64 + 32 * len(value.datasets)
    if isinstance(value, BaseModel):
        return len(value.model_dump_json()) + 64
    if isinstance(value, pl.DataFrame):
        return int(value.estimated_size()) + 64
    if isinstance(value, list | tuple):
        return 64 + sum(approximate_size(item) + 8 for item in value)
    if isinstance(value, dict):
        return 64 + sum(approximate_size(k) + approximate_size(v) for k, v in value.items())
    return sys.getsizeof(value)


class ResponseCache(Generic[Value]):
    """LRU bounded by ``max_entries`` values and ``max_bytes`` (:func:`approximate_size`).

    Concurrent misses of one key compute once. A value larger than the whole budget is
    returned but not kept.
    """

    def __init__(self, max_entries: int = 512, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._sizes: dict[Hashable, int] = {}
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Value | None:
        """The cached value, or None (values are never None)."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: Hashable, value: Value) -> None:
        size = approximate_size(value) + approximate_size(key)
        with self._lock:
            self._drop(key)
            if size > self.max_bytes:
                return
            self._entries[key] = value
            self._sizes[key] = size
            self.bytes += size
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        if key in self._entries:
            del self._entries[key]
            self.bytes -= self._sizes.pop(key)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The cached value, computing and storing it on a miss (blocking; run in a thread)."""
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        try:
            with flight:
                value = self.get(key)
                if value is None:
                    with self._lock:
                        self.misses += 1
                    value = compute()
                    self.put(key, value)
                return value
        finally:
            with self._lock:
                self._flights.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class CachedResponse:
    """A rendered GET answer and the lake state it was computed from."""

    datasets: tuple[str, ...]
    tokens: tuple[Any, ...]
    status: int
    body: bytes

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
        ]


class HttpCacheMiddleware:
    """Answer a GET from the cache when the same URL was answered on the same lake state.

    Sits inside the rate limit and outside routing: a hit skips routing and parameter
    parsing, which dominate the cost of a cached answer. Only answers registered by
    :meth:`qbtc.api.context.ApiContext.respond` are cached (never health or metrics), and
    with a token configured only requests carrying it are served from here (the others
    reach the route, which answers 401).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = getattr(scope["app"].state, "context", None) if "app" in scope else None
        if scope["type"] != "http" or scope["method"] != "GET" or context is None:
            await self.app(scope, receive, send)
            return
        answer = context.answers.get((scope["path"], scope["query_string"]))
        if answer is None or context.watcher.tokens(answer.datasets) != answer.tokens:
            await self.app(scope, receive, send)
            return
        token = scope["app"].state.api_token
        if token is not None and not token_matches(bearer_token(scope["headers"]), token):
            await self.app(scope, receive, send)
            return
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": answer.body})
