"""Helpers shared by flows: settings, run ids, artifacts. Thin glue over Prefect."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from prefect import runtime
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.utilities.annotations import opaque

from flows.api_guard import call_prefect_api
from qbtc.config import Settings, load_settings

T = TypeVar("T")


def whole(value: T) -> T:
    """``value`` as a task argument that Prefect hands over without walking through it.

    Prefect visits every element of a task's arguments, looking for futures and upstream
    results: a risk report holding a 200 x 200 correlation table costs seconds of that per
    task call. Wrapped in ``opaque``, the task gets the very object, unvisited.
    """
    return cast(T, opaque(value))


def flow_settings(**overrides: Any) -> Settings:
    """Settings for a flow run: env/.env plus the flow's explicit parameters."""
    return load_settings(**overrides)


_CYCLE_RUN_ID: ContextVar[str | None] = ContextVar("qbtc_cycle_run_id", default=None)


@contextmanager
def cycle_run(run_id: str) -> Iterator[None]:
    """Make ``run_id`` the run id of every stage flow called inside (one id per cycle).

    The pipeline runs each stage as a subflow; their outputs (signals, intents, order
    events) then all carry the pipeline's run id, so an order traces back to its cycle.
    """
    token = _CYCLE_RUN_ID.set(run_id)
    try:
        yield
    finally:
        _CYCLE_RUN_ID.reset(token)


def current_run_id() -> str:
    """The cycle's run id inside a pipeline, else the Prefect flow run id, else a uuid."""
    cycle = _CYCLE_RUN_ID.get()
    if cycle:
        return cycle
    run_id = runtime.flow_run.id
    return str(run_id) if run_id else uuid.uuid4().hex


def artifact_key(text: str) -> str:
    """A valid artifact key (lowercase letters, digits and dashes only)."""
    key = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return key or "qbtc"


def publish_table(key: str, rows: Sequence[Mapping[str, Any]], description: str) -> None:
    """A table artifact in the Prefect UI (no-op outside a flow run)."""
    if runtime.flow_run.id is None:
        return
    clean = [{k: _cell(v) for k, v in row.items()} for row in rows]
    call_prefect_api(
        f"artifact {key}",
        lambda: create_table_artifact(key=artifact_key(key), table=clean, description=description),
    )


def publish_markdown(key: str, markdown: str, description: str) -> None:
    """A markdown artifact in the Prefect UI (no-op outside a flow run)."""
    if runtime.flow_run.id is None:
        return
    call_prefect_api(
        f"artifact {key}",
        lambda: create_markdown_artifact(
            key=artifact_key(key), markdown=markdown, description=description
        ),
    )


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if value is None or isinstance(value, (int, str, bool)):
        return value
    return str(value)
