"""The ``gemini`` provider: Gemini proposes, qbtc checks, records and falls back.

One cycle asks one question (all symbols in one prompt, see :mod:`qbtc.signals.prompt`):

1. the cache (model, prompt hash) answers if it can: nothing is paid twice;
2. otherwise the model is called with a timeout, retried with exponential backoff on 429,
   5xx, timeouts and connection errors (at most ``max_retries`` retries, ``Retry-After``
   honoured), within the run's token budget;
3. the answer is validated (:func:`qbtc.signals.answer.validate_answer`); an accepted answer
   is cached.

Every request is recorded as an :class:`~qbtc.signals.calls.LlmCall`. On any failure (no key,
budget spent, HTTP errors after retries, a rejected answer, anything unexpected) the cycle
falls back to the ``rules`` provider and every signal carries the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import SecretStr

from qbtc.signals.answer import AcceptedAnswer, AnswerRejectedError
from qbtc.signals.cache import CachedLlmAnswer, LlmCache
from qbtc.signals.calls import CallStatus, LlmCall, estimate_cost, new_call_id, redact
from qbtc.signals.errors import LlmError, ModelCallError
from qbtc.signals.llm import TokenBudget, estimate_tokens, result_of_answer
from qbtc.signals.model import ProviderResult, SnapshotLike
from qbtc.signals.prompt import Prompt, snapshot_prompt, validate_prompt_answer
from qbtc.signals.rules import RulesProvider, fall_back

if TYPE_CHECKING:
    from qbtc.signals.gemini_client import ModelReply

log = logging.getLogger(__name__)

#: Below this many output tokens left in the budget, the model is not called at all.
MIN_OUTPUT_TOKENS = 512


@dataclass(frozen=True)
class GeminiRetryPolicy:
    """Bounded retries: delay ``base_delay_s × 2^attempt`` capped at ``max_delay_s`` (s)."""

    max_retries: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (server's hint wins if longer)."""
        backoff = min(self.max_delay_s, self.base_delay_s * 2**attempt)
        if retry_after_s is not None:
            backoff = max(backoff, min(retry_after_s, self.max_delay_s))
        return backoff


@dataclass(frozen=True)
class GeminiConfig:
    """How to reach the model. ``timeout_s`` per request (seconds); ``token_budget`` per run.

    ``base_url`` points the SDK at a gateway or proxy (the REST paths stay
    ``/{api_version}/models/{model}:generateContent``).
    """

    model: str
    api_key: SecretStr | None
    base_url: str | None = None
    api_version: str = "v1beta"
    timeout_s: float = 30.0
    retry: GeminiRetryPolicy = GeminiRetryPolicy()
    token_budget: int = 200_000
    max_output_tokens: int = 8192

    def __repr__(self) -> str:  # the key never shows, even masked values stay out
        return f"GeminiConfig(model={self.model!r}, base_url={self.base_url!r})"


@dataclass
class GeminiProvider:
    """Signals from Gemini with validation, cache, budget, recording and rules fallback.

    One instance serves one run: its :class:`TokenBudget` counts that run's tokens.
    ``sleep`` is injectable so tests keep backoff tiny.
    """

    config: GeminiConfig
    cache: LlmCache | None = None
    rules: RulesProvider = field(default_factory=RulesProvider)
    sleep: Callable[[float], None] = time.sleep
    budget: TokenBudget = field(init=False)

    def __post_init__(self) -> None:
        self.budget = TokenBudget(self.config.token_budget)

    @property
    def name(self) -> str:
        return "gemini"

    def propose(self, snapshot: SnapshotLike, *, run_id: str) -> ProviderResult:
        """Model signals for the snapshot's universe, or the rules' with the reason why not."""
        prompt = snapshot_prompt(snapshot, self.rules.symbols, self.rules.underlyings)
        calls: list[LlmCall] = []
        try:
            answer = self._answer(prompt, run_id, calls)
        except LlmError as exc:
            reason = exc.reason
        except Exception as exc:  # any failure of the LLM path must not stop the cycle
            reason = redact(f"unexpected {type(exc).__name__}: {exc}", self._key())
        else:
            result = result_of_answer(
                answer, snapshot, provider=self.name, model=self.config.model, run_id=run_id
            )
            return replace(result, calls=tuple(calls))
        log.warning("gemini: falling back to rules: %s", reason)
        return fall_back(self.rules, snapshot, run_id=run_id, reason=reason, calls=calls)

    def _key(self) -> str | None:
        key = self.config.api_key
        return key.get_secret_value() if key is not None else None

    def _record(self, prompt: Prompt, run_id: str, status: CallStatus, **fields: object) -> LlmCall:
        values: dict[str, object] = {
            "response": None,
            "error": None,
            "input_tokens": 0,
            "output_tokens": 0,
            "latency_ms": 0.0,
            "cost_usd": 0.0,
            **fields,
        }
        return LlmCall(
            call_id=new_call_id(),
            run_id=run_id,
            timestamp=datetime.now(UTC),
            provider=self.name,
            model=self.config.model,
            prompt_hash=prompt.prompt_hash,
            prompt=prompt.recorded(),
            status=status,
            **values,  # type: ignore[arg-type]
        )

    def _validate(self, prompt: Prompt, text: str | None, finish: str | None) -> AcceptedAnswer:
        return validate_prompt_answer(prompt, text, finish)

    def _answer(self, prompt: Prompt, run_id: str, calls: list[LlmCall]) -> AcceptedAnswer:
        cached = self.cache.get(self.config.model, prompt.prompt_hash) if self.cache else None
        if cached is not None:
            views = self._validate(prompt, cached.response, cached.finish_reason)
            calls.append(self._record(prompt, run_id, "cached", response=cached.response))
            return views
        key = self._key()
        if not key:
            raise LlmError(
                "no Gemini API key: set QBTC_GEMINI_API_KEY (or the flow's Secret block)"
            )
        max_output = min(
            self.config.max_output_tokens,
            self.budget.remaining - estimate_tokens(prompt.system + prompt.text),
        )
        if max_output < MIN_OUTPUT_TOKENS:
            raise LlmError(
                f"token budget exhausted: {self.budget.spent} of {self.budget.limit} tokens "
                "spent this run (raise QBTC_LLM_TOKEN_BUDGET)"
            )
        return self._call_with_retries(prompt, run_id, calls, key, max_output)

    def _call_with_retries(
        self, prompt: Prompt, run_id: str, calls: list[LlmCall], key: str, max_output: int
    ) -> AcceptedAnswer:
        from qbtc.signals import gemini_client  # the SDK takes seconds to import

        retry = self.config.retry
        with gemini_client.open_client(
            key,
            base_url=self.config.base_url,
            timeout_s=self.config.timeout_s,
            api_version=self.config.api_version,
        ) as client:
            for attempt in range(retry.max_retries + 1):
                started = time.perf_counter()
                try:
                    reply = gemini_client.generate(
                        client,
                        self.config.model,
                        prompt,
                        max_output_tokens=max_output,
                        api_key=key,
                        timeout_s=self.config.timeout_s,
                    )
                except ModelCallError as exc:
                    latency = (time.perf_counter() - started) * 1000
                    calls.append(
                        self._record(prompt, run_id, "error", error=exc.reason, latency_ms=latency)
                    )
                    if not exc.retryable or attempt == retry.max_retries:
                        attempts = attempt + 1
                        raise LlmError(
                            f"Gemini call failed after {attempts} attempt(s): {exc.reason}"
                        ) from None
                    self.sleep(retry.delay(attempt, exc.retry_after_s))
                    continue
                latency = (time.perf_counter() - started) * 1000
                return self._accept(prompt, run_id, calls, reply, latency)
        raise AssertionError("unreachable")  # pragma: no cover

    def _accept(
        self,
        prompt: Prompt,
        run_id: str,
        calls: list[LlmCall],
        reply: ModelReply,
        latency_ms: float,
    ) -> AcceptedAnswer:
        self.budget.charge(reply.input_tokens + reply.output_tokens)
        usage = {
            "response": reply.text,
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "latency_ms": latency_ms,
            "cost_usd": estimate_cost(self.config.model, reply.input_tokens, reply.output_tokens),
        }
        try:
            views = self._validate(prompt, reply.text, reply.finish_reason)
        except AnswerRejectedError as exc:
            calls.append(self._record(prompt, run_id, "rejected", error=exc.reason, **usage))
            raise
        calls.append(self._record(prompt, run_id, "ok", **usage))
        if self.cache is not None and reply.text is not None:
            entry = CachedLlmAnswer(
                model=self.config.model,
                prompt_hash=prompt.prompt_hash,
                response=reply.text,
                finish_reason=reply.finish_reason or "",
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
            )
            try:
                self.cache.put(entry)
            except OSError as exc:  # a full disk must not throw away a paid, valid answer
                log.warning("gemini: answer not cached: %s", exc)
        return views
