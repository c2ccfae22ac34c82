"""Row-level checks: a vectorised polars predicate and its Great Expectations twin.

A :class:`RowCheck` marks the rows that fail it with a polars expression (``True`` = bad) and
names the GX expectation(s) that verify the same predicate for the record. The two must
agree: the number of rows the expression marks equals the sum of the ``unexpected_count`` of
its expectations (the gate reports a disagreement as an error). Both ignore missing values
(null or NaN) in the columns they compare, except the not-null checks, so a NaN price is
reported once, as ``<column>_null``. Checks are named after the failure they detect
(``volume_negative``, ``high_below_open``): the names are the quarantine reasons.

Expectations are described by plain :class:`ExpectationSpec` values, so this module (and the
rules built on it) never imports Great Expectations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import polars as pl

Level = Literal["row", "dataset", "advisory"]
Status = Literal["pass", "fail", "error"]


@dataclass(frozen=True)
class ExpectationSpec:
    """A GX expectation by class name (``ExpectColumnValuesToNotBeNull``) and its kwargs.

    ``where`` restricts it to the rows whose column equals a value (a GX row condition).
    """

    kind: str
    kwargs: Mapping[str, Any]
    where: tuple[str, Any] | None = None


@dataclass(frozen=True)
class CheckContext:
    """What checks need to know beyond the frame.

    Attributes
    ----------
    as_of : datetime
        The run's clock (UTC); nothing may be newer than the data a venue has at ``as_of``.
    step : timedelta or None
        Bar length for OHLCV (``None`` for snapshot datasets).
    jump_sigma : float
        One-bar log moves beyond this many robust sigmas are flagged.
    reference : pl.DataFrame or None
        Clean stored rows just before the batch (OHLCV), used for returns and volatility.
    """

    as_of: datetime
    step: timedelta | None = None
    jump_sigma: float = 12.0
    reference: pl.DataFrame | None = None
    symbols: tuple[str, ...] = ()


Derive = Callable[[pl.DataFrame, CheckContext], pl.Series]


@dataclass(frozen=True)
class RowCheck:
    """One row-level rule: ``bad(ctx)`` is ``True`` on failing rows.

    ``derive`` (optional) computes a helper column named ``_<name>`` first, for predicates GX
    has no expectation for (grid offset, jump score); the GX twin then checks that column.
    """

    name: str
    bad: Callable[[CheckContext], pl.Expr]
    expect: Callable[[CheckContext], tuple[ExpectationSpec, ...]]
    derive: Derive | None = None
    description: str = ""

    @property
    def helper_column(self) -> str:
        return f"_{self.name}"


@dataclass(frozen=True)
class DatasetRules:
    """The checks of one dataset and how its coverage is judged."""

    dataset: str
    checks: tuple[RowCheck, ...]
    key_columns: tuple[str, ...]
    coverage_column: str | None = None
    freshness: bool = False
    notes: Mapping[str, str] = field(default_factory=dict)


def present(column: str) -> pl.Expr:
    """Not null and, for floats, not NaN (pandas and GX treat NaN as missing)."""
    col = pl.col(column)
    return col.is_not_null() & ~col.is_nan().fill_null(False)


def _not_present(column: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(column)
    return col.is_null() | col.is_nan() if dtype.is_float() else col.is_null()


def _not_null(name: str, dtype: pl.DataType) -> RowCheck:
    return RowCheck(
        name=f"{name}_null",
        bad=lambda ctx: _not_present(name, dtype),
        expect=lambda ctx: (ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": name}),),
        description=f"{name} is present (not null, not NaN)",
    )


def not_null_checks(schema: Mapping[str, pl.DataType], nullable: frozenset[str]) -> list[RowCheck]:
    """``<column>_null`` for every required column (NaN counts as missing)."""
    return [_not_null(name, dtype) for name, dtype in schema.items() if name not in nullable]


def positive(column: str, *, strict: bool = True) -> RowCheck:
    """Fails ``column <= 0`` (``< 0`` unless strict) where present."""
    suffix = "not_positive" if strict else "negative"
    return RowCheck(
        name=f"{column}_{suffix}",
        bad=lambda ctx: present(column) & (pl.col(column) <= 0 if strict else pl.col(column) < 0),
        expect=lambda ctx: (
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": column, "min_value": 0, "strict_min": strict},
            ),
        ),
        description=f"{column} {'>' if strict else '>='} 0",
    )


def between(name: str, column: str, low: float, high: float) -> RowCheck:
    """``low <= column <= high`` where present."""
    return RowCheck(
        name=name,
        bad=lambda ctx: present(column) & ~pl.col(column).is_between(low, high),
        expect=lambda ctx: (
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": column, "min_value": low, "max_value": high},
            ),
        ),
        description=f"{low} <= {column} <= {high}",
    )


def at_least(name: str, column_a: str, column_b: str, *, strict: bool = False) -> RowCheck:
    """``column_a >= column_b`` (``>`` when strict) where both are present."""
    op = ">" if strict else ">="

    def bad(ctx: CheckContext) -> pl.Expr:
        a, b = pl.col(column_a), pl.col(column_b)
        return present(column_a) & present(column_b) & (a <= b if strict else a < b)

    return RowCheck(
        name=name,
        bad=bad,
        expect=lambda ctx: (
            ExpectationSpec(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": column_a,
                    "column_B": column_b,
                    "or_equal": not strict,
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
        ),
        description=f"{column_a} {op} {column_b}",
    )


def unique_key(columns: tuple[str, ...]) -> RowCheck:
    """No two rows share the primary key (every copy of a duplicate fails)."""
    return RowCheck(
        name="duplicate_key",
        bad=lambda ctx: pl.struct(list(columns)).is_duplicated(),
        expect=lambda ctx: (
            ExpectationSpec("ExpectCompoundColumnsToBeUnique", {"column_list": list(columns)}),
        ),
        description=f"({', '.join(columns)}) is unique in the batch",
    )


def not_after(name: str, column: str, limit: Callable[[CheckContext], datetime]) -> RowCheck:
    """``column <= limit(ctx)`` (a datetime bound) where present."""
    return RowCheck(
        name=name,
        bad=lambda ctx: pl.col(column).is_not_null() & (pl.col(column) > limit(ctx)),
        expect=lambda ctx: (
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween", {"column": column, "max_value": limit(ctx)}
            ),
        ),
        description=f"{column} is not after the run's clock",
    )


def in_set(name: str, column: str, values: tuple[str, ...]) -> RowCheck:
    return RowCheck(
        name=name,
        bad=lambda ctx: pl.col(column).is_not_null() & ~pl.col(column).is_in(list(values)),
        expect=lambda ctx: (
            ExpectationSpec(
                "ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(values)}
            ),
        ),
        description=f"{column} in {', '.join(values)}",
    )


def helper_at_most(check_name: str, limit: float) -> tuple[ExpectationSpec, ...]:
    """GX twin of a derived check: its helper column ``_<name>`` is at most ``limit``."""
    return (
        ExpectationSpec(
            "ExpectColumnValuesToBeBetween", {"column": f"_{check_name}", "max_value": limit}
        ),
    )


@dataclass(frozen=True)
class DatasetBatch:
    """One dataset's new rows for the gate, and what it needs to judge coverage.

    ``expected`` are the coverage keys (symbols, or underlyings for options) that must have
    a clean row in the batch or in ``latest_stored`` (newest stored row time per key).
    ``reference`` holds clean stored rows just before the batch (OHLCV jump scale).
    """

    rules: DatasetRules
    frame: pl.DataFrame
    expected: tuple[str, ...] = ()
    reference: pl.DataFrame | None = None
    latest_stored: Mapping[str, datetime] = field(default_factory=dict)
    step: timedelta | None = None
