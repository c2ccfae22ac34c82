"""Bounded retries with exponential backoff and jitter around ccxt calls.

What is retried, and how (HTTP status read from the response, not from error messages):

- HTTP 418 (Binance: the IP is banned): never; :class:`VenueBannedError` at once.
- HTTP 429 (rate limited): after the venue's ``Retry-After`` (seconds or an HTTP date), or
  the backoff when it gives none; a ``Retry-After`` longer than ``max_retry_after_s`` ends
  the call at once with :class:`VenueUnavailableError`. Always safe: the request was refused.
- HTTP 5xx, timeouts and network errors: with backoff, only for idempotent calls (a timed
  out order may have reached the venue, so order placement is not retried here).
- anything else (bad symbol, bad request, authentication, insufficient funds): never.

After ``max_retries`` retries the call fails with :class:`VenueUnavailableError`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import ccxt
import numpy as np

from qbtc.market.errors import VenueBannedError, VenueUnavailableError

T = TypeVar("T")


@dataclass(frozen=True)
class VenueRetryPolicy:
    """How often and how long to retry. Delays in seconds.

    The n-th retry (n = 0, 1, ...) waits ``min(cap, base * 2**n)`` scaled by a uniform
    jitter in ``[1 - jitter, 1]``, or the venue's ``Retry-After`` on a 429.
    """

    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    jitter: float = 0.5
    max_retry_after_s: float = 120.0

    def backoff(self, retry: int, rng: np.random.Generator) -> float:
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2.0**retry)
        return float(ceiling * (1.0 - self.jitter * rng.random()))


@dataclass
class ResponseRecorder:
    """Records the HTTP status and headers of the last response ccxt received, per thread.

    Installed on a ccxt client through its ``on_rest_response`` hook, which ccxt calls for
    every HTTP response before it raises on an error status.
    """

    _local: threading.local = field(default_factory=threading.local)

    def install(self, client: ccxt.Exchange) -> None:
        original = client.on_rest_response

        def record(
            code: Any, reason: Any, url: Any, method: Any, headers: Any, body: Any, *rest: Any
        ) -> Any:
            self._local.status = int(code) if code is not None else None
            self._local.headers = dict(headers or {})
            return original(code, reason, url, method, headers, body, *rest)

        client.on_rest_response = record

    def reset(self) -> None:
        self._local.status = None
        self._local.headers = {}

    @property
    def status(self) -> int | None:
        return getattr(self._local, "status", None)

    @property
    def headers(self) -> Mapping[str, str]:
        return getattr(self._local, "headers", {})


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or HTTP-date), None if absent."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)


@dataclass
class RetryingCaller:
    """Calls ccxt methods of one venue with the retry rules of this module."""

    exchange_id: str
    policy: VenueRetryPolicy
    recorder: ResponseRecorder
    sleep: Callable[[float], None] = time.sleep
    rng: np.random.Generator = field(default_factory=np.random.default_rng)

    def call(self, operation: str, function: Callable[[], T], *, idempotent: bool = True) -> T:
        """Run ``function`` (a ccxt call), retrying per the module rules."""
        attempts = 0
        while True:
            attempts += 1
            self.recorder.reset()
            try:
                return function()
            except ccxt.BaseError as error:
                delay = self._retry_delay(error, attempts - 1, idempotent)
                if delay is None:
                    raise
                if attempts > self.policy.max_retries:
                    raise VenueUnavailableError(
                        self.exchange_id,
                        operation,
                        attempts,
                        _describe(error, self.recorder.status),
                    ) from error
                if delay > self.policy.max_retry_after_s:
                    detail = f"rate limited: the venue asks to wait {delay:.0f} s"
                    raise VenueUnavailableError(
                        self.exchange_id, operation, attempts, detail
                    ) from error
                self.sleep(delay)

    def _retry_delay(self, error: ccxt.BaseError, retry: int, idempotent: bool) -> float | None:
        """Seconds to wait before retrying ``error``, or None when it must not be retried."""
        status = self.recorder.status
        if status == 418:
            raise VenueBannedError(self.exchange_id, str(error)) from error
        if status == 429 or (status is None and isinstance(error, ccxt.RateLimitExceeded)):
            after = retry_after_seconds(self.recorder.headers)
            return after if after is not None else self.policy.backoff(retry, self.rng)
        if not idempotent:
            return None
        if status is not None and 500 <= status < 600:
            return self.policy.backoff(retry, self.rng)
        if status is None and isinstance(error, ccxt.NetworkError):
            return self.policy.backoff(retry, self.rng)
        return None


def _describe(error: Exception, status: int | None) -> str:
    kind = f"HTTP {status}" if status is not None else type(error).__name__
    return f"{kind}: {str(error)[:200]}"
