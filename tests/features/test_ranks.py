"""Cross-sectional percentile ranks."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.features import add_cross_sectional_ranks
from tests.features.fixtures import MINUTE, T0


def _ranked(values: list[float | None], timestamps: list[int] | None = None) -> list:
    stamps = timestamps or [0] * len(values)
    frame = pl.DataFrame(
        {
            "symbol": [f"S{i}" for i in range(len(values))],
            "timestamp": [T0 + MINUTE * k for k in stamps],
            "x": pl.Series(values, dtype=pl.Float64),
        }
    )
    out = add_cross_sectional_ranks(frame.lazy(), columns={"rank_x": "x"}).collect()
    return out.get_column("rank_x").to_list()


def test_ranks_by_hand_with_ties_and_nulls():
    assert _ranked([3.0, 1.0, None, 2.0, 3.0]) == [0.8333333333333334, 0.0, None, 1 / 3, 5 / 6]


def test_a_lone_value_ranks_in_the_middle():
    assert _ranked([7.0, None]) == [0.5, None]


def test_ranks_are_per_bar():
    assert _ranked([1.0, 2.0, 10.0, 5.0], timestamps=[0, 0, 1, 1]) == [0.0, 1.0, 1.0, 0.0]


@given(st.lists(st.floats(-1e6, 1e6) | st.none(), min_size=1, max_size=12))
def test_ranks_lie_in_unit_interval_and_keep_order(values):
    ranks = _ranked(values)
    pairs = [(v, r) for v, r in zip(values, ranks, strict=True) if v is not None]
    assert all(r is None for v, r in zip(values, ranks, strict=True) if v is None)
    for v, r in pairs:
        assert 0.0 <= r <= 1.0
        for w, s in pairs:
            if v < w:
                assert r < s
            if v == w:
                assert r == pytest.approx(s)
