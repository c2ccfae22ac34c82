"""Stage progress of a cycle, for whoever started it in this process (``qbtc run``'s display).

The pipeline reports each stage as it starts and ends; a listener installed with
:func:`stage_progress` around the flow call receives them (nothing else does: served and
work-pool runs have no listener). A listener that fails never fails the cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger(__name__)

ProgressKind = Literal["cycle", "start", "done", "failed"]


@dataclass(frozen=True)
class StageProgress:
    """One step: ``cycle`` (the run began; ``detail`` is its run id), a stage's ``start``,
    ``done`` or ``failed`` (``seconds`` it took, ``detail`` a short fact or the reason)."""

    kind: ProgressKind
    stage: str
    seconds: float | None = None
    detail: str | None = None


Listener = Callable[[StageProgress], None]
_LISTENER: ContextVar[Listener | None] = ContextVar("qbtc_stage_progress", default=None)


@contextmanager
def stage_progress(listener: Listener) -> Iterator[None]:
    """Send the progress of cycles run inside the block to ``listener``."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def report_progress(
    kind: ProgressKind, stage: str, seconds: float | None = None, detail: str | None = None
) -> None:
    """Tell the listener, if any, about one step of the cycle."""
    listener = _LISTENER.get()
    if listener is None:
        return
    try:
        listener(StageProgress(kind, stage, seconds, detail))
    except Exception:  # a display must never fail the cycle
        logger.debug("progress listener failed", exc_info=True)
