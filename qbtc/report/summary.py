"""The summary of one pipeline cycle, read back from the lake (what was stored is what is shown).

Data ingested, gate status, signals, orders, positions, PnL and VaR of the cycle ``run_id``,
each section read from its dataset; :mod:`qbtc.report.render` shows it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import polars as pl

from qbtc.execution.ledger import EventName
from qbtc.lake import read_dataset
from qbtc.lake.integrity import ALERT_KIND as CORRUPT_FILE
from qbtc.market.contracts import is_option_symbol
from qbtc.optionsbook import options_summary
from qbtc.quality.datadocs import run_page
from qbtc.symbols import base_currency

#: Alert kinds the library raises outside any run (shown by the cycles they happened in).
LIBRARY_ALERTS = (CORRUPT_FILE,)


@dataclass(frozen=True)
class CycleSummary:
    """What one cycle did, from the lake. Money in USDT."""

    run_id: str
    status: str
    message: str | None
    as_of: datetime | None
    durations: dict[str, float]
    market: dict[str, Any]
    gate: dict[str, Any]
    signals: list[dict[str, Any]]
    intents: dict[str, Any]
    orders: dict[str, int]
    positions: list[dict[str, Any]]
    pnl: dict[str, float]
    risk: dict[str, Any]
    lake_dir: str = field(default="")
    symbols: list[str] | None = None
    """The symbols the run was asked for (None: the configured ones)."""
    left_alone: list[str] = field(default_factory=list)
    """Open positions outside ``symbols`` (perps not in it, options on other underlyings): a
    run on a subset sends no order for them."""
    alerts: list[str] = field(default_factory=list)
    """Messages of the alerts the cycle raised (and files quarantined while it ran)."""
    options: dict[str, Any] = field(default_factory=dict)
    mode: str = "paper"
    """The trading mode (:mod:`qbtc.execution.modes`): paper, dry-run, testnet or live."""
    exchange: str = "sim"
    drawdown_limit: float | None = None
    """The kill switch's drawdown level (fraction of peak equity), when known."""
    coin_pnl: dict[str, float] = field(default_factory=dict)
    """Net PnL of the coin-settled options in their coin, per coin (BTC, ETH)."""

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))


def _run_row(lake_dir: Path, run_id: str) -> dict[str, Any]:
    runs = read_dataset(lake_dir, "runs").filter(pl.col("run_id") == run_id)
    if runs.is_empty():
        raise KeyError(
            f'no run {run_id!r} in the lake; list runs with: qbtc sql "SELECT * FROM runs"'
        )
    return runs.row(0, named=True)


def _market(lake_dir: Path, run_id: str) -> dict[str, Any]:
    ohlcv = read_dataset(lake_dir, "ohlcv")
    quarantine = read_dataset(lake_dir, "quarantine").filter(pl.col("run_id") == run_id)
    last = ohlcv["timestamp"].max() if ohlcv.height else None
    return {
        "ohlcv_rows": ohlcv.height,
        "symbols": ohlcv["symbol"].n_unique() if ohlcv.height else 0,
        "last_bar": last,
        "tickers_rows": read_dataset(lake_dir, "tickers").height,
        "funding_rows": read_dataset(lake_dir, "funding_rates").height,
        "option_quote_rows": read_dataset(lake_dir, "option_quotes").height,
        "quarantined_this_run": quarantine.height,
    }


def _gate(lake_dir: Path, run_id: str) -> dict[str, Any]:
    results = read_dataset(lake_dir, "quality_results").filter(
        (pl.col("dataset") == "*") & (pl.col("check") == "gate")
    )
    row = results.filter(pl.col("run_id") == run_id).tail(1)
    if row.is_empty():
        return {"status": "not run this cycle", "details": ""}
    first = row.row(0, named=True)
    page = run_page(lake_dir.parent, first["run_id"])
    return {
        "status": first["status"],
        "details": first["details"],
        "run_id": first["run_id"],
        "docs": str(page) if page.exists() else None,
    }


def _signals(lake_dir: Path, run_id: str, decider: str) -> list[dict[str, Any]]:
    """The cycle's signals: its own, or those of the run that decided its bar first."""
    signals = read_dataset(lake_dir, "signals")
    rows = signals.filter(pl.col("run_id") == run_id)
    if rows.is_empty():
        rows = signals.filter(pl.col("run_id") == decider)
    rows = rows.sort("symbol")
    cols = ["symbol", "direction", "strength", "confidence", "provider", "fallback_reason"]
    return rows.select(cols).to_dicts()


def _intents(lake_dir: Path, run_id: str) -> dict[str, Any]:
    """The intents the cycle executed: its own, or those of the run that decided the bar."""
    rows = read_dataset(lake_dir, "order_intents").filter(pl.col("run_id") == run_id)
    refused = rows.filter(pl.col("status") == "refused")
    return {
        "run_id": run_id,
        "accepted": rows.filter(pl.col("status") == "accepted").height,
        "refused": refused.height,
        "refusals": refused.select("symbol", "reason").head(10).to_dicts(),
    }


def _stage_snapshot(run: dict[str, Any], stage: str) -> dict[str, Any]:
    """What stage ``stage`` returned in the run's manifest (empty when it did not run)."""
    snapshots = json.loads(run.get("snapshots") or "{}")
    found = snapshots.get(stage) if isinstance(snapshots, dict) else None
    return found if isinstance(found, dict) else {}


def _intents_run(run: dict[str, Any], run_id: str) -> str:
    """The run whose intents cycle ``run_id`` executed (an earlier run when it re-ran a bar)."""
    snapshots = json.loads(run.get("snapshots") or "{}")
    risk = snapshots.get("risk") if isinstance(snapshots, dict) else None
    return str((risk or {}).get("intents_run_id") or run_id)


#: An order's life, in order (the ledger's events): events of the same time keep this order.
LIFECYCLE: tuple[str, ...] = get_args(EventName)


def _orders(lake_dir: Path, run_id: str) -> dict[str, int]:
    """Order events of the run by kind, in time order (first event of each kind)."""
    events = read_dataset(lake_dir, "order_events").filter(pl.col("run_id") == run_id)
    rank = {name: i for i, name in enumerate(LIFECYCLE)}
    counts = events.group_by("event").agg(pl.len(), pl.col("timestamp").min().alias("first"))
    rows = sorted(counts.to_dicts(), key=lambda r: (r["first"], rank.get(r["event"], len(rank))))
    return {row["event"]: int(row["len"]) for row in rows}


def _positions(lake_dir: Path, portfolio_id: str) -> pl.DataFrame:
    snapshots = read_dataset(lake_dir, "positions").filter(pl.col("portfolio_id") == portfolio_id)
    if snapshots.is_empty():
        return snapshots
    return snapshots.sort("timestamp").group_by("id", maintain_order=True).last()


def _risk(lake_dir: Path, run_id: str) -> dict[str, Any]:
    metrics = read_dataset(lake_dir, "risk_metrics").filter(pl.col("run_id") == run_id)
    # The book as held after the cycle when the book stage ran, else what the checks saw.
    metrics = metrics.sort(pl.col("phase") == "book", "timestamp")
    full = metrics.filter(pl.col("method") == "monte_carlo")
    metrics = full if full.height else metrics
    if metrics.is_empty():
        return {}
    row = metrics.tail(1).row(0, named=True)
    keys = (
        "method",
        "phase",
        "var",
        "cvar",
        "confidence",
        "equity",
        "drawdown",
        "leverage",
        "gross_notional",
        "net_notional",
        "delta_usd",
        "vega_usd",
        "horizon_days",
        "sharpe",
        "sortino",
        "timestamp",
    )
    return {k: row[k] for k in keys}


def run_alerts(
    lake_dir: Path, run_id: str, *, since: datetime | None = None, kinds: tuple[str, ...] = ()
) -> list[str]:
    """Messages of the alerts raised by run ``run_id``, plus alerts of ``kinds`` (raised by
    the library, e.g. ``corrupt-file``, without a run id) at or after ``since``; oldest first.
    A failed stage's alert is left out: the run's message says it already."""
    alerts = read_dataset(lake_dir, "alerts").filter(pl.col("kind") != "stage-failed")
    mine = pl.col("run_id") == run_id
    if since is not None and kinds:
        mine = mine | (pl.col("kind").is_in(list(kinds)) & (pl.col("timestamp") >= since))
    return alerts.filter(mine).sort("timestamp")["message"].to_list()


def read_cycle_summary(
    lake_dir: Path,
    run_id: str,
    *,
    portfolio_id: str = "main",
    drawdown_limit: float | None = None,
) -> CycleSummary:
    """The report of cycle ``run_id`` (raises ``KeyError`` for an unknown run).

    ``drawdown_limit`` (a fraction of peak equity) is the kill switch's level: the drawdown
    is shown against it, with a warning when it is close.
    """
    run = _run_row(lake_dir, run_id)
    book = _positions(lake_dir, portfolio_id)
    open_book = book.filter(pl.col("quantity") != 0) if book.height else book
    sums = {
        c: float(book[c].sum()) if book.height else 0.0
        for c in ("realized_pnl", "unrealized_pnl", "fees", "funding")
    }
    cols = [
        "symbol",
        "type",
        "quantity",
        "entry_price",
        "mark_price",
        "notional_usdt",
        "unrealized_pnl",
        "pnl_usd",
        "pnl_coin",
        "pnl_coin_currency",
    ]
    if open_book.height:
        notional = (pl.col("quantity") * pl.col("mark_price")).abs().alias("notional_usdt")
        open_book = open_book.with_columns(notional)
    parameters = json.loads(run["parameters"] or "{}")
    symbols = parameters.get("symbols")
    decider = _intents_run(run, run_id)
    held = open_book["symbol"].to_list() if open_book.height else []
    managed = {base_currency(s) for s in symbols} if symbols else set()
    left_alone = (
        sorted(
            s
            for s in held
            if s not in symbols and not (is_option_symbol(s) and base_currency(s) in managed)
        )
        if symbols
        else []
    )
    return CycleSummary(
        run_id=run_id,
        status=run["status"],
        message=run["message"],
        as_of=run["as_of"],
        durations=json.loads(run["stage_durations"] or "{}"),
        market=_market(lake_dir, run_id),
        gate={**_gate(lake_dir, run_id), "seconds": _stage_snapshot(run, "ingest").get("gate_s")},
        signals=_signals(lake_dir, run_id, decider),
        intents=_intents(lake_dir, decider),
        orders=_orders(lake_dir, run_id),
        positions=open_book.select(cols).sort("symbol").to_dicts() if open_book.height else [],
        pnl=sums,
        risk=_risk(lake_dir, run_id),
        lake_dir=str(lake_dir),
        symbols=symbols,
        left_alone=left_alone,
        alerts=run_alerts(lake_dir, run_id, since=run["timestamp"], kinds=LIBRARY_ALERTS),
        options=options_summary(lake_dir, run_id, portfolio_id, open_book),
        mode=str(parameters.get("mode") or "paper"),
        exchange=str(parameters.get("exchange") or "sim"),
        drawdown_limit=drawdown_limit,
        coin_pnl=_coin_pnl(book),
    )


def _coin_pnl(book: pl.DataFrame) -> dict[str, float]:
    """Net PnL of the book's coin-settled options per coin (positions closed included)."""
    if book.is_empty() or "pnl_coin_currency" not in book.columns:
        return {}
    coins = book.filter(
        pl.col("pnl_coin").is_not_null() & pl.col("pnl_coin_currency").is_not_null()
    )
    totals = (
        coins.group_by("pnl_coin_currency").agg(pl.col("pnl_coin").sum()).sort("pnl_coin_currency")
    )
    return {str(c): float(v) for c, v in totals.iter_rows()}
