"""Check a frame against its dataset's schema before anything is written."""

from __future__ import annotations

import polars as pl

from qbtc.schemas import WRITTEN_AT, Dataset


class SchemaMismatchError(ValueError):
    """A frame does not match its dataset's schema; nothing was written."""


def check_frame(dataset: Dataset, frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with its columns in schema order, or raise :class:`SchemaMismatchError`.

    The frame must carry exactly the dataset's columns with exactly its types (timestamps
    ``Datetime("us", "UTC")``), and no nulls in the primary key or in non-nullable columns.
    The message names the column, the type found and the type expected.
    """
    expected = dataset.schema
    columns = frame.columns
    missing = [name for name in expected if name not in columns]
    extra = [name for name in columns if name not in expected and name != WRITTEN_AT]
    if missing:
        wanted = ", ".join(f"{name} ({expected[name]})" for name in missing)
        raise SchemaMismatchError(f"{dataset.name}: missing column(s) {wanted}")
    if extra:
        raise SchemaMismatchError(
            f"{dataset.name}: unexpected column(s) {', '.join(extra)}; "
            f"expected exactly: {', '.join(expected)}"
        )
    for name, dtype in expected.items():
        found = frame.schema[name]
        if found != dtype and not (found == pl.Null and name in dataset.nullable):
            raise SchemaMismatchError(
                f"{dataset.name}: column {name!r} has type {found}, expected {dtype}"
            )
    ordered = frame.select([pl.col(name).cast(dtype) for name, dtype in expected.items()])
    required = [name for name in expected if name not in dataset.nullable]
    null_counts = ordered.select(pl.col(required).null_count()).row(0, named=True)
    nulls = [name for name, count in null_counts.items() if count]
    if nulls:
        raise SchemaMismatchError(
            f"{dataset.name}: null values in required column(s) {', '.join(nulls)}"
        )
    return ordered
