"""Flow-run heartbeats that stop as soon as the cycle ends.

Prefect emits ``prefect.flow-run.heartbeat`` events while a flow run is alive, and a
"zombie flow" automation marks a run Crashed when they stop without a final state. Prefect
3.8 sends them from a thread that sleeps in one-second steps and joins that thread when the
run ends, which adds up to a second to every flow run: on a cycle of a few seconds that is
most of Prefect's cost.

``qbtc run`` therefore runs its cycle inside :func:`engine_heartbeats_off` (Prefect's own
heartbeat off for that call only), and the pipeline flow wraps its body in
:func:`flow_run_heartbeats`, which sends the same events at the same interval from a thread
that stops at once. Runs started any other way (served deployments, a work pool) keep
Prefect's heartbeat, and :func:`flow_run_heartbeats` does nothing there.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import __version__ as prefect_version
from prefect.context import FlowRunContext
from prefect.events import RelatedResource, emit_event
from prefect.events.related import tags_as_related_resources
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings
from prefect.settings.context import temporary_settings

HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"
#: Prefect refuses heartbeat intervals below this (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``).
MIN_INTERVAL_S = 30

logger = logging.getLogger(__name__)

_INTERVAL: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "qbtc_heartbeat_seconds", default=None
)


@contextmanager
def engine_heartbeats_off() -> Iterator[None]:
    """Run flows inside with Prefect's heartbeat thread off; the pipeline sends its own.

    The configured interval (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``, 180 s by default) is
    kept for :func:`flow_run_heartbeats`.
    """
    token = _INTERVAL.set(get_current_settings().flows.heartbeat_frequency)
    try:
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield
    finally:
        _INTERVAL.reset(token)


def heartbeat_event(context: FlowRunContext) -> tuple[dict[str, str], list[RelatedResource]]:
    """The resource and related resources of a heartbeat, as Prefect's engine sends them."""
    run = context.flow_run
    assert run is not None
    resource = {
        "prefect.resource.id": f"prefect.flow-run.{run.id}",
        "prefect.resource.name": run.name or "",
        "prefect.version": prefect_version,
    }
    related: list[RelatedResource] = []
    if run.flow_id:
        related.append(
            RelatedResource.model_validate(
                {
                    "prefect.resource.id": f"prefect.flow.{run.flow_id}",
                    "prefect.resource.role": "flow",
                    "prefect.resource.name": context.flow.name if context.flow else "",
                }
            )
        )
    if run.deployment_id:
        related.append(
            RelatedResource.model_validate(
                {
                    "prefect.resource.id": f"prefect.deployment.{run.deployment_id}",
                    "prefect.resource.role": "deployment",
                }
            )
        )
    related += tags_as_related_resources(set(run.tags or []))
    return resource, related


@contextmanager
def flow_run_heartbeats() -> Iterator[threading.Thread | None]:
    """Send this flow run's heartbeats while the block runs, when the engine does not.

    Yields the sending thread, or None when Prefect's own heartbeat is on, heartbeats are
    off altogether, or there is no flow run.
    """
    interval = _INTERVAL.get()
    context = FlowRunContext.get()
    engine_sends = get_current_settings().flows.heartbeat_frequency is not None
    if interval is None or engine_sends or context is None or context.flow_run is None:
        yield None
        return
    resource, related = heartbeat_event(context)
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            try:
                emit_event(event=HEARTBEAT_EVENT, resource=resource, related=related)
            except Exception:  # a missed heartbeat must never fail the cycle
                logger.debug("heartbeat not sent", exc_info=True)
            if stop.wait(max(interval, MIN_INTERVAL_S)):
                return

    runner: Any = contextvars.copy_context().run  # the thread sees this run's settings
    thread = threading.Thread(target=runner, args=(beat,), name="qbtc-heartbeat", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=2)
