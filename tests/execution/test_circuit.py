"""The circuit breaker and the meaning of venue errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import ccxt
import pytest

from qbtc.execution.circuit import CircuitBreaker, Fault, classify, counts_as_venue_error
from qbtc.market.errors import UnknownSymbolError, VenueBannedError, VenueUnavailableError


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (ccxt.DuplicateOrderId("x"), Fault.DUPLICATE),
        (ccxt.InvalidOrder('binanceusdm {"code":-4116,"msg":"x"}'), Fault.DUPLICATE),
        (
            ccxt.ExchangeError(
                'binanceusdm {"code": -4116, "msg": "ClientOrderId is duplicated."}'
            ),
            Fault.DUPLICATE,
        ),
        (ccxt.OrderNotFound('{"code":-2013}'), Fault.NOT_FOUND),
        (ccxt.InsufficientFunds("margin"), Fault.REJECTED),
        (ccxt.ExchangeError('{"code": -2019, "msg": "Margin is insufficient."}'), Fault.REJECTED),
        (UnknownSymbolError("FOO/USDT:USDT", ["BTC/USDT:USDT"]), Fault.REJECTED),
        (ccxt.RequestTimeout("timed out"), Fault.AMBIGUOUS),
        (ccxt.ExchangeNotAvailable("503"), Fault.AMBIGUOUS),
        (ccxt.OperationFailed('{"code": -1001, "msg": "Internal error"}'), Fault.AMBIGUOUS),
        (ccxt.RateLimitExceeded("429"), Fault.AMBIGUOUS),
        (VenueUnavailableError("binanceusdm", "create_order", 5, "503"), Fault.AMBIGUOUS),
        (ccxt.DDoSProtection("418 I'm a teapot"), Fault.BANNED),
        (VenueBannedError("binanceusdm"), Fault.BANNED),
        (ccxt.AuthenticationError("invalid key"), Fault.FAILED),
    ],
)
def test_venue_errors_are_classified(error: Exception, fault: Fault) -> None:
    assert classify(error) is fault


def test_only_unhealthy_venue_faults_feed_the_circuit() -> None:
    assert {f for f in Fault if counts_as_venue_error(f)} == {
        Fault.AMBIGUOUS,
        Fault.BANNED,
        Fault.FAILED,
    }


def test_the_circuit_opens_after_n_consecutive_errors_and_closes_after_the_cooldown(
    tmp_path: Path,
) -> None:
    clock = Clock()
    circuit = CircuitBreaker(tmp_path, threshold=3, cooldown_s=300, clock=clock)
    assert [circuit.record_error("503") for _ in range(2)] == [False, False]
    assert circuit.allows()
    assert circuit.record_error("503") is True
    assert not circuit.allows()
    state = circuit.state()
    assert state.open_until == clock.now + timedelta(seconds=300)
    assert "3 consecutive venue errors" in (state.reason or "")
    clock.now += timedelta(seconds=299)
    assert not CircuitBreaker(tmp_path, threshold=3, cooldown_s=300, clock=clock).allows()
    clock.now += timedelta(seconds=1)
    assert circuit.allows()
    # Half-open: one more error re-opens it at once; a success closes it.
    assert circuit.record_error("503") is True
    clock.now += timedelta(seconds=300)
    circuit.record_success()
    assert circuit.state().consecutive_errors == 0
    assert circuit.allows()


def test_a_success_resets_the_count(tmp_path: Path) -> None:
    circuit = CircuitBreaker(tmp_path, threshold=2, cooldown_s=60)
    circuit.record_error("timeout")
    circuit.record_success()
    assert circuit.record_error("timeout") is False


def test_a_ban_opens_the_circuit_at_the_first_error(tmp_path: Path) -> None:
    circuit = CircuitBreaker(tmp_path, threshold=5, cooldown_s=60)
    assert circuit.record_error("418 banned", banned=True) is True
    assert not circuit.allows()
    assert (tmp_path / "circuit.json").is_file()


def test_a_degenerate_circuit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(tmp_path, threshold=0, cooldown_s=60)


@pytest.mark.parametrize(
    "content", ["[]", '{"consecutive_errors": "2"}', "{", '{"consecutive_errors": null}']
)
def test_a_malformed_circuit_file_keeps_the_circuit_open_and_is_left_alone(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "circuit.json"
    path.write_text(content)
    circuit = CircuitBreaker(tmp_path, threshold=3, cooldown_s=60, clock=Clock())
    assert not circuit.allows()
    assert str(path) in (circuit.state().reason or "")
    circuit.record_success()
    assert circuit.record_error("timeout") is False
    assert path.read_text() == content
