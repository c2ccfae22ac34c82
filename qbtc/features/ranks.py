"""Cross-sectional ranks across the perps universe at each bar."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl


def percentile_rank(column: str) -> pl.Expr:
    """Rank of ``column`` among the symbols of the same bar, scaled to [0, 1].

    ``(r - 1) / (m - 1)`` with ``r`` the average rank (ties share it) and ``m`` the number
    of symbols with a value at that bar; 0.5 when only one symbol has a value; null where
    the value is null.
    """
    value = pl.col(column)
    rank = value.rank("average").over("timestamp")
    count = value.count().over("timestamp")
    scaled = pl.when(count > 1).then((rank - 1.0) / (count - 1.0)).otherwise(0.5)
    return pl.when(value.is_not_null()).then(scaled)


def add_cross_sectional_ranks(lf: pl.LazyFrame, *, columns: Mapping[str, str]) -> pl.LazyFrame:
    """Add one percentile-rank column per ``{output: input}`` pair (see :func:`percentile_rank`).

    The frame must hold every symbol of the universe for the bars to rank; a bar's rank uses
    only that bar's values, so it introduces no look-ahead. The ranks are computed on a
    narrow copy sorted by bar (contiguous groups rank faster) and put back in row order.
    """
    row = "_rank_row"
    narrow = (
        lf.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias(row), "timestamp", *columns.values()
        )
        .sort("timestamp", maintain_order=True)
        .with_columns(pl.col("timestamp").set_sorted())
        .with_columns(percentile_rank(source).alias(out) for out, source in columns.items())
        .sort(row)
        .select(list(columns))
    )
    return pl.concat([lf, narrow], how="horizontal")
