"""The google-genai SDK behind one small function: send a prompt, get a :class:`ModelReply`.

Imported only when the ``gemini`` provider actually calls a model (the SDK takes seconds to
import). SDK retries are off (``HttpOptions.retry_options`` unset means one attempt): the
provider runs its own bounded retry loop so that every attempt is recorded and the backoff is
injectable. Automatic continuation is off too, so one request is one paid call and an
unfinished answer shows up as such. The API key goes only into the client (it is sent as
the ``x-goog-api-key`` header); error text is scrubbed of it.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any

from google import genai
from google.genai import errors, types

from qbtc.signals.answer import SignalAnswer
from qbtc.signals.calls import redact
from qbtc.signals.errors import ModelCallError
from qbtc.signals.prompt import Prompt
from qbtc.urls import secure_or_loopback

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def _transport_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """(timeout, transport) exception classes of httpx and of httpx2, the fork the SDK
    prefers when it is installed (its classes are not httpx subclasses)."""
    timeouts: list[type[Exception]] = []
    transports: list[type[Exception]] = []
    for name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transports.append(module.TransportError)
    return tuple(timeouts), tuple(transports)


TIMEOUT_ERRORS, TRANSPORT_ERRORS = _transport_errors()


@dataclass(frozen=True)
class ModelReply:
    """What the model said: answer text, why it stopped, and tokens used (output includes
    thinking tokens)."""

    text: str | None
    finish_reason: str | None
    input_tokens: int
    output_tokens: int


def open_client(
    api_key: str, *, base_url: str | None, timeout_s: float, api_version: str
) -> genai.Client:
    """A Gemini Developer API client with a per-request timeout (seconds) and no retries.

    ``api_version`` is pinned (the SDK's default moved between releases and follows the
    ``GOOGLE_GENAI_API_VERSION`` environment variable otherwise). A plain ``http://``
    ``base_url`` is refused unless it is a loopback address: the key travels in a header.
    """
    if base_url is not None and not secure_or_loopback(base_url):
        raise ValueError(
            f"Gemini base URL {base_url!r} would send the API key in clear text: "
            "use https://, or http:// only to a loopback address"
        )
    options = types.HttpOptions(
        base_url=base_url,
        api_version=api_version,
        timeout=max(1, math.ceil(timeout_s * 1000)),
    )
    return genai.Client(api_key=api_key, vertexai=False, http_options=options)


def request_config(prompt: Prompt, *, max_output_tokens: int) -> types.GenerateContentConfig:
    """Deterministic structured-output settings: JSON per :class:`SignalAnswer`, temperature 0."""
    return types.GenerateContentConfig(
        system_instruction=prompt.system,
        temperature=0.0,
        candidate_count=1,
        seed=0,
        max_output_tokens=max_output_tokens,
        response_mime_type="application/json",
        response_schema=SignalAnswer,
        automatic_continuation=False,
    )


def _reply_of(response: types.GenerateContentResponse) -> ModelReply:
    usage = response.usage_metadata
    input_tokens = (usage.prompt_token_count or 0) if usage else 0
    output_tokens = (
        (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0) if usage else 0
    )
    if not response.candidates:
        return ModelReply(None, None, input_tokens, output_tokens)
    candidate = response.candidates[0]
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(part.text for part in parts if part.text and not part.thought) or None
    reason = candidate.finish_reason
    finish = getattr(reason, "value", reason) if reason is not None else None
    return ModelReply(text, finish, input_tokens, output_tokens)


def _retry_after(exc: errors.APIError) -> float | None:
    headers: Any = getattr(exc.response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def generate(
    client: genai.Client,
    model: str,
    prompt: Prompt,
    *,
    max_output_tokens: int,
    api_key: str,
    timeout_s: float,
) -> ModelReply:
    """One ``generateContent`` request; failures raise :class:`ModelCallError`."""
    try:
        response = client.models.generate_content(
            model=model,
            contents=prompt.text,
            config=request_config(prompt, max_output_tokens=max_output_tokens),
        )
    except errors.APIError as exc:
        reason = redact(f"HTTP {exc.code} {exc.status or ''}: {exc.message or ''}", api_key)
        raise ModelCallError(
            reason.strip(),
            retryable=exc.code in RETRYABLE_STATUS,
            retry_after_s=_retry_after(exc),
        ) from None
    except TIMEOUT_ERRORS:
        raise ModelCallError(f"timeout after {timeout_s:g} s", retryable=True) from None
    except TRANSPORT_ERRORS as exc:
        reason = redact(f"connection error: {type(exc).__name__}: {exc}", api_key)
        raise ModelCallError(reason, retryable=True) from None
    except ValueError as exc:  # a 200 that is not a Gemini response (proxy page, bad JSON)
        reason = redact(f"unreadable response: {type(exc).__name__}: {exc}", api_key)
        raise ModelCallError(reason[:500], retryable=False) from None
    return _reply_of(response)
