"""A small lake for risk stage and flow tests: prices, marks, positions, signals, gate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from qbtc.lake import write_dataset
from qbtc.pricing import black76_price, year_fraction
from qbtc.schemas import (
    OHLCV,
    OPTION_QUOTES,
    POSITIONS,
    QUALITY_RESULTS,
    SIGNALS,
    TICKERS,
)

AS_OF = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
BAR = AS_OF - timedelta(minutes=1)
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
CALL = "BTC/USDT:USDT-260327-50000-C"
EXPIRY = datetime(2026, 3, 27, 8, tzinfo=UTC)
SPOT = {BTC: 50_000.0, ETH: 3_000.0}
FORWARD, IV = 50_100.0, 0.55


def write_prices(lake_dir: Path, bars: int = 400, seed: int = 2) -> None:
    """Correlated 1-minute closes ending at the spot marks (about 60% and 80% a year)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((bars, 2))
    shocks = np.column_stack([z[:, 0], 0.7 * z[:, 0] + np.sqrt(1 - 0.7**2) * z[:, 1]])
    sd = np.array([0.6, 0.8]) / np.sqrt(525_600)
    times = [AS_OF - timedelta(minutes=bars - k) for k in range(bars)]
    frames = []
    for j, symbol in enumerate((BTC, ETH)):
        path = np.cumprod(1 + sd[j] * shocks[:, j])
        close = SPOT[symbol] * path / path[-1]
        frames.append(
            pl.DataFrame(
                {
                    "symbol": symbol,
                    "timeframe": "1m",
                    "timestamp": times,
                    "open": close,
                    "high": close,
                    "low": close,
                    "close": close,
                    "volume": 1.0,
                    "source": "test",
                },
                schema=OHLCV.schema,
            )
        )
    write_dataset(lake_dir, OHLCV, pl.concat(frames))


def write_marks(lake_dir: Path, age_s: float = 30.0) -> None:
    at = AS_OF - timedelta(seconds=age_s)
    tickers = [
        {
            "symbol": s,
            "timestamp": at,
            "bid": p,
            "ask": p,
            "last": p,
            "mark": p,
            "index": p,
            "volume_24h": 1.0,
            "quote_volume_24h": None,
            "open_interest": None,
            "source": "test",
        }
        for s, p in SPOT.items()
    ]
    write_dataset(lake_dir, TICKERS, pl.DataFrame(tickers, schema=TICKERS.schema))
    mark = float(black76_price(FORWARD, 50_000.0, year_fraction(at, EXPIRY), IV, True))
    quote = {
        "symbol": CALL,
        "underlying": "BTC",
        "timestamp": at,
        "expiry": EXPIRY,
        "strike": 50_000.0,
        "option_type": "call",
        "settlement": "linear",
        "bid": mark,
        "ask": mark,
        "mark": mark,
        "bid_iv": IV,
        "ask_iv": IV,
        "mark_iv": IV,
        "underlying_price": FORWARD,
        "open_interest": None,
        "source": "test",
    }
    write_dataset(lake_dir, OPTION_QUOTES, pl.DataFrame([quote], schema=OPTION_QUOTES.schema))


def position(symbol: str, quantity: float, entry: float, **extra: object) -> dict:
    row = {
        "id": f"main:{symbol}",
        "portfolio_id": "main",
        "symbol": symbol,
        "type": "perp",
        "side": "long" if quantity > 0 else "short" if quantity < 0 else "flat",
        "quantity": quantity,
        "entry_price": entry,
        "mark_price": entry,
        "unrealized_pnl": 0.0,
        "realized_pnl": 0.0,
        "fees": 0.0,
        "funding": 0.0,
        "underlying": symbol.split("/")[0],
        "expiry": None,
        "strike": None,
        "option_type": None,
        "delta": None,
        "gamma": None,
        "vega": None,
        "theta": None,
        "timestamp": AS_OF - timedelta(minutes=5),
    }
    return row | extra


def write_positions(lake_dir: Path, rows: list[dict] | None = None) -> None:
    rows = (
        rows
        if rows is not None
        else [
            position(BTC, 2.0, 48_000.0),
            position(
                CALL,
                10.0,
                4_000.0,
                type="option",
                expiry=EXPIRY,
                strike=50_000.0,
                option_type="call",
            ),
            position(ETH, 0.0, 2_900.0, realized_pnl=1_500.0, fees=100.0, funding=-20.0),
        ]
    )
    write_dataset(lake_dir, POSITIONS, pl.DataFrame(rows, schema=POSITIONS.schema))


def write_signals(
    lake_dir: Path, signals: dict[str, tuple[str, float]] | None = None, bar: datetime = BAR
) -> None:
    signals = signals or {BTC: ("long", 0.8), ETH: ("short", 0.5)}
    rows = [
        {
            "signal_id": f"{s}|{bar.isoformat()}",
            "run_id": "signals-run",
            "symbol": s,
            "timestamp": bar,
            "direction": d,
            "strength": v,
            "confidence": 0.7,
            "horizon_minutes": 60,
            "provider": "rules",
            "model": None,
            "rationale": "test",
            "feature_snapshot": "snap",
            "fallback_reason": None,
            "created_at": bar,
        }
        for s, (d, v) in signals.items()
    ]
    write_dataset(lake_dir, SIGNALS, pl.DataFrame(rows, schema=SIGNALS.schema))


def write_gate(lake_dir: Path, passed: bool = True, reasons: tuple[str, ...] = ()) -> None:
    row = {
        "run_id": f"gate-{passed}",
        "dataset": "*",
        "check": "gate",
        "level": "dataset",
        "status": "pass" if passed else "fail",
        "element_count": 1,
        "unexpected_count": 0 if passed else 1,
        "details": json.dumps({"reasons": list(reasons)}),
        "timestamp": AS_OF,
    }
    write_dataset(lake_dir, QUALITY_RESULTS, pl.DataFrame([row], schema=QUALITY_RESULTS.schema))


def write_lake(lake_dir: Path, *, gate: bool = True, marks_age_s: float = 30.0) -> None:
    """Prices, marks, the default book and signals; a passed gate unless ``gate=False``."""
    write_prices(lake_dir)
    write_marks(lake_dir, age_s=marks_age_s)
    write_positions(lake_dir)
    write_signals(lake_dir)
    if gate:
        write_gate(lake_dir)
