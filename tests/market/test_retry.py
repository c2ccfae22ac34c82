"""Retry rules: backoff bounds and Retry-After parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.market.retry import VenueRetryPolicy, retry_after_seconds


@given(retry=st.integers(0, 30), seed=st.integers(0, 2**32 - 1))
def test_backoff_grows_exponentially_with_jitter_and_a_cap(retry: int, seed: int) -> None:
    policy = VenueRetryPolicy(backoff_base_s=0.5, backoff_cap_s=30.0, jitter=0.5)
    delay = policy.backoff(retry, np.random.default_rng(seed))
    ceiling = min(30.0, 0.5 * 2**retry)
    assert 0.5 * ceiling <= delay <= ceiling


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"Retry-After": "Wed, 04 Mar 2026 12:31:15 GMT"}, 60.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    headers: dict[str, str], expected: float | None
) -> None:
    now = datetime(2026, 3, 4, 12, 30, 15, tzinfo=UTC)
    assert retry_after_seconds(headers, now) == expected
