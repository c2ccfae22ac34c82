"""A fixture lake for the API: every dataset the API reads, small and deterministic.

Used by ``tests/api`` (a few symbols, two days) and by ``tests/benchmarks/bench_api.py``
(ten perps, several days of 1m bars). Times are fixed so figures are reproducible.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from qbtc.lake import write_dataset
from tests.factories import ohlcv_frame

END = datetime(2026, 1, 7, tzinfo=UTC)
PERPS: tuple[str, ...] = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
PORTFOLIO = "main"


@dataclass(frozen=True)
class FixtureLake:
    """What was written: the symbols and the time of the last bar."""

    root: Path
    symbols: tuple[str, ...]
    last_bar: datetime


def frame(rows: list[dict[str, object]], dataset: str) -> pl.DataFrame:
    from qbtc.schemas import get_dataset

    return pl.DataFrame(rows, schema=get_dataset(dataset).schema, orient="row")


def write_market(root: Path, symbols: tuple[str, ...], days: int) -> datetime:
    """1m bars for ``days`` days ending at END, a ticker per symbol and 8h funding."""
    start = END - timedelta(days=days)
    for day in range(days):
        bars = ohlcv_frame(symbols, n=1440, start=start + timedelta(days=day), seed=day)
        write_dataset(root, "ohlcv", bars)
    last_bar = END - timedelta(minutes=1)
    tickers, funding = [], []
    for index, symbol in enumerate(symbols):
        price = 100.0 * (index + 1)
        for minute in range(3):
            stamp = last_bar - timedelta(minutes=minute)
            row = (symbol, stamp, price - 0.1, price + 0.1, price, price, price, 1e4, 1e6, 5e3)
            tickers.append(dict(zip(TICKER_COLUMNS, (*row, "test"), strict=True)))
        for hours in range(0, 24 * days, 8):
            stamp = start + timedelta(hours=hours)
            funding.append(
                {
                    "symbol": symbol,
                    "timestamp": stamp,
                    "funding_rate": 0.0001 * (index + 1),
                    "mark_price": price,
                    "index_price": price,
                    "source": "test",
                }
            )
    write_dataset(root, "tickers", frame(tickers, "tickers"))
    write_dataset(root, "funding_rates", frame(funding, "funding_rates"))
    return last_bar


TICKER_COLUMNS = (
    "symbol",
    "timestamp",
    "bid",
    "ask",
    "last",
    "mark",
    "index",
    "volume_24h",
    "quote_volume_24h",
    "open_interest",
    "source",
)


def write_options(root: Path, stamp: datetime) -> None:
    """Two snapshots of a small BTC chain (two expiries, three strikes, calls and puts)."""
    rows = []
    for snap in (stamp - timedelta(minutes=5), stamp):
        for expiry_days, code in ((30, "260206"), (90, "260407")):
            expiry = datetime(2026, 1, 7, 8, tzinfo=UTC) + timedelta(days=expiry_days - 1)
            for strike in (90_000.0, 100_000.0, 110_000.0):
                for kind, letter in (("call", "C"), ("put", "P")):
                    rows.append(
                        {
                            "symbol": f"BTC/USDT:USDT-{code}-{int(strike)}-{letter}",
                            "underlying": "BTC",
                            "timestamp": snap,
                            "expiry": expiry,
                            "strike": strike,
                            "option_type": kind,
                            "settlement": "linear",
                            "bid": 1000.0,
                            "ask": 1100.0,
                            "mark": 1050.0,
                            "bid_iv": 0.49,
                            "ask_iv": 0.51,
                            "mark_iv": 0.5,
                            "underlying_price": 100_000.0,
                            "open_interest": 10.0,
                            "source": "test",
                        }
                    )
    write_dataset(root, "option_quotes", frame(rows, "option_quotes"))


def write_book(root: Path, symbols: tuple[str, ...], stamp: datetime) -> None:
    """Positions (two snapshots each), risk metrics, signals, orders, fills and alerts."""
    positions = []
    for snap in (stamp - timedelta(minutes=1), stamp):
        for index, symbol in enumerate(symbols):
            quantity = (index + 1) * (1.0 if index % 2 == 0 else -1.0)
            positions.append(position(symbol, quantity, 100.0 * (index + 1), snap))
    write_dataset(root, "positions", frame(positions, "positions"))
    risk = [
        _risk(stamp - timedelta(minutes=m), method)
        for m in range(5)
        for method in ("historical", "parametric")
    ]
    risk.append({**_risk(stamp, "historical"), "phase": "pre_trade", "var": 11_000.0})
    write_dataset(root, "risk_metrics", frame(risk, "risk_metrics"))
    write_dataset(root, "signals", frame([_signal(s, stamp) for s in symbols], "signals"))
    intents = [_intent(s, stamp, i) for i, s in enumerate(symbols)]
    write_dataset(root, "order_intents", frame(intents, "order_intents"))
    events = [_event(row, stamp) for row in intents if row["status"] == "accepted"]
    write_dataset(root, "order_events", frame(events, "order_events"))
    write_dataset(root, "alerts", frame([alert("a1", stamp)], "alerts"))


def alert(alert_id: str, stamp: datetime) -> dict[str, object]:
    return {
        "alert_id": alert_id,
        "run_id": "run-2",
        "timestamp": stamp,
        "kind": "var_limit",
        "severity": "warning",
        "message": "VaR at 80% of its limit",
        "details": "{}",
    }


def position(symbol: str, quantity: float, price: float, stamp: datetime) -> dict[str, object]:
    return {
        "id": f"{PORTFOLIO}:{symbol}",
        "portfolio_id": PORTFOLIO,
        "symbol": symbol,
        "type": "perp",
        "side": "long" if quantity > 0 else "short",
        "quantity": quantity,
        "entry_price": price,
        "mark_price": price * 1.01,
        "unrealized_pnl": quantity * price * 0.01,
        "realized_pnl": 5.0,
        "fees": 1.0,
        "funding": -0.5,
        "underlying": symbol.split("/")[0],
        "expiry": None,
        "strike": None,
        "option_type": None,
        "delta": None,
        "gamma": None,
        "vega": None,
        "theta": None,
        "timestamp": stamp,
    }


def option_leg(
    portfolio_id: str, symbol: str, quantity: float, stamp: datetime
) -> dict[str, object]:
    """A snapshot of an option leg of ``portfolio_id`` (quantity signed, expiring 6 Feb)."""
    strike = float(symbol.split("-")[2])
    return {
        **position(symbol, quantity, 100.0, stamp),
        "id": f"{portfolio_id}:{symbol}",
        "portfolio_id": portfolio_id,
        "type": "option",
        "underlying": symbol.split("/")[0],
        "expiry": datetime(2026, 2, 6, 8, tzinfo=UTC),
        "strike": strike,
        "option_type": "call" if symbol.endswith("-C") else "put",
        "delta": 0.5 if symbol.endswith("-C") else -0.5,
    }


def structure_intent(
    portfolio_id: str, symbol: str, structure_id: str, stamp: datetime
) -> dict[str, object]:
    """An accepted intent selling 5 of ``symbol`` as a leg of ``structure_id``."""
    return {
        "client_order_id": f"qb-{portfolio_id}-{symbol}",
        "run_id": "run-2",
        "portfolio_id": portfolio_id,
        "strategy": "qbtc",
        "symbol": symbol,
        "leg": symbol[-1].lower(),
        "timestamp": stamp,
        "side": "sell",
        "quantity": 5.0,
        "order_type": "limit",
        "limit_price": 100.0,
        "reduce_only": False,
        "notional": 500.0,
        "status": "accepted",
        "reason": None,
        "structure_id": structure_id,
    }


def _risk(stamp: datetime, method: str) -> dict[str, object]:
    return {
        "portfolio_id": PORTFOLIO,
        "run_id": "run-2",
        "timestamp": stamp,
        "method": method,
        "phase": "book",
        "var": 12_000.0,
        "cvar": 15_000.0,
        "sharpe": 1.2,
        "sortino": 1.5,
        "drawdown": 0.03,
        "equity": 1_010_000.0,
        "gross_notional": 500_000.0,
        "net_notional": 100_000.0,
        "leverage": 0.5,
        "delta_usd": 100_000.0,
        "gamma_usd": 1_000.0,
        "vega_usd": 500.0,
        "theta_usd": -50.0,
        "mc_stderr": None,
        "confidence": 0.99,
        "horizon_days": 1.0,
    }


def _signal(symbol: str, stamp: datetime) -> dict[str, object]:
    return {
        "signal_id": f"sig-{symbol}",
        "run_id": "run-2",
        "symbol": symbol,
        "timestamp": stamp,
        "direction": "long",
        "strength": 0.5,
        "confidence": 0.7,
        "horizon_minutes": 240,
        "provider": "rules",
        "model": None,
        "rationale": "momentum",
        "feature_snapshot": "abc",
        "fallback_reason": None,
        "created_at": stamp,
    }


def _intent(symbol: str, stamp: datetime, index: int) -> dict[str, object]:
    refused = index % 3 == 2
    return {
        "client_order_id": f"qb{index:032d}",
        "run_id": "run-2",
        "portfolio_id": PORTFOLIO,
        "strategy": "trend",
        "symbol": symbol,
        "leg": "perp",
        "timestamp": stamp,
        "side": "buy",
        "quantity": 1.0,
        "order_type": "market",
        "limit_price": None,
        "reduce_only": False,
        "notional": 100.0,
        "status": "refused" if refused else "accepted",
        "reason": "symbol notional limit" if refused else None,
    }


def _event(intent: dict[str, object], stamp: datetime) -> dict[str, object]:
    cid = str(intent["client_order_id"])
    return {
        "event_id": f"{cid}:filled",
        "client_order_id": cid,
        "run_id": "run-2",
        "timestamp": stamp,
        "event": "filled",
        "symbol": intent["symbol"],
        "side": intent["side"],
        "quantity": intent["quantity"],
        "filled_quantity": intent["quantity"],
        "price": 100.0,
        "venue_order_id": f"v-{cid[-4:]}",
        "reason": None,
    }


def write_runs(root: Path, stamp: datetime, *, gate_passed: bool = True) -> None:
    """Two pipeline runs and the quality gate of the last one."""
    runs = [
        _run("run-1", stamp - timedelta(hours=1), "completed"),
        _run("run-2", stamp, "completed"),
    ]
    write_dataset(root, "runs", frame(runs, "runs"))
    gate = {
        "run_id": "run-2",
        "dataset": "*",
        "check": "gate",
        "level": "dataset",
        "status": "pass" if gate_passed else "fail",
        "element_count": 100,
        "unexpected_count": 0,
        "details": json.dumps({"reasons": [] if gate_passed else ["ohlcv: stale"]}),
        "timestamp": stamp,
    }
    write_dataset(root, "quality_results", frame([gate], "quality_results"))


def _run(run_id: str, stamp: datetime, status: str) -> dict[str, object]:
    return {
        "run_id": run_id,
        "flow": "pipeline",
        "status": status,
        "timestamp": stamp,
        "finished_at": stamp + timedelta(seconds=30),
        "parameters": "{}",
        "seed": 7,
        "as_of": None,
        "code_version": "test",
        "package_versions": "{}",
        "snapshots": "{}",
        "llm_model": None,
        "stage_durations": "{}",
        "message": None,
    }


def write_kill_switch(data_dir: Path, *, on: bool, reason: str | None = None) -> None:
    state = data_dir / "state"
    state.mkdir(parents=True, exist_ok=True)
    since = END.isoformat()
    (state / "kill_switch.json").write_text(
        json.dumps({"on": on, "reason": reason, "since": since})
    )


def build_lake(data_dir: Path, *, symbols: tuple[str, ...] = PERPS, days: int = 2) -> FixtureLake:
    """Write every dataset the API reads under ``data_dir/lake``."""
    root = data_dir / "lake"
    last_bar = write_market(root, symbols, days)
    write_options(root, last_bar)
    write_book(root, symbols, last_bar)
    write_runs(root, last_bar)
    write_kill_switch(data_dir, on=False)
    return FixtureLake(root, symbols, last_bar)
