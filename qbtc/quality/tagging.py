"""Tag each row of a batch with the row-level checks it fails (vectorised polars).

The frame keeps its order and columns and gains the helper columns of derived checks, a
``_reasons`` list of failed check names and a ``_bad`` flag. A check whose expression (or
helper) raises is reported with its error and tags nothing: a crashing check is never
mistaken for bad data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from qbtc.lake.validate import SchemaMismatchError
from qbtc.quality.checks import CheckContext, RowCheck
from qbtc.schemas import Dataset

REASONS = "_reasons"
BAD = "_bad"


@dataclass(frozen=True)
class CheckCount:
    """Polars' verdict on one check: rows it marks, or the error that stopped it."""

    name: str
    bad_rows: int | None
    error: str | None = None


@dataclass(frozen=True)
class TaggedBatch:
    frame: pl.DataFrame
    counts: tuple[CheckCount, ...]

    @property
    def errored(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.counts if c.error is not None)


def conform(dataset: Dataset, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in schema order and types; nulls are allowed (the checks judge them).

    NaN in an optional float column means "not quoted" and becomes null, the lake's single
    way of saying missing. Wrong or missing columns are a bug upstream: raise
    :class:`~qbtc.lake.validate.SchemaMismatchError`.
    """
    expected = dataset.schema
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected]
    if missing or extra:
        raise SchemaMismatchError(
            f"{dataset.name}: missing column(s) {missing}, unexpected column(s) {extra}"
        )
    wrong = [
        f"{c} is {frame.schema[c]}, expected {t}"
        for c, t in expected.items()
        if frame.schema[c] not in (t, pl.Null)
    ]
    if wrong:
        raise SchemaMismatchError(f"{dataset.name}: {'; '.join(wrong)}")
    columns = []
    for name, dtype in expected.items():
        col = pl.col(name).cast(dtype)
        if name in dataset.nullable and dtype.is_float():
            col = pl.when(col.is_nan()).then(None).otherwise(col).alias(name)
        columns.append(col)
    return frame.select(columns)


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]


def _flags(
    frame: pl.DataFrame, checks: Sequence[RowCheck], ctx: CheckContext
) -> tuple[pl.DataFrame, dict[str, str]]:
    """One boolean column per check (``_flag_<i>``), isolating checks that raise."""
    errors: dict[str, str] = {}
    exprs: dict[int, pl.Expr] = {}
    for index, check in enumerate(checks):
        try:
            exprs[index] = check.bad(ctx).fill_null(False).alias(f"_flag_{index}")
        except Exception as exc:  # building the expression failed
            errors[check.name] = _error(exc)
    # with_columns broadcasts a literal verdict (pl.lit(False)) to every row
    names = [f"_flag_{index}" for index in exprs]
    try:
        flags = frame.with_columns(list(exprs.values())).select(names)
    except Exception:  # find the culprit(s), keep the rest
        good = []
        for index, expr in exprs.items():
            try:
                good.append(frame.with_columns(expr).get_column(f"_flag_{index}"))
            except Exception as exc:
                errors[checks[index].name] = _error(exc)
        flags = pl.DataFrame(good) if good else pl.DataFrame()
    return flags, errors


def tag_rows(frame: pl.DataFrame, checks: Sequence[RowCheck], ctx: CheckContext) -> TaggedBatch:
    """Tag every row of ``frame`` with the names of the ``checks`` it fails."""
    names = [c.name for c in checks]
    if len(set(names)) != len(names):
        raise ValueError(f"check names must be unique: {sorted(names)}")
    errors: dict[str, str] = {}
    work = frame
    for check in checks:
        if check.derive is None:
            continue
        try:
            helper = check.derive(work, ctx).alias(check.helper_column)
            work = work.with_columns(helper)
        except Exception as exc:
            errors[check.name] = _error(exc)
    runnable = [c for c in checks if c.name not in errors]
    flags, flag_errors = _flags(work, runnable, ctx)
    errors.update(flag_errors)
    check_of = {f"_flag_{i}": c.name for i, c in enumerate(runnable)}
    columns = flags.columns
    reasons = (
        pl.concat_list([pl.when(pl.col(n)).then(pl.lit(check_of[n])) for n in columns])
        .list.drop_nulls()
        .alias(REASONS)
        if columns
        else pl.lit([], dtype=pl.List(pl.String)).alias(REASONS)
    )
    tagged = pl.concat([work, flags], how="horizontal") if columns else work
    tagged = tagged.with_columns(reasons).with_columns((pl.col(REASONS).list.len() > 0).alias(BAD))
    sums = flags.select(pl.all().sum()).row(0, named=True) if columns else {}
    bad_rows = {check_of[column]: int(total) for column, total in sums.items()}
    counts = tuple(
        CheckCount(name, None, errors[name]) if name in errors else CheckCount(name, bad_rows[name])
        for name in names
    )
    return TaggedBatch(tagged.drop(columns), counts)
