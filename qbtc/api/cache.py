"""A small thread-safe LRU of rendered responses with single-flight computation.

Keys include the lake tokens of the datasets a response reads (see
:mod:`qbtc.api.lakestate`), so an entry is never stale: a write changes the key, and old
entries simply age out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class ResponseCache(Generic[Value]):
    """LRU of at most ``max_entries`` values; concurrent misses of one key compute once."""

    def __init__(self, max_entries: int = 512) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
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
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

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
