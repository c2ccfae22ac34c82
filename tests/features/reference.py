"""Independent numpy implementations of the perp features for one gap-free series.

Written from the textbook formulas with plain loops, to check the polars expressions.
Index ``i`` is a bar; a value needs its whole window inside the series, else NaN.
"""

from __future__ import annotations

import math

import numpy as np

YEAR = 525_600.0


def _window(i: int, n: int) -> slice:
    return slice(i - n + 1, i + 1)


def close_to_close(close: np.ndarray, n: int) -> np.ndarray:
    r = np.diff(np.log(close), prepend=np.nan)
    out = np.full(close.size, np.nan)
    for i in range(n, close.size):
        out[i] = math.sqrt(np.var(r[_window(i, n)], ddof=1) * YEAR)
    return out


def parkinson(high: np.ndarray, low: np.ndarray, n: int) -> np.ndarray:
    term = np.log(high / low) ** 2 / (4.0 * math.log(2.0))
    out = np.full(high.size, np.nan)
    for i in range(n - 1, high.size):
        out[i] = math.sqrt(term[_window(i, n)].mean() * YEAR)
    return out


def garman_klass(
    o: np.ndarray, h: np.ndarray, low: np.ndarray, c: np.ndarray, n: int
) -> np.ndarray:
    term = 0.5 * np.log(h / low) ** 2 - (2.0 * math.log(2.0) - 1.0) * np.log(c / o) ** 2
    out = np.full(o.size, np.nan)
    for i in range(n - 1, o.size):
        out[i] = math.sqrt(term[_window(i, n)].mean() * YEAR)
    return out


def yang_zhang(o: np.ndarray, h: np.ndarray, low: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    k = 0.34 / (1.34 + (n + 1) / (n - 1))
    out = np.full(o.size, np.nan)
    for i in range(n, o.size):
        w = _window(i, n)
        opening = np.log(o[w] / c[i - n : i])
        body = np.log(c[w] / o[w])
        rs = np.log(h[w] / c[w]) * np.log(h[w] / o[w]) + np.log(low[w] / c[w]) * np.log(
            low[w] / o[w]
        )
        variance = np.var(opening, ddof=1) + k * np.var(body, ddof=1) + (1 - k) * rs.mean()
        out[i] = math.sqrt(variance * YEAR)
    return out


def ewma_vol(close: np.ndarray, half_life: int) -> np.ndarray:
    r = np.diff(np.log(close))
    decay = 0.5 ** (1.0 / half_life)
    out = np.full(close.size, np.nan)
    for i in range(half_life, close.size):
        squared = r[:i][::-1] ** 2  # newest first: returns of bars 1..i
        weights = decay ** np.arange(squared.size)
        out[i] = math.sqrt((weights * squared).sum() / weights.sum() * YEAR)
    return out


def wilder(values: np.ndarray, n: int) -> np.ndarray:
    """Wilder smoothing of ``values[1:]`` (index 0 undefined), seeded by an n-mean."""
    out = np.full(values.size, np.nan)
    out[n] = values[1 : n + 1].mean()
    for i in range(n + 1, values.size):
        out[i] = out[i - 1] + (values[i] - out[i - 1]) / n
    return out


def atr(h: np.ndarray, low: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    prev = np.concatenate([[np.nan], c[:-1]])
    tr = np.maximum.reduce([h - low, np.abs(h - prev), np.abs(low - prev)])
    return wilder(tr, n)


def rsi(close: np.ndarray, n: int) -> np.ndarray:
    change = np.diff(close, prepend=np.nan)
    gains = wilder(np.where(change > 0, change, 0.0), n)
    losses = wilder(np.where(change < 0, -change, 0.0), n)
    return 100.0 * gains / (gains + losses)


def momentum(close: np.ndarray, n: int) -> np.ndarray:
    log_close = np.log(close)
    r = np.diff(log_close, prepend=np.nan)
    out = np.full(close.size, np.nan)
    for i in range(n, close.size):
        out[i] = (log_close[i] - log_close[i - n]) / (
            np.std(r[_window(i, n)], ddof=1) * math.sqrt(n)
        )
    return out


def zscore(values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(values.size, np.nan)
    for i in range(n - 1, values.size):
        w = values[_window(i, n)]
        out[i] = (values[i] - w.mean()) / np.std(w, ddof=1)
    return out
