"""Heavy chunks on Dask through prefect-dask's ``DaskTaskRunner``.

``QBTC_DASK_ADDRESS`` names an existing cluster (a ``dask scheduler`` and its ``dask worker``
processes, which need the same code, the same Prefect API URL and the lake on shared
storage); ``QBTC_DASK_LOCAL_WORKERS=N`` starts a local cluster of N worker processes for the
cycle; with neither, heavy stages run in the flow's own process. Each chunk runs as a Prefect
task on a Dask worker (its task run shows in the UI under the stage), and the stage combines
the chunks' results exactly as the in-process path does (:mod:`qbtc.parallel`).

One cluster serves a whole cycle: :func:`heavy_mapper` opened by the pipeline is reused by
the stages inside it, so a local cluster starts once per cycle, not once per stage. A
backtest sweep runs its parameter sets there the same way, one Prefect task run per set.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from qbtc.config import Settings
from qbtc.parallel import Mapper

T = TypeVar("T")
_ACTIVE: ContextVar[Mapper | None] = ContextVar("qbtc_heavy_mapper", default=None)


def dask_task_runner(settings: Settings) -> DaskTaskRunner | None:
    """The task runner the settings ask for: a cluster's address, a local cluster, or None."""
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    if settings.dask_local_workers:
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": settings.dask_local_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    return None


class DaskMapper:
    """A :class:`~qbtc.parallel.Mapper` that submits each chunk as a Prefect task to Dask."""

    def __init__(self, runner: DaskTaskRunner) -> None:
        self.runner = runner
        self._tasks: dict[Callable[..., Any], Task[..., Any]] = {}

    def _task(self, fn: Callable[..., T]) -> Task[..., T]:
        if isinstance(fn, Task):  # a flow's own task (a sweep's set) runs under its name
            return fn
        if fn not in self._tasks:
            decorate = task(name=f"{fn.__name__}-chunk", cache_policy=NO_CACHE)
            self._tasks[fn] = decorate(fn)
        return self._tasks[fn]

    def __call__(self, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> list[T]:
        chunk_task = self._task(fn)
        names = list(inspect.signature(chunk_task.fn).parameters)
        futures = [
            self.runner.submit(chunk_task, parameters=dict(zip(names, args, strict=True)))
            for args in calls
        ]
        return [future.result() for future in futures]


@contextmanager
def heavy_mapper(settings: Settings) -> Iterator[Mapper | None]:
    """The mapper for heavy chunks: the one already open (a cycle's), a new Dask one, or
    None (run in process) when no cluster is configured."""
    active = _ACTIVE.get()
    if active is not None:
        yield active
        return
    runner = dask_task_runner(settings)
    if runner is None:
        yield None
        return
    with runner, active_mapper(DaskMapper(runner)) as mapper:
        yield mapper


@contextmanager
def active_mapper(mapper: Mapper) -> Iterator[Mapper]:
    """Make ``mapper`` the one :func:`heavy_mapper` hands to the stages and flows called
    inside (a cluster opened once serves them all)."""
    token = _ACTIVE.set(mapper)
    try:
        yield mapper
    finally:
        _ACTIVE.reset(token)
