"""Records of LLM calls (the ``llm_calls`` dataset) and their cost estimate.

Every request sent to a model, and every answer served from the cache, becomes one
:class:`LlmCall`: prompt, response, model, tokens, latency, status and an estimated cost. The
``replay`` provider answers only from these records.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import polars as pl

from qbtc.schemas import LLM_CALLS

CallStatus = Literal["ok", "cached", "rejected", "error"]

#: USD per million tokens (input, output), by model-name prefix; longest prefix wins.
#: Public list prices (paid tier, prompts up to 200k tokens); output includes thinking tokens.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gemini-3-pro": (2.00, 12.00),
    "gemini-3-flash": (0.50, 3.00),
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.0-flash-lite": (0.075, 0.30),
    "gemini-2.0-flash": (0.10, 0.40),
}
#: Used for a model missing from the table: the dearest known price, so a budget errs safe.
UNKNOWN_MODEL_PRICE = (2.00, 12.00)


def price_of(model: str) -> tuple[float, float]:
    """(input, output) USD per million tokens of ``model`` (``models/`` prefix ignored)."""
    name = model.removeprefix("models/")
    matches = [prefix for prefix in PRICES_PER_MILLION if name.startswith(prefix)]
    if not matches:
        return UNKNOWN_MODEL_PRICE
    return PRICES_PER_MILLION[max(matches, key=len)]


def estimate_cost(model: str, input_tokens: int, output_tokens: int) -> float:
    """Estimated cost of one call in USD."""
    price_in, price_out = price_of(model)
    return (input_tokens * price_in + output_tokens * price_out) / 1_000_000


@dataclass(frozen=True)
class LlmCall:
    """One LLM request and its outcome (one row of ``llm_calls``).

    ``status``: ``ok`` (answer accepted), ``cached`` (served from the cache, nothing paid),
    ``rejected`` (answer received but failed validation; ``error`` says why) or ``error``
    (no usable answer: HTTP error, timeout). ``latency_ms`` in milliseconds, ``cost_usd`` an
    estimate from :data:`PRICES_PER_MILLION`.
    """

    call_id: str
    run_id: str
    timestamp: datetime
    provider: str
    model: str
    prompt_hash: str
    prompt: str
    response: str | None
    status: CallStatus
    error: str | None
    input_tokens: int
    output_tokens: int
    latency_ms: float
    cost_usd: float


def new_call_id() -> str:
    """A fresh call id (each attempt is its own call, even within one run)."""
    return "lc" + uuid.uuid4().hex


def llm_calls_frame(calls: Sequence[LlmCall]) -> pl.DataFrame:
    """The ``llm_calls`` dataset rows of ``calls`` (schema order and types)."""
    rows = [{name: getattr(call, name) for name in LLM_CALLS.columns} for call in calls]
    if not rows:
        return LLM_CALLS.empty()
    return pl.DataFrame(rows, schema=LLM_CALLS.schema)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` masked (no-op without a secret)."""
    if not secret:
        return text
    return text.replace(secret, "**********")
