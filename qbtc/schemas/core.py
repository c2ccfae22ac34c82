"""Dataset, partition and write-mode types, and the registry of every dataset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import polars as pl

TS = pl.Datetime("us", "UTC")
F64 = pl.Float64()
I64 = pl.Int64()
STR = pl.String()
BOOL = pl.Boolean()

WriteMode = Literal["append", "upsert"]
PartitionKind = Literal["symbol", "date", "month", "value"]

#: Columns the lake adds to every stored row.
WRITTEN_AT = "_written_at"


@dataclass(frozen=True)
class Partition:
    """A hive partition level: ``name=value`` directory derived from ``source`` column.

    ``symbol`` maps a ccxt symbol to its slash-free key, ``date``/``month`` truncate a
    timestamp, ``value`` uses a slash-free string column as it is.
    """

    name: str
    source: str
    kind: PartitionKind


@dataclass(frozen=True)
class Dataset:
    """Schema and storage rules of one lake dataset."""

    name: str
    columns: Mapping[str, pl.DataType]
    primary_key: tuple[str, ...]
    mode: WriteMode
    partition_by: tuple[Partition, ...] = ()
    time_column: str = "timestamp"
    description: str = ""
    nullable: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        missing = [c for c in (*self.primary_key, self.time_column) if c not in self.columns]
        missing += [p.source for p in self.partition_by if p.source not in self.columns]
        if missing:
            raise ValueError(f"dataset {self.name}: unknown columns {missing}")
        clash = [p.name for p in self.partition_by if p.name in self.columns]
        if clash:
            # A hive directory named like a column would shadow it when read back.
            raise ValueError(f"dataset {self.name}: partition names {clash} are also columns")

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema(dict(self.columns))

    @property
    def partition_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.partition_by)

    def empty(self) -> pl.DataFrame:
        """A zero-row frame with this dataset's schema (a new frame at each call)."""
        return self._empty.clear()

    @cached_property
    def _empty(self) -> pl.DataFrame:
        # cleared for each caller: a frame's construction from a schema costs ~100 us,
        # a clear ~1 us, and the cycle asks for empty frames at every decision
        return pl.DataFrame(schema=self.schema)


DATASETS: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    """Add a dataset to the registry (names are unique)."""
    if dataset.name in DATASETS:
        raise ValueError(f"dataset {dataset.name} registered twice")
    DATASETS[dataset.name] = dataset
    return dataset


def get_dataset(name: str) -> Dataset:
    """The dataset called ``name``; a clear error lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown dataset {name!r}; known datasets: {known}") from None


BY_SYMBOL_DAY = (Partition("sym", "symbol", "symbol"), Partition("date", "timestamp", "date"))
BY_SYMBOL = (Partition("sym", "symbol", "symbol"),)
BY_DAY = (Partition("date", "timestamp", "date"),)
BY_MONTH = (Partition("month", "timestamp", "month"),)
