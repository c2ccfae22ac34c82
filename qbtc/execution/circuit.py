"""The venue circuit breaker and the classification of venue errors.

After ``threshold`` consecutive venue errors, or at once on an HTTP 418 (IP ban), the circuit
opens: nothing is submitted until ``cooldown_s`` seconds have passed. The state lives in
``<state_dir>/circuit.json`` (atomic writes under a lock), so every process sees it and a
restart does not forget it. Timing uses the wall clock, never the pipeline's ``as_of``. A
malformed state file keeps the circuit open (and is left as it is, naming itself in the
reason) until it is fixed or removed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from qbtc.market.errors import UnknownSymbolError, VenueBannedError, VenueUnavailableError
from qbtc.statefile import StateFileError, exclusive_lock, read_state, write_json_atomic

FILE_NAME = "circuit.json"


class Fault(StrEnum):
    """What a venue error means for an order."""

    DUPLICATE = "duplicate"  # the venue already has this client order id: already submitted
    NOT_FOUND = "not_found"  # the venue has no such order
    REJECTED = "rejected"  # the venue answered with an error code and took no order
    AMBIGUOUS = "ambiguous"  # no usable answer (timeout, network, 5xx, 429): maybe accepted
    BANNED = "banned"  # HTTP 418
    FAILED = "failed"  # the venue refused us (keys, unsupported call) or an unknown error


def classify(error: BaseException) -> Fault:
    """The :class:`Fault` of an exception raised by a venue call.

    ccxt raises Binance's -4116 as ``ExchangeError`` (not ``DuplicateOrderId``) and a 5xx
    with a body as ``OperationFailed``, so the code and the class are both looked at.
    """
    import ccxt  # only when an error happened: importing ccxt takes seconds

    text = str(error)
    if isinstance(error, ccxt.DuplicateOrderId) or (
        isinstance(error, ccxt.BaseError) and ("-4116" in text or "duplicat" in text.lower())
    ):
        return Fault.DUPLICATE
    if isinstance(error, ccxt.OrderNotFound):
        return Fault.NOT_FOUND
    if isinstance(error, VenueBannedError) or (
        isinstance(error, ccxt.DDoSProtection) and not isinstance(error, ccxt.RateLimitExceeded)
    ):
        return Fault.BANNED
    if isinstance(error, (ccxt.OperationFailed, VenueUnavailableError, TimeoutError)):
        return Fault.AMBIGUOUS
    if isinstance(error, (ccxt.AuthenticationError, ccxt.NotSupported)):
        return Fault.FAILED
    if isinstance(error, (ccxt.ExchangeError, UnknownSymbolError)):
        return Fault.REJECTED
    return Fault.FAILED


def counts_as_venue_error(fault: Fault) -> bool:
    """Faults that say the venue is unhealthy (they feed the circuit breaker)."""
    return fault in (Fault.AMBIGUOUS, Fault.BANNED, Fault.FAILED)


@dataclass(frozen=True)
class CircuitState:
    """Consecutive venue errors, and when open: since when, until when and why (UTC)."""

    consecutive_errors: int = 0
    opened_at: datetime | None = None
    open_until: datetime | None = None
    reason: str | None = None

    def is_open(self, now: datetime) -> bool:
        return self.open_until is not None and now < self.open_until


class CircuitBreaker:
    """Persistent circuit breaker of one venue, stored under ``state_dir``."""

    def __init__(
        self,
        state_dir: Path,
        *,
        threshold: int,
        cooldown_s: float,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if threshold < 1 or cooldown_s <= 0:
            raise ValueError("the circuit needs threshold >= 1 and a positive cooldown")
        self.state_dir = state_dir
        self.path = state_dir / FILE_NAME
        self.threshold = threshold
        self.cooldown = timedelta(seconds=cooldown_s)
        self.clock = clock or (lambda: datetime.now(UTC))

    def state(self) -> CircuitState:
        """The stored state: closed without a file, open for good when the file is malformed."""
        return self._read()[0]

    def _read(self) -> tuple[CircuitState, bool]:
        try:
            return read_state(self.path, CircuitState) or CircuitState(), True
        except StateFileError as exc:
            forever = datetime.max.replace(tzinfo=UTC)
            return CircuitState(0, None, forever, str(exc)), False

    def allows(self) -> bool:
        """True when submitting is allowed (closed, or the cooldown has passed)."""
        return not self.state().is_open(self.clock())

    def record_success(self) -> None:
        with self._locked():
            if self.state().consecutive_errors:
                self._write(CircuitState())

    def record_error(self, reason: str, *, banned: bool = False) -> bool:
        """Count a venue error; True when this error opened the circuit."""
        with self._locked():
            state, readable = self._read()
            if not readable:  # left for the operator: the reason names the file
                return False
            now = self.clock()
            errors = state.consecutive_errors + 1
            if state.is_open(now):
                self._write(CircuitState(errors, state.opened_at, state.open_until, state.reason))
                return False
            if banned or errors >= self.threshold:
                why = reason if banned else f"{errors} consecutive venue errors, last: {reason}"
                self._write(CircuitState(errors, now, now + self.cooldown, why))
                return True
            self._write(CircuitState(errors, None, None, state.reason))
            return False

    def _locked(self) -> AbstractContextManager[None]:
        return exclusive_lock(self.state_dir / f"{FILE_NAME}.lock")

    def _write(self, state: CircuitState) -> None:
        raw = {
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(state).items()
        }
        write_json_atomic(self.path, raw)
