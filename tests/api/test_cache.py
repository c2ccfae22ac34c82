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


def _wait_for_tokens_to_change(client, context, datasets, before, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while context.watcher.tokens(datasets) == before:
        assert time.monotonic() < deadline, "the watcher did not see the write"
        time.sleep(0.05)


def test_repeated_get_is_served_without_the_route_until_the_lake_changes(
    own_lake, data_dir, monkeypatch
):
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from qbtc.api import create_app
    from qbtc.api.context import ApiContext
    from qbtc.lake import write_dataset
    from tests.api.conftest import make_settings
    from tests.api.lakedata import frame, position

    app = create_app(make_settings(data_dir))
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.get("/api/positions?limit=5")
        context = app.state.context
        before = context.watcher.tokens(("positions",))

        def no_route(*args, **kwargs):
            raise AssertionError("the route ran")

        monkeypatch.setattr(ApiContext, "page", no_route)
        again = client.get("/api/positions?limit=5")
        assert again.status_code == 200
        assert again.content == first.content
        assert again.headers["content-type"] == "application/json"
        later = own_lake.last_bar + timedelta(minutes=1)
        row = position("BTC/USDT:USDT", 9.0, 100.0, later)
        write_dataset(own_lake.root, "positions", frame([row], "positions"))
        _wait_for_tokens_to_change(client, context, ("positions",), before)
        assert client.get("/api/positions?limit=5").status_code == 500  # the route ran


def test_cached_answers_still_need_the_token(shared_lake, shared_data_dir):
    from fastapi.testclient import TestClient

    from qbtc.api import create_app
    from tests.api.conftest import make_settings

    app = create_app(make_settings(shared_data_dir, api_token="tok"))
    with TestClient(app) as client:
        assert client.get("/api/runs", headers={"Authorization": "Bearer tok"}).status_code == 200
        assert client.get("/api/runs").status_code == 401
        assert client.get("/api/runs", headers={"Authorization": "Bearer no"}).status_code == 401
        assert client.get("/api/runs", headers={"Authorization": "Bearer tok"}).status_code == 200


def test_cache_is_bounded_by_bytes_not_only_entries():
    from qbtc.api.cache import ResponseCache

    cache: ResponseCache[bytes] = ResponseCache(max_entries=10_000, max_bytes=10_000)
    for index in range(1_000):
        cache.put(index, b"x" * 500)
    assert cache.bytes <= 10_000
    assert 0 < len(cache) < 20
    assert cache.get(999) == b"x" * 500  # the newest stays
    cache.put("huge", b"y" * 20_000)  # larger than the whole budget: not kept
    assert cache.get("huge") is None
    assert cache.bytes <= 10_000


def test_distinct_urls_cannot_grow_the_answer_caches_past_their_budget(
    shared_lake, shared_data_dir
):
    from fastapi.testclient import TestClient

    from qbtc.api import create_app
    from tests.api.conftest import make_settings

    app = create_app(make_settings(shared_data_dir, api_cache_mb=1, api_rate_limit="5000/minute"))
    with TestClient(app) as client:
        context = app.state.context
        sent = 0
        for limit in range(700, 1000):
            answer = client.get(f"/api/market/BTC/USDT:USDT/ohlcv?limit={limit}")
            assert answer.status_code == 200
            sent += len(answer.content)
        budget = 1024 * 1024
        assert sent > 20 * budget  # the client asked for far more than the budget
        assert context.answers.bytes <= budget
        assert context.cache.bytes <= budget
        assert context.values.bytes <= budget
