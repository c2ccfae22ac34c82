"""The ``features`` columns written the usual pandas way, as the benchmark's peer.

Same definitions as ``qbtc.features`` (see its module docs): windows count 1-minute bars
inside gap-free segments (``groupby(segment)`` with ``min_periods`` = window), vols
annualised with 525,600 bars a year, Wilder smoothing seeded with a simple mean, carry joined
``merge_asof`` backward to the bar close with a tolerance, ranks ``groupby(timestamp).rank``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

YEAR = 525_600.0
LN2 = math.log(2.0)
BAR = pd.Timedelta(minutes=1)


def _rolling(group, column: str, window: int, how: str) -> pd.Series:
    return group[column].transform(lambda s: getattr(s.rolling(window, min_periods=window), how)())


def _vol(variance: pd.Series) -> pd.Series:
    return np.sqrt((variance * YEAR).where(variance >= 0))


def _wilder(df: pd.DataFrame, column: str, window: int) -> pd.Series:
    """Wilder smoothing of ``column`` (defined from position 1), seeded with an n-mean."""
    group = df.groupby("segment", sort=False)
    seed_at = window  # first_position 1 + window - 1
    mean = _rolling(group, column, window, "mean")
    seeded = df[column].where(df["position"] > seed_at)
    seeded = seeded.mask(df["position"] == seed_at, mean)
    smooth = seeded.groupby(df["segment"], sort=False).transform(
        lambda s: s.ewm(alpha=1.0 / window, adjust=False).mean()
    )
    return smooth.where(df["position"] >= seed_at)


def _bar_features(df: pd.DataFrame) -> pd.DataFrame:
    new_segment = (df["symbol"] != df["symbol"].shift()) | (df["timestamp"].diff() != BAR)
    df["segment"] = new_segment.cumsum()
    group = df.groupby("segment", sort=False)
    df["position"] = group.cumcount()
    log_o, log_h, log_l, log_c = (np.log(df[c]) for c in ("open", "high", "low", "close"))
    df["log_close"] = log_c
    for h in (1, 15, 60, 240, 1440):
        df[f"ret_{h}"] = log_c - group["log_close"].shift(h)
    df["r"] = df["ret_1"]
    for n in (60, 1440):
        df[f"rv_cc_{n}"] = _vol(_rolling(group, "r", n, "var"))
    df["range2"] = (log_h - log_l) ** 2
    df["gk"] = 0.5 * df["range2"] - (2 * LN2 - 1) * (log_c - log_o) ** 2
    df["rv_parkinson_60"] = _vol(_rolling(group, "range2", 60, "mean") / (4 * LN2))
    df["rv_garman_klass_60"] = _vol(_rolling(group, "gk", 60, "mean"))
    df["opening"] = log_o - group["log_close"].shift(1)
    df["body"] = log_c - log_o
    df["rs"] = (log_h - log_c) * (log_h - log_o) + (log_l - log_c) * (log_l - log_o)
    for n in (60, 1440):
        k = 0.34 / (1.34 + (n + 1) / (n - 1))
        variance = (
            _rolling(group, "opening", n, "var")
            + k * _rolling(group, "body", n, "var")
            + (1 - k) * _rolling(group, "rs", n, "mean")
        )
        df[f"rv_yang_zhang_{n}"] = _vol(variance)
    df["r2"] = df["r"] ** 2
    ewma = group["r2"].transform(lambda s: s.ewm(halflife=60, adjust=True).mean())
    df["ewma_vol"] = _vol(ewma).where(df["position"] >= 60)
    previous_close = group["close"].shift(1)
    df["tr"] = pd.concat(
        [
            df["high"] - df["low"],
            (df["high"] - previous_close).abs(),
            (df["low"] - previous_close).abs(),
        ],
        axis=1,
    ).max(axis=1, skipna=False)
    df["atr_14"] = _wilder(df, "tr", 14)
    change = group["close"].diff()
    df["gain"], df["loss"] = change.clip(lower=0), (-change).clip(lower=0)
    gains, losses = _wilder(df, "gain", 14), _wilder(df, "loss", 14)
    df["rsi_14"] = 100 * gains / (gains + losses)
    scale = _rolling(group, "r", 240, "std") * math.sqrt(240)
    df["momentum_240"] = df["ret_240"] / scale
    for name, column, n in (("zscore_240", "close", 240), ("volume_z_60", "volume", 60)):
        # A z-score does not change when a constant is subtracted; removing each segment's
        # first value keeps pandas' running variance from losing digits on price levels.
        df["_level"] = df[column] - group[column].transform("first")
        levels = df.groupby("segment", sort=False)
        mean, std = _rolling(levels, "_level", n, "mean"), _rolling(levels, "_level", n, "std")
        df[name] = (df["_level"] - mean) / std
    df = df.drop(columns="_level")
    return df


def _as_of(df: pd.DataFrame, other: pd.DataFrame, columns: list[str], tolerance) -> pd.DataFrame:
    """Latest row of ``other`` stamped at or before each bar's close (open + 1 minute)."""
    right = other[["symbol", "timestamp", *columns]].rename(columns={"timestamp": "known_at"})
    left = df.assign(bar_close=df["timestamp"] + BAR).sort_values("bar_close")
    joined = pd.merge_asof(
        left,
        right.sort_values("known_at"),
        left_on="bar_close",
        right_on="known_at",
        by="symbol",
        direction="backward",
        tolerance=tolerance,
    )
    return joined.drop(columns=["bar_close", "known_at"])


def _rank(df: pd.DataFrame, column: str) -> pd.Series:
    by_bar = df.groupby("timestamp")[column]
    rank, count = by_bar.rank(method="average"), by_bar.transform("count")
    scaled = ((rank - 1) / (count - 1)).where(count > 1, 0.5)
    return scaled.where(df[column].notna())


def compute_features(
    ohlcv: pd.DataFrame, tickers: pd.DataFrame, funding: pd.DataFrame, columns: list[str]
) -> pd.DataFrame:
    """The ``features`` frame (``columns`` in order), sorted by symbol and timestamp."""
    df = ohlcv[ohlcv["timeframe"] == "1m"].sort_values(["symbol", "timestamp"], ignore_index=True)
    df = _bar_features(df)
    df = _as_of(df, funding, ["funding_rate"], pd.Timedelta(days=1))
    df = _as_of(df, tickers, ["mark", "index"], pd.Timedelta(minutes=15))
    basis = (df["mark"] / df["index"] - 1.0) * 1095
    df["basis_annualized"] = basis.where(df["index"] > 0)
    df = df.replace([np.inf, -np.inf], np.nan)
    for rank, source in (
        ("rank_momentum_240", "momentum_240"),
        ("rank_rv_cc_60", "rv_cc_60"),
        ("rank_funding", "funding_rate"),
    ):
        df[rank] = _rank(df, source)
    return df.sort_values(["symbol", "timestamp"], ignore_index=True)[columns]
