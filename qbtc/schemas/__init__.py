"""Every dataset of the lake: columns and types, primary key, partitioning and write mode.

This package is the single source of truth. The lake writer validates frames against it, the
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

Definitions live by domain: ``core.py`` (types and registry), ``market.py`` (market data,
quality, runs), ``research.py`` (features, signals, LLM calls) and ``book.py`` (positions,
risk, orders, ledger, alerts) and ``backtest.py`` (backtest results). Importing this
package registers every dataset.
"""

from __future__ import annotations

from qbtc.schemas.backtest import (
    BACKTEST_EQUITY,
    BACKTEST_INTENTS,
    BACKTEST_METRICS,
    BACKTEST_SWEEPS,
    BACKTEST_TRADES,
    BACKTESTS,
)
from qbtc.schemas.book import (
    ALERTS,
    BOOK_GREEKS,
    FILLS,
    OPTION_STRUCTURES,
    ORDER_EVENTS,
    ORDER_INTENTS,
    POSITIONS,
    RISK_METRICS,
    SETTLEMENTS,
    SIM_VENUE_ORDERS,
)
from qbtc.schemas.core import (
    BOOL,
    BY_DAY,
    BY_MONTH,
    BY_SYMBOL,
    BY_SYMBOL_DAY,
    DATASETS,
    F64,
    I64,
    STR,
    TS,
    WRITTEN_AT,
    Dataset,
    Partition,
    PartitionKind,
    WriteMode,
    get_dataset,
    register,
)
from qbtc.schemas.market import (
    FUNDING_RATES,
    OHLCV,
    OPTION_QUOTES,
    QUALITY_RESULTS,
    QUARANTINE,
    RUNS,
    TICKERS,
)
from qbtc.schemas.research import (
    FEATURE_COLUMNS,
    FEATURES,
    LLM_CALLS,
    OPTION_FEATURES,
    SIGNALS,
    VOL_VIEWS,
)

__all__ = [
    "ALERTS",
    "BACKTESTS",
    "BACKTEST_EQUITY",
    "BACKTEST_INTENTS",
    "BACKTEST_METRICS",
    "BACKTEST_SWEEPS",
    "BACKTEST_TRADES",
    "BOOK_GREEKS",
    "BOOL",
    "BY_DAY",
    "BY_MONTH",
    "BY_SYMBOL",
    "BY_SYMBOL_DAY",
    "DATASETS",
    "F64",
    "FEATURES",
    "FEATURE_COLUMNS",
    "FILLS",
    "FUNDING_RATES",
    "I64",
    "LLM_CALLS",
    "OHLCV",
    "OPTION_FEATURES",
    "OPTION_QUOTES",
    "OPTION_STRUCTURES",
    "ORDER_EVENTS",
    "ORDER_INTENTS",
    "POSITIONS",
    "QUALITY_RESULTS",
    "QUARANTINE",
    "RISK_METRICS",
    "RUNS",
    "SETTLEMENTS",
    "SIGNALS",
    "SIM_VENUE_ORDERS",
    "STR",
    "TICKERS",
    "TS",
    "VOL_VIEWS",
    "WRITTEN_AT",
    "Dataset",
    "Partition",
    "PartitionKind",
    "WriteMode",
    "get_dataset",
    "register",
]
