"""FeatureSnapshot-shaped fixtures: `features` and `option_features` rows built by hand."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from qbtc.schemas import FEATURES, OPTION_FEATURES

DECISION_BAR = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

#: Hand-picked inputs; the golden values in test_rules.py are computed from these by hand.
PERPS: dict[str, dict[str, Any]] = {
    "BTC/USDT:USDT": {
        "close": 94123.45,
        "ret_1440": 0.031,
        "momentum_240": 0.02,
        "zscore_240": 1.5,
        "rank_momentum_240": 0.8,
        "rv_cc_60": 0.5,
        "ewma_vol": 0.5,
        "rank_rv_cc_60": 0.4,
        "funding_rate": 0.0001,
        "basis_annualized": 0.05,
    },
    "ETH/USDT:USDT": {
        "close": 3321.5,
        "ret_1440": -0.052,
        "momentum_240": -0.03,
        "zscore_240": -2.0,
        "rank_momentum_240": 0.1,
        "rv_cc_60": 0.9,
        "ewma_vol": 0.5,
        "rank_rv_cc_60": 0.7,
        "funding_rate": -0.0002,
        "basis_annualized": -0.08,
    },
    "SOL/USDT:USDT": {
        "close": 187.25,
        "ret_1440": 0.004,
        "momentum_240": -0.01,
        "zscore_240": 0.1,
        "rank_momentum_240": 0.5,
        "rv_cc_60": 0.6,
        "ewma_vol": 0.6,
        "rank_rv_cc_60": 0.5,
        "funding_rate": 0.0003,
        "basis_annualized": 0.12,
    },
    "DOGE/USDT:USDT": {
        "close": 0.3512,
        "momentum_240": 0.001,
        "zscore_240": 0.1,
    },
}

#: (underlying, tenor days, atm_iv, rr_25d, iv_minus_rv)
OPTIONS = (
    ("BTC", 7.0, 0.60, -0.03, 0.09),
    ("BTC", 30.0, 0.55, 0.02, 0.05),
    ("BTC", 90.0, 0.58, 0.01, 0.08),
    ("ETH", 28.0, 0.70, -0.04, 0.15),
    ("ETH", 63.0, 0.72, -0.02, 0.17),
)


@dataclass(frozen=True)
class FixtureSnapshot:
    """Shaped like qbtc.features.FeatureSnapshot."""

    snapshot_id: str
    timestamp: datetime
    perps: pl.DataFrame
    options: pl.DataFrame


def perps_frame(perps: dict[str, dict[str, Any]], at: datetime) -> pl.DataFrame:
    rows = []
    for symbol, values in perps.items():
        row: dict[str, Any] = dict.fromkeys(FEATURES.columns)
        row.update({"symbol": symbol, "timestamp": at, **values})
        rows.append(row)
    return pl.DataFrame(rows, schema=FEATURES.schema)


def options_frame(options: tuple[tuple[str, float, float, float, float], ...], at: datetime):
    rows = [
        {
            "underlying": underlying,
            "expiry": at + timedelta(days=tenor),
            "timestamp": at,
            "tenor_days": tenor,
            "forward": 100.0,
            "atm_iv": atm,
            "rr_25d": rr,
            "bf_25d": 0.01,
            "term_slope": 0.02,
            "iv_minus_rv": spread,
        }
        for underlying, tenor, atm, rr, spread in options
    ]
    return pl.DataFrame(rows, schema=OPTION_FEATURES.schema)


def make_snapshot(
    perps: dict[str, dict[str, Any]] | None = None,
    options: tuple[tuple[str, float, float, float, float], ...] = OPTIONS,
    at: datetime = DECISION_BAR,
) -> FixtureSnapshot:
    perp_rows = perps_frame(PERPS if perps is None else perps, at)
    option_rows = options_frame(options, at)
    digest = hashlib.sha256()
    for frame in (perp_rows, option_rows):
        digest.update(frame.write_csv().encode())
    return FixtureSnapshot("fs" + digest.hexdigest()[:16], at, perp_rows, option_rows)
