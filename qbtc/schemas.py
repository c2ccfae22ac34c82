"""Every dataset of the lake: columns and types, primary key, partitioning and write mode.

This module is the single source of truth. The lake writer validates frames against it, the
catalog derives the ``lake.<dataset>`` base views from it, and API models are tested against
it. Timestamps are ``Datetime("us", "UTC")`` everywhere.

Write modes
-----------
``append``
    Event data. A row whose primary key is already stored is ignored, so writing the same
    batch twice stores it once. Stored rows are never changed.
``upsert``
    Latest wins. A row whose primary key is stored with different values replaces it (the
    older version stays in an older file until compaction; readers always see the latest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema(dict(self.columns))

    @property
    def partition_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.partition_by)

    def empty(self) -> pl.DataFrame:
        """A zero-row frame with this dataset's schema."""
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

# --- market data -------------------------------------------------------------------------------

OHLCV = register(
    Dataset(
        name="ohlcv",
        columns={
            "symbol": STR,
            "timeframe": STR,
            "timestamp": TS,
            "open": F64,
            "high": F64,
            "low": F64,
            "close": F64,
            "volume": F64,
            "source": STR,
        },
        primary_key=("symbol", "timeframe", "timestamp"),
        mode="append",
        partition_by=BY_SYMBOL_DAY,
        description="Clean closed OHLCV bars (bar open time). Volume in base currency.",
    )
)

TICKERS = register(
    Dataset(
        name="tickers",
        columns={
            "symbol": STR,
            "timestamp": TS,
            "bid": F64,
            "ask": F64,
            "last": F64,
            "mark": F64,
            "index": F64,
            "volume_24h": F64,
            "quote_volume_24h": F64,
            "open_interest": F64,
            "source": STR,
        },
        primary_key=("symbol", "timestamp"),
        mode="append",
        partition_by=BY_DAY,
        description="Top of book, mark and index price snapshots of perpetuals.",
        nullable=frozenset({"open_interest", "quote_volume_24h"}),
    )
)

FUNDING_RATES = register(
    Dataset(
        name="funding_rates",
        columns={
            "symbol": STR,
            "timestamp": TS,
            "funding_rate": F64,
            "mark_price": F64,
            "index_price": F64,
            "source": STR,
        },
        primary_key=("symbol", "timestamp"),
        mode="append",
        partition_by=BY_MONTH,
        description="Funding rate per 8h interval, settled at timestamp (a fraction, not %).",
        nullable=frozenset({"mark_price", "index_price"}),
    )
)

OPTION_QUOTES = register(
    Dataset(
        name="option_quotes",
        columns={
            "symbol": STR,
            "underlying": STR,
            "timestamp": TS,
            "expiry": TS,
            "strike": F64,
            "option_type": STR,
            "settlement": STR,
            "bid": F64,
            "ask": F64,
            "mark": F64,
            "bid_iv": F64,
            "ask_iv": F64,
            "mark_iv": F64,
            "underlying_price": F64,
            "open_interest": F64,
            "source": STR,
        },
        primary_key=("symbol", "timestamp"),
        mode="append",
        partition_by=(Partition("underlying", "underlying", "value"), *BY_DAY),
        description=(
            "Option chain snapshots. Prices in the premium currency (USDT when settlement is "
            "'linear', coin when 'inverse'); IVs as annualised fractions; option_type call|put."
        ),
        nullable=frozenset({"bid", "ask", "bid_iv", "ask_iv", "open_interest"}),
    )
)

# --- data quality and runs ------------------------------------------------------------------

QUARANTINE = register(
    Dataset(
        name="quarantine",
        columns={
            "dataset": STR,
            "run_id": STR,
            "row_key": STR,
            "timestamp": TS,
            "reasons": STR,
            "row": STR,
        },
        primary_key=("dataset", "run_id", "row_key"),
        mode="append",
        partition_by=(Partition("ds", "dataset", "value"),),
        description="Rows refused by the quality gate, with every failed check (row: JSON).",
    )
)

QUALITY_RESULTS = register(
    Dataset(
        name="quality_results",
        columns={
            "run_id": STR,
            "dataset": STR,
            "check": STR,
            "level": STR,
            "status": STR,
            "element_count": I64,
            "unexpected_count": I64,
            "details": STR,
            "timestamp": TS,
        },
        primary_key=("run_id", "dataset", "check"),
        mode="upsert",
        partition_by=BY_MONTH,
        description="One row per check and run: level row|dataset, status pass|fail|error.",
    )
)

RUNS = register(
    Dataset(
        name="runs",
        columns={
            "run_id": STR,
            "flow": STR,
            "status": STR,
            "timestamp": TS,
            "finished_at": TS,
            "parameters": STR,
            "seed": I64,
            "as_of": TS,
            "code_version": STR,
            "package_versions": STR,
            "snapshots": STR,
            "llm_model": STR,
            "stage_durations": STR,
            "message": STR,
        },
        primary_key=("run_id",),
        mode="upsert",
        partition_by=BY_MONTH,
        description="Run manifests (JSON in parameters, package_versions, snapshots, durations).",
        nullable=frozenset({"finished_at", "as_of", "llm_model", "message", "seed"}),
    )
)

# --- book -----------------------------------------------------------------------------------

POSITIONS = register(
    Dataset(
        name="positions",
        columns={
            "id": STR,
            "portfolio_id": STR,
            "symbol": STR,
            "type": STR,
            "side": STR,
            "quantity": F64,
            "entry_price": F64,
            "mark_price": F64,
            "unrealized_pnl": F64,
            "realized_pnl": F64,
            "timestamp": TS,
        },
        primary_key=("id", "timestamp"),
        mode="upsert",
        partition_by=BY_MONTH,
        description="Position snapshots derived from fills; type perp|option, quantity signed.",
    )
)

RISK_METRICS = register(
    Dataset(
        name="risk_metrics",
        columns={
            "portfolio_id": STR,
            "run_id": STR,
            "timestamp": TS,
            "method": STR,
            "var": F64,
            "cvar": F64,
            "sharpe": F64,
            "drawdown": F64,
        },
        primary_key=("portfolio_id", "timestamp", "method"),
        mode="upsert",
        partition_by=BY_MONTH,
        description="Risk of the book: 99% 1-day VaR/CVaR in USDT (positive = loss).",
        nullable=frozenset({"sharpe", "cvar"}),
    )
)
