"""Option-surface features on synthetic smiles with known answers."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from qbtc.features import compute_option_features
from qbtc.schemas import FEATURES, OPTION_FEATURES, OPTION_QUOTES
from tests.features.fixtures import MINUTE, T0

FORWARD = 50_000.0
NOW = T0 + timedelta(hours=12)
Smile = Callable[[float], float]


def skewed(k: float) -> float:
    """IV as a function of log-moneyness ln(K/F): put skew and convexity."""
    return 0.6 - 0.1 * k + 0.3 * k * k


def flat(k: float) -> float:
    return 0.5


def strike_at_delta(smile: Smile, days: float, delta: float) -> float:
    """Strike whose Black-76 forward delta at its own smile IV is ``delta`` (scipy, not qbtc)."""
    years = days / 365.0

    def call_delta(strike: float) -> float:
        vol_sqrt_t = smile(math.log(strike / FORWARD)) * math.sqrt(years)
        return float(norm.cdf(math.log(FORWARD / strike) / vol_sqrt_t + 0.5 * vol_sqrt_t))

    target = delta if delta > 0 else 1.0 + delta  # put delta = call delta - 1
    low, high = (FORWARD, FORWARD * 5) if delta > 0 else (FORWARD / 5, FORWARD)
    return brentq(lambda strike: call_delta(strike) - target, low, high, xtol=1e-10)


def chain(
    smile: Smile,
    days: float,
    *,
    at: datetime = NOW,
    log_moneyness: np.ndarray | None = None,
    extra_strikes: tuple[float, ...] = (),
) -> pl.DataFrame:
    grid = np.linspace(-0.6, 0.6, 25) if log_moneyness is None else log_moneyness
    strikes = sorted({*(FORWARD * np.exp(grid)).tolist(), *extra_strikes})
    rows = [
        {
            "symbol": f"BTC/USDT:USDT-{at + timedelta(days=days):%y%m%d}-{strike:.4f}-{kind[0].upper()}",
            "underlying": "BTC",
            "timestamp": at,
            "expiry": at + timedelta(days=days),
            "strike": strike,
            "option_type": kind,
            "settlement": "linear",
            "bid": None,
            "ask": None,
            "mark": 1.0,
            "bid_iv": None,
            "ask_iv": None,
            "mark_iv": smile(math.log(strike / FORWARD)),
            "underlying_price": FORWARD,
            "open_interest": None,
            "source": "test",
        }
        for strike in strikes
        for kind in ("call", "put")
    ]
    return pl.DataFrame(rows, schema=OPTION_QUOTES.schema)


def features(quotes: pl.DataFrame, realised: pl.DataFrame | None = None) -> pl.DataFrame:
    rv = FEATURES.empty() if realised is None else realised
    return compute_option_features(quotes.lazy(), realised=rv.lazy()).collect()


def with_25_delta_nodes(smile: Smile, days: float, **kwargs) -> pl.DataFrame:
    call, put = strike_at_delta(smile, days, 0.25), strike_at_delta(smile, days, -0.25)
    return chain(smile, days, extra_strikes=(FORWARD, call, put), **kwargs)


def test_risk_reversal_and_butterfly_of_a_known_smile():
    out = features(with_25_delta_nodes(skewed, 30))
    call = math.log(strike_at_delta(skewed, 30, 0.25) / FORWARD)
    put = math.log(strike_at_delta(skewed, 30, -0.25) / FORWARD)
    row = out.row(0, named=True)
    assert out.schema == OPTION_FEATURES.schema
    assert row["forward"] == FORWARD
    assert row["tenor_days"] == pytest.approx(30.0, rel=1e-15)
    assert row["atm_iv"] == pytest.approx(0.6, abs=1e-15)
    assert row["rr_25d"] == pytest.approx(skewed(call) - skewed(put), abs=1e-10)
    assert row["bf_25d"] == pytest.approx((skewed(call) + skewed(put)) / 2 - 0.6, abs=1e-10)
    assert row["rr_25d"] < 0  # put skew
    assert row["bf_25d"] > 0  # convex smile
    assert row["term_slope"] is None  # a single expiry


def test_a_flat_smile_has_no_skew_and_no_butterfly():
    row = features(chain(flat, 10)).row(0, named=True)
    assert row["atm_iv"] == pytest.approx(0.5, abs=1e-15)
    assert row["rr_25d"] == pytest.approx(0.0, abs=1e-15)
    assert row["bf_25d"] == pytest.approx(0.0, abs=1e-15)


def test_atm_iv_is_interpolated_in_log_moneyness_at_the_forward():
    # Strikes at ln(K/F) = -0.1 and +0.3 only: linear weights 3/4 and 1/4.
    out = features(chain(skewed, 30, log_moneyness=np.array([-0.1, 0.3])))
    expected = 0.75 * skewed(-0.1) + 0.25 * skewed(0.3)
    assert out.get_column("atm_iv").item() == pytest.approx(expected, abs=1e-14)
    # Neither wing reaches 25 delta on such a narrow chain.
    assert out.get_column("rr_25d").item() is None


def test_a_chain_on_one_side_of_the_forward_has_no_row():
    assert features(chain(skewed, 30, log_moneyness=np.array([0.1, 0.2, 0.3]))).height == 0


def test_forward_is_the_median_underlying_price():
    quotes = chain(flat, 20)
    prices = np.full(quotes.height, FORWARD)
    prices[:3] = 1.0  # a few bad quotes do not move the median
    out = features(quotes.with_columns(pl.Series("underlying_price", prices)))
    assert out.get_column("forward").item() == FORWARD


def test_term_slope_per_year_between_neighbouring_expiries():
    def level(iv: float) -> Smile:
        return lambda k: iv

    quotes = pl.concat([chain(level(0.5), 7), chain(level(0.6), 30), chain(level(0.8), 90)])
    out = features(quotes).sort("tenor_days")
    first = (0.6 - 0.5) / (23 / 365)
    last = (0.8 - 0.6) / (60 / 365)
    assert out.get_column("term_slope").to_list() == pytest.approx([first, last, last], rel=1e-9)


def _realised(rows: list[tuple[datetime, float]]) -> pl.DataFrame:
    """``features`` rows of the BTC perp with only ``rv_cc_1440`` set."""
    given = {
        "symbol": ["BTC/USDT:USDT"] * len(rows),
        "timestamp": [t for t, _ in rows],
        "close": [1.0] * len(rows),
        "rv_cc_1440": [v for _, v in rows],
    }
    columns = {name: given.get(name, [None] * len(rows)) for name in FEATURES.columns}
    return pl.DataFrame(columns, schema=FEATURES.schema)


def test_implied_minus_realised_uses_the_last_bar_closed_at_the_snapshot():
    realised = _realised(
        [
            (NOW - 2 * MINUTE, 0.40),  # closed at NOW - 1 min
            (NOW - MINUTE, 0.45),  # closes exactly at NOW: known
            (NOW, 0.99),  # still open at NOW: must not be used
        ]
    )
    row = features(chain(flat, 10), realised).row(0, named=True)
    assert row["iv_minus_rv"] == pytest.approx(0.5 - 0.45, abs=1e-15)


def test_implied_minus_realised_is_null_when_realised_vol_is_stale():
    realised = _realised([(NOW - timedelta(hours=2), 0.40)])
    assert features(chain(flat, 10), realised).get_column("iv_minus_rv").item() is None


def test_expired_and_unpriced_quotes_are_ignored():
    quotes = chain(flat, 10)
    expired = quotes.with_columns(pl.col("timestamp") + timedelta(days=11))
    broken = quotes.with_columns(pl.lit(None, pl.Float64).alias("mark_iv"))
    assert features(pl.concat([expired, broken])).height == 0
