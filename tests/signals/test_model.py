"""Signal values, ids and rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qbtc.schemas import SIGNALS
from qbtc.signals.model import Signal, signal_id, signals_frame

BAR = datetime(2026, 1, 5, 12, tzinfo=UTC)


def make(**changes: object) -> Signal:
    values: dict[str, object] = {
        "signal_id": "sg1",
        "run_id": "r",
        "symbol": "BTC/USDT:USDT",
        "timestamp": BAR,
        "direction": "long",
        "strength": 0.5,
        "confidence": 0.5,
        "horizon_minutes": 240,
        "provider": "rules",
        "model": "rules-v1",
        "rationale": "x",
        "feature_snapshot": "fs",
    }
    values.update(changes)
    return Signal(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strength": 1.01}, "strength must be in"),
        ({"confidence": -0.1}, "confidence must be in"),
        ({"direction": "short"}, "does not match"),
        ({"direction": "flat"}, "does not match"),
        ({"direction": "buy"}, "direction must be one of"),
        ({"horizon_minutes": 0}, "horizon_minutes"),
        ({"timestamp": datetime(2026, 1, 5)}, "timezone-aware"),
    ],
)
def test_invalid_signals_cannot_be_built(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(**changes)


def test_signal_id_is_a_stable_function_of_its_parts() -> None:
    first = signal_id("gemini", "m", "BTC/USDT:USDT", BAR, "fs1")
    assert first == signal_id("gemini", "m", "BTC/USDT:USDT", BAR, "fs1")
    assert first.startswith("sg")
    assert len(first) == 34
    others = {
        signal_id("rules", "m", "BTC/USDT:USDT", BAR, "fs1"),
        signal_id("gemini", "m2", "BTC/USDT:USDT", BAR, "fs1"),
        signal_id("gemini", "m", "ETH/USDT:USDT", BAR, "fs1"),
        signal_id("gemini", "m", "BTC/USDT:USDT", BAR.replace(minute=1), "fs1"),
        signal_id("gemini", "m", "BTC/USDT:USDT", BAR, "fs2"),
    }
    assert first not in others
    assert len(others) == 5
    with pytest.raises(ValueError, match="timezone-aware"):
        signal_id("gemini", "m", "BTC/USDT:USDT", datetime(2026, 1, 5), "fs1")


def test_frame_matches_the_schema() -> None:
    frame = signals_frame([make(), make(signal_id="sg2", fallback_reason="why")])
    assert frame.schema == SIGNALS.schema
    assert frame.get_column("fallback_reason").to_list() == [None, "why"]
    assert signals_frame([]).schema == SIGNALS.schema
