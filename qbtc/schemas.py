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
        partition_by=(Partition("und", "underlying", "value"), *BY_DAY),
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
            "fees": F64,
            "funding": F64,
            "underlying": STR,
            "expiry": TS,
            "strike": F64,
            "option_type": STR,
            "delta": F64,
            "gamma": F64,
            "vega": F64,
            "theta": F64,
            "timestamp": TS,
        },
        primary_key=("id", "timestamp"),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "Position snapshots derived from fills (id = portfolio_id:symbol); type perp|option, "
            "quantity signed (long > 0); PnL, fees and funding in USDT; Greeks for options."
        ),
        nullable=frozenset({"expiry", "strike", "option_type", "delta", "gamma", "vega", "theta"}),
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
            "sortino": F64,
            "drawdown": F64,
            "equity": F64,
            "gross_notional": F64,
            "net_notional": F64,
            "leverage": F64,
            "delta_usd": F64,
            "gamma_usd": F64,
            "vega_usd": F64,
            "theta_usd": F64,
            "mc_stderr": F64,
            "confidence": F64,
            "horizon_days": F64,
        },
        primary_key=("portfolio_id", "timestamp", "method"),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "Risk of the book at timestamp: VaR/CVaR in USDT (positive = loss) at `confidence` "
            "over `horizon_days`; Sharpe/Sortino annualised; drawdown a fraction of peak equity; "
            "Greeks in USDT (gamma per 1% move, vega per vol point, theta per day)."
        ),
        nullable=frozenset({"sharpe", "sortino", "cvar", "mc_stderr", "leverage"}),
    )
)

# --- features ---------------------------------------------------------------------------------
# Volatilities are annualised fractions (0.5 = 50%); returns are log returns; windows in bars.

FEATURE_COLUMNS: dict[str, pl.DataType] = {
    "close": F64,
    "ret_1": F64,
    "ret_15": F64,
    "ret_60": F64,
    "ret_240": F64,
    "ret_1440": F64,
    "rv_cc_60": F64,
    "rv_cc_1440": F64,
    "rv_parkinson_60": F64,
    "rv_garman_klass_60": F64,
    "rv_yang_zhang_60": F64,
    "rv_yang_zhang_1440": F64,
    "ewma_vol": F64,
    "atr_14": F64,
    "rsi_14": F64,
    "momentum_240": F64,
    "zscore_240": F64,
    "volume_z_60": F64,
    "funding_rate": F64,
    "basis_annualized": F64,
    "rank_momentum_240": F64,
    "rank_rv_cc_60": F64,
    "rank_funding": F64,
}

FEATURES = register(
    Dataset(
        name="features",
        columns={"symbol": STR, "timestamp": TS, **FEATURE_COLUMNS},
        primary_key=("symbol", "timestamp"),
        mode="upsert",
        partition_by=BY_SYMBOL_DAY,
        description=(
            "Per-perp features at each bar close (no look-ahead). Returns are log returns, "
            "vols annualised fractions, ranks in [0, 1] across the universe at that bar."
        ),
        nullable=frozenset(FEATURE_COLUMNS) - {"close"},
    )
)

OPTION_FEATURES = register(
    Dataset(
        name="option_features",
        columns={
            "underlying": STR,
            "expiry": TS,
            "timestamp": TS,
            "tenor_days": F64,
            "forward": F64,
            "atm_iv": F64,
            "rr_25d": F64,
            "bf_25d": F64,
            "term_slope": F64,
            "iv_minus_rv": F64,
        },
        primary_key=("underlying", "expiry", "timestamp"),
        mode="upsert",
        # Partition name differs from the column: the lake writer drops a partition's source
        # column from the files when both have the same name.
        partition_by=(Partition("und", "underlying", "value"), *BY_DAY),
        description=(
            "Option-surface features per underlying and expiry: ATM IV, 25-delta risk reversal "
            "(call - put IV) and butterfly, term slope (per year), implied minus realised vol."
        ),
        nullable=frozenset({"rr_25d", "bf_25d", "term_slope", "iv_minus_rv"}),
    )
)

# --- signals ----------------------------------------------------------------------------------

SIGNALS = register(
    Dataset(
        name="signals",
        columns={
            "signal_id": STR,
            "run_id": STR,
            "symbol": STR,
            "timestamp": TS,
            "direction": STR,
            "strength": F64,
            "confidence": F64,
            "horizon_minutes": I64,
            "provider": STR,
            "model": STR,
            "rationale": STR,
            "feature_snapshot": STR,
            "fallback_reason": STR,
            "created_at": TS,
        },
        primary_key=("signal_id",),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "One signal per symbol and decision bar (timestamp): direction long|short|flat, "
            "strength in [-1, 1], confidence in [0, 1]; feature_snapshot identifies the exact "
            "feature rows used; fallback_reason is set when an LLM answer was replaced by rules."
        ),
        nullable=frozenset({"model", "fallback_reason"}),
    )
)

LLM_CALLS = register(
    Dataset(
        name="llm_calls",
        columns={
            "call_id": STR,
            "run_id": STR,
            "timestamp": TS,
            "provider": STR,
            "model": STR,
            "prompt_hash": STR,
            "prompt": STR,
            "response": STR,
            "status": STR,
            "error": STR,
            "input_tokens": I64,
            "output_tokens": I64,
            "latency_ms": F64,
            "cost_usd": F64,
        },
        primary_key=("call_id",),
        mode="append",
        partition_by=BY_MONTH,
        description="Every LLM request and answer (status ok|cached|rejected|error), replayable.",
        nullable=frozenset({"response", "error"}),
    )
)

# --- orders and execution -----------------------------------------------------------------------

ORDER_INTENTS = register(
    Dataset(
        name="order_intents",
        columns={
            "client_order_id": STR,
            "run_id": STR,
            "portfolio_id": STR,
            "strategy": STR,
            "symbol": STR,
            "leg": STR,
            "timestamp": TS,
            "side": STR,
            "quantity": F64,
            "order_type": STR,
            "limit_price": F64,
            "reduce_only": BOOL,
            "notional": F64,
            "status": STR,
            "reason": STR,
        },
        primary_key=("client_order_id",),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "Orders the risk stage decided (timestamp = decision bar): status accepted|refused "
            "with the reason; quantity in contracts/coins (positive), side buy|sell."
        ),
        nullable=frozenset({"limit_price", "reason"}),
    )
)

ORDER_EVENTS = register(
    Dataset(
        name="order_events",
        columns={
            "event_id": STR,
            "client_order_id": STR,
            "run_id": STR,
            "timestamp": TS,
            "event": STR,
            "symbol": STR,
            "side": STR,
            "quantity": F64,
            "filled_quantity": F64,
            "price": F64,
            "venue_order_id": STR,
            "reason": STR,
        },
        primary_key=("event_id",),
        mode="append",
        partition_by=BY_MONTH,
        description=(
            "Append-only order ledger: intent, submitted, acknowledged, partially_filled, "
            "filled, cancelled, rejected, reconciled."
        ),
        nullable=frozenset({"price", "venue_order_id", "reason"}),
    )
)

FILLS = register(
    Dataset(
        name="fills",
        columns={
            "fill_id": STR,
            "client_order_id": STR,
            "venue_order_id": STR,
            "portfolio_id": STR,
            "symbol": STR,
            "timestamp": TS,
            "side": STR,
            "quantity": F64,
            "price": F64,
            "fee": F64,
            "fee_currency": STR,
            "liquidity": STR,
        },
        primary_key=("fill_id",),
        mode="append",
        partition_by=BY_MONTH,
        description="Executions from the venue; fee in fee_currency (positive = paid).",
    )
)

SIM_VENUE_ORDERS = register(
    Dataset(
        name="sim_venue_orders",
        columns={
            "order_id": STR,
            "client_order_id": STR,
            "symbol": STR,
            "timestamp": TS,
            "updated_at": TS,
            "side": STR,
            "type": STR,
            "status": STR,
            "amount": F64,
            "filled": F64,
            "price": F64,
            "average": F64,
            "fee": F64,
            "fee_currency": STR,
            "reduce_only": BOOL,
        },
        primary_key=("order_id",),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "The simulated venue's own order book, kept apart from qbtc's ledger (timestamp = "
            "order creation): status open|closed|canceled (ccxt), amount and filled in "
            "contracts, price the limit price, average the fill price, fee cumulative USDT."
        ),
        nullable=frozenset({"price", "average"}),
    )
)

ALERTS = register(
    Dataset(
        name="alerts",
        columns={
            "alert_id": STR,
            "run_id": STR,
            "timestamp": TS,
            "kind": STR,
            "severity": STR,
            "message": STR,
            "details": STR,
        },
        primary_key=("alert_id",),
        mode="append",
        partition_by=BY_MONTH,
        description="Risk breaches, failed quality gates, kill switch trips (severity info|warning|critical).",
    )
)
