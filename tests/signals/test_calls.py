"""LLM call records and their cost estimate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qbtc.schemas import LLM_CALLS
from qbtc.signals.calls import (
    UNKNOWN_MODEL_PRICE,
    LlmCall,
    estimate_cost,
    llm_calls_frame,
    price_of,
    redact,
)


def test_cost_golden_values() -> None:
    assert estimate_cost("gemini-3-flash-preview", 1_000_000, 0) == pytest.approx(0.50)
    assert estimate_cost("gemini-3-flash-preview", 1000, 2000) == pytest.approx(0.0065)
    assert estimate_cost("models/gemini-2.5-flash", 0, 1_000_000) == pytest.approx(2.50)


def test_longest_prefix_wins_and_unknown_models_are_priced_high() -> None:
    assert price_of("gemini-2.5-flash-lite-001") == (0.10, 0.40)
    assert price_of("gemini-2.5-flash-002") == (0.30, 2.50)
    assert price_of("someone-else-model") == UNKNOWN_MODEL_PRICE


def test_frame_matches_the_schema() -> None:
    call = LlmCall(
        "lc1",
        "r",
        datetime(2026, 1, 5, tzinfo=UTC),
        "gemini",
        "m",
        "h",
        "p",
        None,
        "error",
        "HTTP 500",
        0,
        0,
        12.5,
        0.0,
    )
    frame = llm_calls_frame([call])
    assert frame.schema == LLM_CALLS.schema
    assert frame.row(0, named=True)["error"] == "HTTP 500"
    assert llm_calls_frame([]).schema == LLM_CALLS.schema


def test_redact_masks_every_occurrence() -> None:
    assert redact("key k1 and k1", "k1") == "key ********** and **********"
    assert redact("nothing", None) == "nothing"
