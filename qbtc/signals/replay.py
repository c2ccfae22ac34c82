"""The ``replay`` provider: answers only from recorded ``llm_calls``, never from a model.

It builds the same prompt a ``gemini`` cycle would (same snapshot, same prompt hash), looks up
the recorded call for (prompt hash, model) and runs the recorded answer through the same
validation. A past run or a backtest thus reproduces exactly and for free. An accepted answer
(``ok`` or ``cached``) is preferred, newest first; when the question was only ever answered
by a failure, that failure is reproduced (rules fallback with the recorded reason). No
record at all is a :class:`~qbtc.signals.errors.ReplayMissingError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from qbtc.lake import scan_dataset
from qbtc.signals.errors import LlmError, ReplayMissingError
from qbtc.signals.llm import result_of_answer
from qbtc.signals.model import ProviderResult, SnapshotLike
from qbtc.signals.prompt import Prompt, snapshot_prompt, validate_prompt_answer
from qbtc.signals.rules import RulesProvider, fall_back

ACCEPTED = ("ok", "cached")


@dataclass(frozen=True)
class ReplayProvider:
    """Replays recorded answers of ``model`` from the lake at ``lake_dir``.

    ``source_run_id`` restricts the lookup to the calls of one past run.
    """

    lake_dir: Path
    model: str
    source_run_id: str | None = None
    rules: RulesProvider = field(default_factory=RulesProvider)

    @property
    def name(self) -> str:
        return "replay"

    def recorded_call(self, prompt: Prompt) -> dict[str, object]:
        """The recorded call that answers ``prompt`` (see the module docstring)."""
        calls = scan_dataset(self.lake_dir, "llm_calls").filter(
            (pl.col("prompt_hash") == prompt.prompt_hash) & (pl.col("model") == self.model)
        )
        if self.source_run_id is not None:
            calls = calls.filter(pl.col("run_id") == self.source_run_id)
        found = (
            calls.with_columns(pl.col("status").is_in(ACCEPTED).alias("_accepted"))
            .sort(["_accepted", "timestamp", "call_id"], descending=True)
            .head(1)
            .collect()
        )
        if found.height == 0:
            scope = f" in run {self.source_run_id}" if self.source_run_id else ""
            raise ReplayMissingError(
                f"no recorded LLM call{scope} for model {self.model} and prompt hash "
                f"{prompt.prompt_hash[:12]}: run the `gemini` provider on this feature snapshot "
                "first, or set QBTC_GEMINI_MODEL to the model that answered it"
            )
        return found.row(0, named=True)

    def propose(self, snapshot: SnapshotLike, *, run_id: str) -> ProviderResult:
        """Signals from the recorded answer (or its recorded failure)."""
        prompt = snapshot_prompt(snapshot, self.rules.symbols, self.rules.underlyings)
        call = self.recorded_call(prompt)
        try:
            if call["status"] not in ACCEPTED:
                raise LlmError(f"recorded call {call['call_id']} {call['status']}: {call['error']}")
            answer = validate_prompt_answer(prompt, call["response"], "STOP")  # type: ignore[arg-type]
        except LlmError as exc:
            return fall_back(self.rules, snapshot, run_id=run_id, reason=f"replay: {exc.reason}")
        return result_of_answer(
            answer, snapshot, provider=self.name, model=self.model, run_id=run_id
        )
