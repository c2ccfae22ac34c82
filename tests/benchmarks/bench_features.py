"""Features: qbtc (polars, lazy) against the same features in pandas, 100 perps x 90 days.

Synthetic 1-minute bars (seeded numpy: geometric random walks at prices from 0.1 to 50,000
with a few missing bars), tickers every 5 minutes and funding every 8 hours are written to
Parquet once. Each implementation then runs in its own fresh interpreter that reads them,
computes every ``features`` column (timed) and reports its own peak RSS; the outputs are
compared column by column: null patterns identical, values within 1e-9 (absolute, or
relative above 1).

Size: ``QBTC_BENCH_FEATURES_SYMBOLS`` (100) x ``QBTC_BENCH_FEATURES_DAYS`` (90).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from qbtc.schemas import FEATURES, OHLCV

T0_US = 1_767_225_600_000_000  # 2026-01-01 00:00 UTC
MINUTE_US = 60_000_000
TOLERANCE = 1e-9

CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.benchmarks.bench_features import compute_in_child
seconds, cpu = compute_in_child({engine!r}, Path({folder!r}))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(json.dumps({{"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak}}))
"""


def generate(folder: Path, symbols: int, days: int, seed: int = 42) -> int:
    """Write ``ohlcv``, ``tickers`` and ``funding`` Parquet inputs; return the bar count."""
    rng = np.random.default_rng(seed)
    n = days * 1440
    stamps = T0_US + np.arange(n, dtype=np.int64) * MINUTE_US
    frames = []
    for i in range(symbols):
        level = 10 ** rng.uniform(-1, 4.7)
        sigma = rng.uniform(0.3, 1.2) / np.sqrt(525_600)
        close = level * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
        open_ = np.concatenate([[level], close[:-1]]) * np.exp(rng.normal(0.0, sigma / 10, n))
        high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, sigma, n)))
        low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, sigma, n)))
        keep = rng.random(n) > 5e-5  # a few missing bars: windows restart after them
        frames.append(
            pl.DataFrame(
                {
                    "symbol": f"P{i:03d}/USDT:USDT",
                    "timeframe": "1m",
                    "timestamp": pl.Series(stamps[keep]).cast(pl.Datetime("us", "UTC")),
                    "open": open_[keep],
                    "high": high[keep],
                    "low": low[keep],
                    "close": close[keep],
                    "volume": rng.lognormal(3.0, 1.0, n)[keep],
                    "source": "bench",
                }
            )
        )
    ohlcv = pl.concat(frames).cast(OHLCV.schema)  # type: ignore[arg-type]
    ohlcv.write_parquet(folder / "ohlcv.parquet")
    every_5 = ohlcv.filter(pl.col("timestamp").dt.minute() % 5 == 0)
    noise = pl.Series(rng.normal(0.0, 5e-4, every_5.height))
    tickers = every_5.select(
        "symbol",
        (pl.col("timestamp") + pl.duration(seconds=30)).alias("timestamp"),
        pl.col("close").alias("mark"),
        (pl.col("close") * (1.0 - noise)).alias("index"),
    )
    tickers.write_parquet(folder / "tickers.parquet")
    settlements = ohlcv.filter(
        (pl.col("timestamp").dt.hour() % 8 == 0) & (pl.col("timestamp").dt.minute() == 0)
    )
    funding = settlements.select(
        "symbol", "timestamp", pl.Series(rng.normal(1e-4, 2e-4, settlements.height)).alias("funding_rate")
    )  # fmt: skip
    funding.write_parquet(folder / "funding.parquet")
    return ohlcv.height


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def compute_in_child(engine: str, folder: Path) -> tuple[float, float]:
    """Read the inputs, compute the features with ``engine``, write the output.

    Returns the wall-clock and CPU seconds (all threads) of the computation alone.
    """
    if engine == "polars":
        from qbtc.features.perp import COLLECT_ENGINE, compute_perp_features

        inputs = {
            name: pl.read_parquet(folder / f"{name}.parquet")
            for name in ("ohlcv", "tickers", "funding")
        }
        started, cpu = time.perf_counter(), _cpu_seconds()
        out = compute_perp_features(
            inputs["ohlcv"].lazy(),
            tickers=inputs["tickers"].lazy(),
            funding=inputs["funding"].lazy(),
        ).collect(engine=COLLECT_ENGINE)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        out.write_parquet(folder / "polars.parquet")
        return seconds, cpu
    import pandas as pd

    from tests.benchmarks.features_pandas import compute_features

    frames = {
        name: pd.read_parquet(folder / f"{name}.parquet")
        for name in ("ohlcv", "tickers", "funding")
    }
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = compute_features(
        frames["ohlcv"], frames["tickers"], frames["funding"], list(FEATURES.columns)
    )
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    result.to_parquet(folder / "pandas.parquet")
    return seconds, cpu


def _run_child(engine: str, folder: Path) -> dict[str, float]:
    root = str(Path(__file__).resolve().parents[2])
    code = CHILD.format(root=root, engine=engine, folder=str(folder))
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def exact_zscore(values: np.ndarray, window: int) -> np.ndarray:
    """Two-pass z-score over trailing windows of ``values`` (NaN before a full window)."""
    views = np.lib.stride_tricks.sliding_window_view(values, window)
    out = np.full(values.size, np.nan)
    out[window - 1 :] = (values[window - 1 :] - views.mean(axis=1)) / views.std(axis=1, ddof=1)
    return out


def _error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both = ~(np.isnan(a) | np.isnan(b))
    return np.abs(a[both] - b[both]) / np.maximum(1.0, np.abs(b[both]))


def _against_exact(left: pl.LazyFrame, right: pl.LazyFrame, column: str, source: str) -> dict:
    """Errors of both outputs against a two-pass z-score on the symbol where they differ most."""
    keys = left.select("symbol", column).collect()
    other = right.select(pl.col(column).alias("_other")).collect()
    joined = pl.concat([keys, other], how="horizontal")
    worst = joined.with_columns((pl.col(column) - pl.col("_other")).abs().alias("_gap"))
    symbol = worst.sort("_gap", nulls_last=True, descending=True).get_column("symbol")[0]
    rows = pl.col("symbol") == symbol
    values = left.filter(rows).select(source).collect().to_series().to_numpy()
    exact = exact_zscore(values, int(column.rsplit("_", 1)[1]))
    errors = {}
    for engine, frame in (("polars", left), ("pandas", right)):
        got = frame.filter(rows).select(column).collect().to_series().to_numpy().astype(float)
        errors[f"{column}_error_vs_two_pass_{engine}"] = float(_error(got, exact).max())
    return errors


def compare(folder: Path) -> dict[str, object]:
    """Per-column agreement of the two outputs (same row order), with a diagnosis.

    Rolling variances of raw price levels lose precision in pandas' online algorithm; for
    the z-score columns both outputs are also checked against a two-pass computation.
    """
    left, right = (pl.scan_parquet(folder / f"{e}.parquet") for e in ("polars", "pandas"))
    worst, worst_column, null_mismatches, over = 0.0, "", 0, {}
    errors: dict[str, float] = {}
    keys = ["symbol", "timestamp"]
    same_keys = left.select(keys).collect().equals(right.select(keys).collect())
    for column in FEATURES.columns:
        if column in keys:
            continue
        a = left.select(column).collect().to_series().to_numpy().astype(float)
        b = right.select(column).collect().to_series().to_numpy().astype(float)
        null_mismatches += int((np.isnan(a) != np.isnan(b)).sum())
        error = errors[column] = float(_error(a, b).max(initial=0.0))
        if error > TOLERANCE:
            over[column] = error
        if error > worst:
            worst, worst_column = error, column
    diagnosis: dict[str, object] = {}
    ohlcv = pl.scan_parquet(folder / "ohlcv.parquet")
    inputs = ohlcv.filter(pl.col("timeframe") == "1m").sort("symbol", "timestamp")
    left = pl.concat([left, inputs.select("volume")], how="horizontal")  # close is there
    for column, source in (("zscore_240", "close"), ("volume_z_60", "volume")):
        diagnosis |= _against_exact(left, right, column, source)
    return {
        "same_rows_and_order": same_keys,
        "null_pattern_mismatches": null_mismatches,
        "max_error (abs, rel above 1)": worst,
        "max_error_column": worst_column,
        "equal_within_1e-9": same_keys and null_mismatches == 0 and not over,
        "columns_over_1e-9": over or "none",
        "max_error_other_columns": max(
            (e for c, e in errors.items() if c not in over), default=0.0
        ),
        **diagnosis,
    }


def run() -> dict[str, object]:
    symbols = int(os.environ.get("QBTC_BENCH_FEATURES_SYMBOLS", "100"))
    days = int(os.environ.get("QBTC_BENCH_FEATURES_DAYS", "90"))
    with tempfile.TemporaryDirectory(prefix="qbtc-bench-features-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        rows = generate(folder, symbols, days)
        generate_s = time.perf_counter() - started
        polars_run = _run_child("polars", folder)
        pandas_run = _run_child("pandas", folder)
        agreement = compare(folder)
    speedup = pandas_run["seconds"] / polars_run["seconds"]
    return {
        "perps x days": f"{symbols} x {days}",
        "bars": rows,
        "feature_columns": len(FEATURES.columns) - 2,
        "generate_s": round(generate_s, 1),
        "polars_s": round(polars_run["seconds"], 2),
        "pandas_s": round(pandas_run["seconds"], 2),
        "speedup (pandas / polars)": round(speedup, 2),
        "polars_cpu_s (all threads)": round(polars_run["cpu_seconds"], 2),
        "pandas_cpu_s": round(pandas_run["cpu_seconds"], 2),
        "cpu_speedup (pandas / polars)": round(
            pandas_run["cpu_seconds"] / polars_run["cpu_seconds"], 2
        ),
        "polars_peak_rss_mb": round(polars_run["peak_rss_mb"]),
        "pandas_peak_rss_mb": round(pandas_run["peak_rss_mb"]),
        "polars_bars_per_s": round(rows / polars_run["seconds"]),
        **agreement,
        "cpu_cores": os.cpu_count(),
        "polars": pl.__version__,
    }
