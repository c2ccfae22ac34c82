from __future__ import annotations

import json
import threading
import time

import pytest

from qbtc.statefile import exclusive_lock, write_json_atomic


def test_atomic_json_replaces_the_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "state" / "s.json"
    write_json_atomic(path, {"on": True})
    write_json_atomic(path, {"on": False, "reason": None})
    assert json.loads(path.read_text()) == {"on": False, "reason": None}
    assert [p.name for p in path.parent.iterdir()] == ["s.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "s.json"
    write_json_atomic(path, {"v": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"v": object()})
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_the_lock_is_exclusive(tmp_path):
    lock = tmp_path / "x.lock"
    inside: list[int] = []
    overlaps: list[int] = []

    def worker(k: int) -> None:
        for _ in range(20):
            with exclusive_lock(lock):
                if inside:
                    overlaps.append(k)
                inside.append(k)
                time.sleep(0.0005)
                inside.pop()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []
