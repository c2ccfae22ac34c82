"""Shared fixtures of the market tests: a simulated venue at a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qbtc.market.sim import SimExchange

AS_OF = datetime(2026, 3, 4, 12, 30, 15, tzinfo=UTC)


@pytest.fixture
def sim() -> SimExchange:
    return SimExchange(seed=7, as_of=AS_OF)
