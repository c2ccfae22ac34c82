"""The `gemini` provider with the real google-genai client against a local stub server."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from qbtc.signals import GeminiConfig, GeminiProvider, LlmCache, RulesProvider
from qbtc.signals.calls import estimate_cost, llm_calls_frame
from qbtc.signals.model import ProviderResult
from qbtc.signals.prompt import Prompt
from tests.signals.conftest import API_KEY, GOOD_VIEWS, MODEL, answer_payload
from tests.signals.gemini_stub import GeminiStub, StubReply, answer, error
from tests.signals.snapshots import FixtureSnapshot

ConfigFactory = Callable[..., GeminiConfig]


def run(
    stub: GeminiStub,
    make_config: ConfigFactory,
    snapshot: FixtureSnapshot,
    cache_dir: Path | None = None,
    sleeps: list[float] | None = None,
    **overrides: object,
) -> ProviderResult:
    provider = GeminiProvider(
        make_config(stub.base_url, **overrides),
        cache=LlmCache(cache_dir) if cache_dir else None,
        sleep=(sleeps if sleeps is not None else []).append,
    )
    return provider.propose(snapshot, run_id="run-1")


def rules_view(snapshot: FixtureSnapshot) -> list[tuple[str, str, float, float]]:
    result = RulesProvider().propose(snapshot, run_id="x")
    return [(s.symbol, s.direction, s.strength, s.confidence) for s in result.signals]


def view_of(result: ProviderResult) -> list[tuple[str, str, float, float]]:
    return [(s.symbol, s.direction, s.strength, s.confidence) for s in result.signals]


def assert_fell_back(result: ProviderResult, snapshot: FixtureSnapshot, reason: str) -> None:
    assert result.provider == "rules"
    assert result.fallback_reason is not None
    assert reason in result.fallback_reason
    assert view_of(result) == rules_view(snapshot)
    assert {s.fallback_reason for s in result.signals} == {result.fallback_reason}


def test_good_answer_becomes_signals_and_one_recorded_call(
    snapshot: FixtureSnapshot, prompt: Prompt, good_text: str, make_config: ConfigFactory
) -> None:
    with GeminiStub([answer(good_text, prompt_tokens=900, output_tokens=300)]) as stub:
        result = run(stub, make_config, snapshot)
    assert result.provider == "gemini"
    assert result.model == MODEL
    assert result.fallback_reason is None
    got = {
        s.symbol: (s.direction, s.strength, s.confidence, s.horizon_minutes) for s in result.signals
    }
    assert got == GOOD_VIEWS
    btc = result.signals[0]
    assert btc.rationale == "BTC view from its z-score [cited: zscore_240=1.5]"
    assert btc.feature_snapshot == snapshot.snapshot_id
    (call,) = result.calls
    assert (call.status, call.input_tokens, call.output_tokens) == ("ok", 900, 300)
    assert call.cost_usd == pytest.approx(estimate_cost(MODEL, 900, 300))
    assert call.prompt_hash == prompt.prompt_hash
    assert call.response == good_text
    assert call.latency_ms > 0

    (request,) = stub.requests
    assert request.path == f"/v1beta/models/{MODEL}:generateContent"
    body = request.json()
    config = body["generationConfig"]
    assert config["temperature"] == 0
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) == {"signals", "vol_views"}
    assert body["contents"][0]["parts"][0]["text"] == prompt.text
    assert body["systemInstruction"]["parts"][0]["text"] == prompt.system


def test_malformed_json_falls_back_to_rules(
    snapshot: FixtureSnapshot, make_config: ConfigFactory
) -> None:
    with GeminiStub([answer('{"signals": [{"symbol": "BTC/USDT:USDT", ')]) as stub:
        result = run(stub, make_config, snapshot)
    assert_fell_back(result, snapshot, "malformed JSON")
    (call,) = result.calls
    assert call.status == "rejected"
    assert call.error == result.fallback_reason
    assert stub.hits == 1  # a rejected answer is not retried


def test_unknown_symbol_is_rejected(
    snapshot: FixtureSnapshot, prompt: Prompt, make_config: ConfigFactory
) -> None:
    payload = answer_payload(prompt, **{"SOL/USDT:USDT": {"symbol": "SHIB/USDT:USDT"}})
    with GeminiStub([answer(json.dumps(payload))]) as stub:
        result = run(stub, make_config, snapshot)
    assert_fell_back(result, snapshot, "unknown symbol 'SHIB/USDT:USDT'")


def test_out_of_range_confidence_is_rejected(
    snapshot: FixtureSnapshot, prompt: Prompt, make_config: ConfigFactory
) -> None:
    payload = answer_payload(prompt, **{"ETH/USDT:USDT": {"confidence": 1.7}})
    with GeminiStub([answer(json.dumps(payload))]) as stub:
        result = run(stub, make_config, snapshot)
    assert_fell_back(result, snapshot, "signals.2.confidence")
    assert "1.7" in (result.fallback_reason or "")


def test_invented_number_is_rejected(
    snapshot: FixtureSnapshot, prompt: Prompt, make_config: ConfigFactory
) -> None:
    invented = {"cited": [{"feature": "zscore_240", "value": 2.5}]}
    payload = answer_payload(prompt, **{"BTC/USDT:USDT": invented})
    with GeminiStub([answer(json.dumps(payload))]) as stub:
        result = run(stub, make_config, snapshot)
    assert_fell_back(result, snapshot, "cited zscore_240=2.5 but the prompt shows 1.5")


def test_truncated_answer_is_rejected(
    snapshot: FixtureSnapshot, good_text: str, make_config: ConfigFactory
) -> None:
    # Even a complete JSON text is refused when the model says it was cut off.
    with GeminiStub([answer(good_text[:-40], finish_reason="MAX_TOKENS")]) as stub:
        result = run(stub, make_config, snapshot)
    assert_fell_back(result, snapshot, "finish_reason=MAX_TOKENS")
    assert result.calls[0].status == "rejected"
    assert result.calls[0].output_tokens == 300


def test_sdk_parses_a_truncated_answer_to_none(prompt: Prompt, good_text: str) -> None:
    from qbtc.signals import gemini_client

    with (
        GeminiStub([answer(good_text[:-40], finish_reason="MAX_TOKENS")]) as stub,
        gemini_client.open_client(
            API_KEY, base_url=stub.base_url, timeout_s=2, api_version="v1beta"
        ) as client,
    ):
        response = client.models.generate_content(
            model=MODEL,
            contents=prompt.text,
            config=gemini_client.request_config(prompt, max_output_tokens=100),
        )
    assert response.parsed is None
    assert response.candidates[0].finish_reason == "MAX_TOKENS"


def test_429_then_success_retries_with_backoff(
    snapshot: FixtureSnapshot, good_text: str, make_config: ConfigFactory
) -> None:
    sleeps: list[float] = []
    replies = [error(429, "RESOURCE_EXHAUSTED", retry_after="0.005"), answer(good_text)]
    with GeminiStub(replies) as stub:
        result = run(stub, make_config, snapshot, sleeps=sleeps)
    assert result.provider == "gemini"
    assert result.fallback_reason is None
    assert stub.hits == 2
    assert [c.status for c in result.calls] == ["error", "ok"]
    assert result.calls[0].error is not None
    assert "429" in result.calls[0].error
    assert sleeps == [0.005]  # Retry-After (5 ms) beats the 1 ms backoff


def test_timeout_is_retried_then_falls_back(
    snapshot: FixtureSnapshot, good_text: str, make_config: ConfigFactory
) -> None:
    slow = StubReply(200, answer(good_text).body, delay_s=5.0)
    with GeminiStub([slow]) as stub:
        result = run(stub, make_config, snapshot, timeout_s=0.2)
    assert stub.hits == 3
    assert_fell_back(result, snapshot, "timeout after 0.2 s")
    assert [c.status for c in result.calls] == ["error"] * 3


def test_repeated_500s_fall_back_to_rules_with_the_reason(
    snapshot: FixtureSnapshot, make_config: ConfigFactory
) -> None:
    sleeps: list[float] = []
    with GeminiStub([error(500, "INTERNAL", "backend exploded")]) as stub:
        result = run(stub, make_config, snapshot, sleeps=sleeps)
    assert stub.hits == 3  # 1 + max_retries
    assert sleeps == [0.001, 0.002]
    assert_fell_back(
        result,
        snapshot,
        "Gemini call failed after 3 attempt(s): HTTP 500 INTERNAL: backend exploded",
    )
    assert all(c.status == "error" and c.response is None for c in result.calls)


def test_client_error_is_not_retried(snapshot: FixtureSnapshot, make_config: ConfigFactory) -> None:
    with GeminiStub([error(400, "INVALID_ARGUMENT", "bad schema")]) as stub:
        result = run(stub, make_config, snapshot)
    assert stub.hits == 1
    assert_fell_back(result, snapshot, "HTTP 400 INVALID_ARGUMENT: bad schema")


def test_cache_hit_makes_no_second_request(
    snapshot: FixtureSnapshot, good_text: str, make_config: ConfigFactory, tmp_path: Path
) -> None:
    with GeminiStub([answer(good_text)]) as stub:
        first = run(stub, make_config, snapshot, cache_dir=tmp_path)
        second = run(stub, make_config, snapshot, cache_dir=tmp_path)
        assert stub.hits == 1
    assert view_of(second) == view_of(first)
    assert [s.signal_id for s in second.signals] == [s.signal_id for s in first.signals]
    (cached,) = second.calls
    assert (cached.status, cached.cost_usd, cached.input_tokens) == ("cached", 0.0, 0)
    assert cached.response == good_text


def test_rejected_answers_are_not_cached(
    snapshot: FixtureSnapshot, good_text: str, make_config: ConfigFactory, tmp_path: Path
) -> None:
    with GeminiStub([answer("not json"), answer(good_text)]) as stub:
        first = run(stub, make_config, snapshot, cache_dir=tmp_path)
        second = run(stub, make_config, snapshot, cache_dir=tmp_path)
        assert stub.hits == 2
    assert first.provider == "rules"
    assert second.provider == "gemini"


def test_token_budget_is_counted_and_enforced(
    snapshot: FixtureSnapshot, good_text: str, make_config: ConfigFactory
) -> None:
    reply = answer(good_text, prompt_tokens=900, output_tokens=300, thoughts_tokens=200)
    with GeminiStub([reply]) as stub:
        provider = GeminiProvider(make_config(stub.base_url, token_budget=2000), sleep=[].append)
        assert provider.propose(snapshot, run_id="r").provider == "gemini"
        assert provider.budget.spent == 1400  # prompt + answer + thinking tokens
        # 600 tokens left: less than the prompt itself, so no second request is sent
        again = provider.propose(snapshot, run_id="r")
        assert stub.hits == 1
    assert_fell_back(again, snapshot, "token budget exhausted: 1400 of 2000 tokens")
    assert again.calls == ()


def test_max_output_tokens_stays_within_the_budget(
    snapshot: FixtureSnapshot, good_text: str, make_config: ConfigFactory
) -> None:
    with GeminiStub([answer(good_text)]) as stub:
        run(stub, make_config, snapshot, token_budget=2500)
        sent = stub.requests[0].json()["generationConfig"]["maxOutputTokens"]
    prompt_estimate = 2500 - sent
    assert 512 <= sent < 2500
    assert prompt_estimate > 0


def test_missing_key_falls_back_without_a_request(
    snapshot: FixtureSnapshot, make_config: ConfigFactory
) -> None:
    with GeminiStub([answer("{}")]) as stub:
        result = run(stub, make_config, snapshot, api_key=None)
        assert stub.hits == 0
    assert_fell_back(result, snapshot, "no Gemini API key")


def test_the_key_never_leaves_the_auth_header(
    snapshot: FixtureSnapshot,
    good_text: str,
    make_config: ConfigFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    replies = [error(429, "RESOURCE_EXHAUSTED"), error(503, "UNAVAILABLE"), answer(good_text)]
    with GeminiStub(replies) as stub:
        ok = run(stub, make_config, snapshot)
    with GeminiStub([error(401, "UNAUTHENTICATED", f"bad key {API_KEY}")]) as stub2:
        refused = run(stub2, make_config, snapshot)
    assert ok.provider == "gemini"
    assert refused.fallback_reason is not None
    assert API_KEY not in refused.fallback_reason  # echoed by the server, scrubbed here
    for request in [*stub.requests, *stub2.requests]:
        assert request.headers["x-goog-api-key"] == API_KEY  # the key was used...
        assert API_KEY not in request.body  # ...only in the auth header
        assert API_KEY not in request.path
    assert caplog.records  # the run did log
    assert API_KEY not in caplog.text
    recorded = llm_calls_frame([*ok.calls, *refused.calls])
    assert API_KEY not in recorded.write_csv()
    assert API_KEY not in repr(make_config("http://127.0.0.1:1/"))


def test_a_response_that_is_not_the_gemini_api_falls_back(
    snapshot: FixtureSnapshot, make_config: ConfigFactory
) -> None:
    with GeminiStub([StubReply(200, "<html>proxy login</html>")]) as stub:
        result = run(stub, make_config, snapshot)
    assert_fell_back(result, snapshot, "unreadable response: JSONDecodeError")
    assert stub.hits == 1  # not retried
    (call,) = result.calls
    assert call.status == "error"
    assert (
        call.error
        == "unreadable response: JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    )


def test_an_unwritable_cache_keeps_the_paid_answer(
    snapshot: FixtureSnapshot, good_text: str, make_config: ConfigFactory, tmp_path: Path
) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache directory should be")
    with GeminiStub([answer(good_text)]) as stub:
        result = run(stub, make_config, snapshot, cache_dir=blocked)
    assert result.provider == "gemini"
    assert [c.status for c in result.calls] == ["ok"]
