"""Validation of model answers: every failure is rejected with a one-line reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qbtc.signals.answer import AnswerRejectedError
from qbtc.signals.prompt import Prompt, validate_prompt_answer
from tests.signals.conftest import answer_payload


def check(prompt: Prompt, payload: Any, finish_reason: str | None = "STOP") -> Any:
    text = payload if isinstance(payload, str) or payload is None else json.dumps(payload)
    return validate_prompt_answer(prompt, text, finish_reason)


def rejected(prompt: Prompt, payload: Any, finish_reason: str | None = "STOP") -> str:
    with pytest.raises(AnswerRejectedError) as caught:
        check(prompt, payload, finish_reason)
    reason = caught.value.reason
    assert "\n" not in reason
    return reason


def test_a_good_answer_gives_one_view_per_symbol_sorted(prompt: Prompt) -> None:
    payload = answer_payload(prompt)
    payload["signals"].reverse()
    views = check(prompt, payload).signals
    assert [v.symbol for v in views] == list(prompt.universe)


@pytest.mark.parametrize(
    ("finish_reason", "expected"),
    [
        ("MAX_TOKENS", "finish_reason=MAX_TOKENS"),
        ("SAFETY", "finish_reason=SAFETY"),
        (None, "finish_reason=None"),
    ],
)
def test_unfinished_answers_are_rejected(
    prompt: Prompt, finish_reason: str | None, expected: str
) -> None:
    assert expected in rejected(prompt, answer_payload(prompt), finish_reason)


def test_empty_and_malformed_answers_are_rejected(prompt: Prompt) -> None:
    assert rejected(prompt, None) == "empty answer"
    assert rejected(prompt, "{'signals': []}").startswith("malformed JSON")
    assert "signals" in rejected(prompt, {"views": []})


def test_missing_and_duplicate_symbols_are_rejected(prompt: Prompt) -> None:
    payload = answer_payload(prompt)
    payload["signals"] = payload["signals"][1:]
    assert rejected(prompt, payload) == "no answer for symbol BTC/USDT:USDT"
    payload = answer_payload(prompt)
    payload["signals"].append(payload["signals"][0])
    assert rejected(prompt, payload) == "symbol BTC/USDT:USDT answered twice"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"strength": 1.5}, "signals.0.strength"),
        ({"strength": -0.3}, "direction long does not match strength -0.3"),
        ({"direction": "up"}, "signals.0.direction"),
        ({"horizon_minutes": 5}, "signals.0.horizon_minutes"),
        ({"cited": []}, "signals.0.cited"),
        ({"cited": [{"feature": "close", "value": 94120}]}, "cited 'close', which the prompt"),
        ({"cited": [{"feature": "zscore_240", "value": 1.52}]}, "cited zscore_240=1.52"),
    ],
)
def test_out_of_range_inconsistent_or_invented_values_are_rejected(
    prompt: Prompt, change: dict[str, Any], expected: str
) -> None:
    payload = answer_payload(prompt, **{"BTC/USDT:USDT": change})
    assert expected in rejected(prompt, payload)


def test_a_na_value_cannot_be_cited(prompt: Prompt) -> None:
    payload = answer_payload(
        prompt, **{"DOGE/USDT:USDT": {"cited": [{"feature": "rv_cc_60", "value": 0}]}}
    )
    assert "cited 'rv_cc_60', which the prompt does not show" in rejected(prompt, payload)
