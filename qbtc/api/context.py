"""What every route reads through: one LakeReader, the lake watcher and the response cache.

Built once in the app's lifespan (:func:`qbtc.api.app.create_app`) and stored on
``app.state.context``. Routes describe a response as a cache key, the datasets it reads and
a blocking ``build`` function; :meth:`ApiContext.respond` answers from the cache when the
datasets did not change, and otherwise runs ``build`` in a worker thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import polars as pl
from fastapi import Request, WebSocket
from fastapi.responses import Response
from pydantic import BaseModel

from qbtc.api.cache import DEFAULT_MAX_BYTES, CachedResponse, ResponseCache
from qbtc.api.lakestate import LakeWatcher
from qbtc.api.models import ErrorResponse, Page
from qbtc.lake import LakeReader

Model = TypeVar("Model", bound=BaseModel)
#: A rendered answer: HTTP status and JSON body.
Rendered = tuple[int, bytes]
#: Columns a route adds to a page of rows (blocking; the same rows, in the same order).
Derive = Callable[[pl.DataFrame], pl.DataFrame]


class NotFoundError(LookupError):
    """Raised inside a ``build`` function to answer 404 with a clear message."""


@cache
def api_sql(name: str) -> str:
    """SQL of ``qbtc/api/sql/<name>.sql`` (values go in as named parameters)."""
    return resources.files("qbtc.api").joinpath("sql", f"{name}.sql").read_text("utf-8")


def clean_row(row: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinities become None (JSON has no such numbers)."""
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in row.items()
    }


def to_models(frame: pl.DataFrame, model: type[Model]) -> list[Model]:
    return [model.model_validate(clean_row(row)) for row in frame.iter_rows(named=True)]


@dataclass
class ApiContext:
    """Shared read side of the API (one per app)."""

    lake_dir: Path
    state_dir: Path
    timeframe: str
    reader: LakeReader
    watcher: LakeWatcher
    cache_bytes: int = DEFAULT_MAX_BYTES
    max_data_lag_s: float = 900.0
    cache: ResponseCache[Rendered] = field(init=False)
    values: ResponseCache[tuple[Any]] = field(init=False)
    answers: ResponseCache[CachedResponse] = field(init=False)

    def __post_init__(self) -> None:
        # Each cache is bounded by bytes, not only by entries: distinct URLs or large stream
        # frames cannot grow the process without limit.
        self.cache = ResponseCache(max_bytes=self.cache_bytes)
        self.values = ResponseCache(max_bytes=self.cache_bytes)
        self.answers = ResponseCache(max_entries=2048, max_bytes=self.cache_bytes)

    def query(self, name: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """Run the named API query (blocking)."""
        return self.reader.query(api_sql(name), params)

    def query_sql(self, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """Run SQL composed from named queries and fixed identifiers only (blocking)."""
        return self.reader.query(sql, params)

    def cached(self, key: Hashable, datasets: Iterable[str], build: Callable[[], Any]) -> Any:
        """Blocking, cached ``build()`` keyed on ``key`` and the datasets' tokens."""
        full_key = (key, self.watcher.tokens(tuple(datasets)))
        return self.values.get_or_compute(full_key, lambda: (build(),))[0]

    def page(
        self,
        name: str,
        params: dict[str, Any],
        *,
        order: str,
        limit: int,
        offset: int,
        model: type[Model],
        derive: Derive | None = None,
    ) -> Page[Model]:
        """One page of the named query's rows ordered by ``order`` (a fixed clause), with the
        columns ``derive`` adds to the page's rows (fields not computed in SQL)."""
        base = api_sql(name)
        total = int(self.query_sql(f"SELECT count(*) FROM ({base})", params).item())
        frame = self.query_sql(
            f"SELECT * FROM ({base}) ORDER BY {order} LIMIT $limit OFFSET $offset",
            {**params, "limit": limit, "offset": offset},
        )
        if derive is not None:
            frame = derive(frame)
        items = to_models(frame, model)
        after = offset + len(items)
        following = after if items and after < total else None
        return Page[model](  # type: ignore[valid-type]
            items=items, total=total, limit=limit, offset=offset, next_offset=following
        )

    async def respond_page(
        self,
        request: Request,
        name: str,
        params: dict[str, Any],
        *,
        order: str,
        limit: int,
        offset: int,
        model: type[Model],
        datasets: tuple[str, ...],
        derive: Derive | None = None,
    ) -> Response:
        """:meth:`respond` with one :meth:`page` of the named query (cached on its inputs)."""

        def build() -> Page[Model]:
            return self.page(
                name, params, order=order, limit=limit, offset=offset, model=model, derive=derive
            )

        key = (name, tuple(sorted(params.items())), limit, offset)
        return await self.respond(request, key, datasets, build)

    async def respond(
        self,
        request: Request,
        key: Hashable,
        datasets: tuple[str, ...],
        build: Callable[[], BaseModel],
    ) -> Response:
        """JSON response of ``build()``, from the cache unless ``datasets`` changed.

        ``build`` runs in a worker thread; raising :class:`NotFoundError` answers 404 (and
        that answer is cached like any other). The answer is also registered under the
        request's URL for :class:`~qbtc.api.cache.HttpCacheMiddleware`.
        """
        tokens = self.watcher.tokens(datasets)
        full_key = (key, tokens)
        rendered = self.cache.get(full_key)
        if rendered is None:
            rendered = await anyio.to_thread.run_sync(
                self.cache.get_or_compute, full_key, lambda: _render(build)
            )
        status, body = rendered
        url = (request.scope["path"], request.scope["query_string"])
        self.answers.put(url, CachedResponse(datasets, tokens, status, body))
        return Response(body, status_code=status, media_type="application/json")


def _render(build: Callable[[], BaseModel]) -> Rendered:
    try:
        return 200, build().model_dump_json().encode()
    except NotFoundError as exc:
        return 404, ErrorResponse(detail=str(exc)).model_dump_json(exclude_none=True).encode()


def get_context(connection: Request | WebSocket) -> ApiContext:
    context: ApiContext = connection.app.state.context
    return context
