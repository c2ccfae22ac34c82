"""Datasets of features, option-surface features, signals and LLM calls."""

from __future__ import annotations

import polars as pl

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

VOL_VIEWS = register(
    Dataset(
        name="vol_views",
        columns={
            "view_id": STR,
            "run_id": STR,
            "underlying": STR,
            "timestamp": TS,
            "vol_view": F64,
            "confidence": F64,
            "horizon_minutes": I64,
            "provider": STR,
            "model": STR,
            "rationale": STR,
            "feature_snapshot": STR,
            "expiry": TS,
            "tenor_days": F64,
            "atm_iv": F64,
            "realised_forecast": F64,
            "term_slope": F64,
            "rr_25d": F64,
            "fallback_reason": STR,
            "created_at": TS,
        },
        primary_key=("view_id",),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "One volatility view per option underlying and decision bar (timestamp): vol_view "
            "in [-1, 1] (positive: options cheap, buy volatility; negative: rich, sell it), "
            "confidence in [0, 1]; expiry, tenor_days and the surface inputs (atm_iv, "
            "realised_forecast annualised vol fractions, term_slope per year, rr_25d call minus "
            "put IV) identify the option_features row of feature_snapshot the view was read "
            "from; fallback_reason is set when an LLM answer was replaced by rules."
        ),
        nullable=frozenset(
            {
                "model",
                "expiry",
                "tenor_days",
                "atm_iv",
                "realised_forecast",
                "term_slope",
                "rr_25d",
                "fallback_reason",
            }
        ),
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
