"""A file cache of accepted model answers, keyed by (model, prompt hash).

The same question to the same model is never paid twice: a re-run of a cycle, a retried task
or a later bar whose rounded inputs are identical reads the stored answer. Only answers that
passed validation are stored. One JSON file per entry under
``<data_dir>/state/llm_cache/<model>/<prompt hash>.json``, written atomically.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from qbtc.statefile import write_json_atomic

log = logging.getLogger(__name__)

CACHE_DIR_NAME = "llm_cache"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CachedLlmAnswer:
    """A stored answer: the response text and what it cost when it was first paid."""

    model: str
    prompt_hash: str
    response: str
    finish_reason: str
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class LlmCache:
    """Answers stored under ``directory`` (usually ``<data_dir>/state/llm_cache``)."""

    directory: Path

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> LlmCache:
        return cls(state_dir / CACHE_DIR_NAME)

    def path_of(self, model: str, prompt_hash: str) -> Path:
        if not _HASH.match(prompt_hash):
            raise ValueError(f"not a SHA-256 hex prompt hash: {prompt_hash!r}")
        return self.directory / _UNSAFE.sub("_", model) / f"{prompt_hash}.json"

    def get(self, model: str, prompt_hash: str) -> CachedLlmAnswer | None:
        """The stored answer, or None (a missing or unreadable entry is a miss)."""
        path = self.path_of(model, prompt_hash)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entry = CachedLlmAnswer(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring unreadable LLM cache entry %s: %s", path, exc)
            return None
        if entry.model != model or entry.prompt_hash != prompt_hash:
            log.warning("ignoring LLM cache entry %s stored under another key", path)
            return None
        return entry

    def put(self, entry: CachedLlmAnswer) -> Path:
        """Store ``entry`` atomically (a reader never sees half a file)."""
        path = self.path_of(entry.model, entry.prompt_hash)
        write_json_atomic(path, asdict(entry))
        return path
