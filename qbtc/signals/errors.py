"""Errors of the signal providers. Each carries a one-line ``reason`` safe to store and show."""

from __future__ import annotations


class LlmError(RuntimeError):
    """The LLM produced no usable answer; ``reason`` is recorded as the fallback reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ModelCallError(LlmError):
    """One request to the model failed (HTTP error, timeout, connection).

    ``retryable`` for 429, 5xx, timeouts and connection errors; ``retry_after_s`` is the
    server's ``Retry-After`` in seconds when it sent one.
    """

    def __init__(self, reason: str, *, retryable: bool, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class ReplayMissingError(LookupError):
    """The ``replay`` provider found no recorded call for a question."""
