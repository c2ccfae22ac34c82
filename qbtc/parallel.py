"""Where the chunks of heavy work run: in this process, or elsewhere through a mapper.

Heavy stages (features over hundreds of symbols, Monte Carlo revaluation of a large book)
split their work into chunks whose composition is fixed by the stage, never by where they
run. A :class:`Mapper` runs a pure function over a list of argument tuples and returns the
results in order; :func:`map_in_process` is the default, and the flows supply one that runs
the chunks on a Dask cluster (``flows/dask.py``). The same chunks give bit-identical results
wherever they run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Mapper(Protocol):
    """Runs ``fn(*args)`` for every tuple of ``calls``; the results in the order of ``calls``."""

    def __call__(self, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> list[T]: ...


def map_in_process(fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> list[T]:
    """Run the chunks one after the other in this process."""
    return [fn(*args) for args in calls]
