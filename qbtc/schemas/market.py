"""Datasets of market data, data quality and run manifests."""

from __future__ import annotations

from qbtc.schemas.core import (
    BY_DAY,
    BY_MONTH,
    BY_SYMBOL_DAY,
    F64,
    I64,
    STR,
    TS,
    Dataset,
    Partition,
    register,
)

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
            "bid_size": F64,
            "ask_size": F64,
        },
        primary_key=("symbol", "timestamp"),
        mode="append",
        partition_by=(Partition("und", "underlying", "value"), *BY_DAY),
        description=(
            "Option chain snapshots. Prices in the premium currency (USDT when settlement is "
            "'linear', coin when 'inverse'); IVs as annualised fractions; option_type call|put; "
            "bid_size and ask_size the contracts quoted at the touch (null when the venue does "
            "not say)."
        ),
        nullable=frozenset(
            {"bid", "ask", "bid_iv", "ask_iv", "open_interest", "bid_size", "ask_size"}
        ),
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
