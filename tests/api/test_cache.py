from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from qbtc.api.cache import ResponseCache


def test_least_recently_used_entries_are_evicted():
    cache: ResponseCache[int] = ResponseCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert cache.get("b") is None
    assert [cache.get("a"), cache.get("c")] == [1, 3]
    assert len(cache) == 2


def test_concurrent_misses_of_one_key_compute_once():
    cache: ResponseCache[int] = ResponseCache()
    calls = []
    gate = threading.Event()

    def compute() -> int:
        calls.append(1)
        gate.wait(5)
        return 42

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(cache.get_or_compute, "k", compute) for _ in range(8)]
        time.sleep(0.1)
        gate.set()
        results = [f.result(timeout=5) for f in futures]
    assert results == [42] * 8
    assert len(calls) == 1
    assert cache.misses == 1


def test_a_failed_computation_is_not_cached():
    cache: ResponseCache[int] = ResponseCache()

    def boom() -> int:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", boom)
    assert cache.get_or_compute("k", lambda: 7) == 7


def test_capacity_must_be_positive():
    with pytest.raises(ValueError, match="max_entries"):
        ResponseCache(max_entries=0)
