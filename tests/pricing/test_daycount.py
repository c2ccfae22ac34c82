from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from qbtc.pricing import PricingInputError, year_fraction


def test_a_common_year_is_one_and_a_leap_year_a_day_more():
    assert year_fraction(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)) == 1.0
    leap = year_fraction(datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    assert leap == pytest.approx(366 / 365, rel=1e-15)


def test_hours_count_and_past_expiries_are_negative():
    start = datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert year_fraction(start, datetime(2026, 11, 27, 20, tzinfo=UTC)) == 0.5 / 365
    assert year_fraction(start, datetime(2026, 11, 26, 8, tzinfo=UTC)) == -1 / 365


def test_datetime64_arrays_broadcast():
    now = np.datetime64("2026-01-01T00:00:00")
    expiries = np.array(["2026-01-08", "2026-12-31T12:00"], dtype="datetime64[s]")
    np.testing.assert_allclose(year_fraction(now, expiries), [7 / 365, 364.5 / 365], rtol=1e-15)
    mixed = year_fraction(datetime(2026, 1, 1, tzinfo=UTC), expiries)
    np.testing.assert_allclose(mixed, [7 / 365, 364.5 / 365], rtol=1e-15)


def test_naive_datetimes_are_refused_with_a_fix():
    with pytest.raises(PricingInputError, match="UTC-aware"):
        year_fraction(datetime(2026, 1, 1), datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(PricingInputError, match="datetime64"):
        year_fraction(np.array([1.0]), np.array([2.0]))
