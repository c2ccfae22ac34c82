"""The (model, prompt hash) answer cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbtc.signals.cache import CachedLlmAnswer, LlmCache

HASH = "ab" * 32


def entry(model: str = "gemini-3-flash-preview", prompt_hash: str = HASH) -> CachedLlmAnswer:
    return CachedLlmAnswer(model, prompt_hash, '{"signals": []}', "STOP", 10, 5)


def test_round_trip_and_miss(tmp_path: Path) -> None:
    cache = LlmCache.in_state_dir(tmp_path)
    assert cache.get("gemini-3-flash-preview", HASH) is None
    path = cache.put(entry())
    assert path == tmp_path / "llm_cache" / "gemini-3-flash-preview" / f"{HASH}.json"
    assert cache.get("gemini-3-flash-preview", HASH) == entry()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_entries_are_keyed_by_model_too(tmp_path: Path) -> None:
    cache = LlmCache(tmp_path)
    cache.put(entry())
    assert cache.get("gemini-2.5-flash", HASH) is None


def test_unreadable_entry_is_a_miss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = LlmCache(tmp_path)
    path = cache.put(entry())
    path.write_text("{not json", encoding="utf-8")
    assert cache.get("gemini-3-flash-preview", HASH) is None
    assert "unreadable LLM cache entry" in caplog.text


def test_a_bad_hash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        LlmCache(tmp_path).get("m", "../../etc/passwd")
