"""``qbtc orders`` and ``qbtc positions``: the book as the ledger and the lake see it."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import typer

from qbtc.cli.common import fail, settings_or_exit
from qbtc.cli.query import OutputFormat, render
from qbtc.execution.ledger import Ledger, OrderState
from qbtc.lake import LakeReader, read_dataset
from qbtc.optionsbook import (
    shown_pnl_columns,
    tag_structures,
    underlying_greeks,
    with_structure_state,
)
from qbtc.risk.inputs import load_structure_ids

STATUSES = ("pending", "submitted", "open", "filled", "cancelled", "rejected")


def orders_frame(states: list[OrderState]) -> pl.DataFrame:
    """One row per order: its latest state, newest first."""
    rows = [
        {
            "client_order_id": s.client_order_id,
            "symbol": s.symbol,
            "side": s.side,
            "quantity": s.quantity,
            "status": s.status,
            "filled": s.filled_quantity,
            "average_price": s.average_price,
            "fees": s.fees,
            "venue_order_id": s.venue_order_id,
            "updated_at": s.updated_at,
            "reason": s.reason,
        }
        for s in states
    ]
    schema: dict[str, pl.DataType] = {
        "client_order_id": pl.String(),
        "symbol": pl.String(),
        "side": pl.String(),
        "quantity": pl.Float64(),
        "status": pl.String(),
        "filled": pl.Float64(),
        "average_price": pl.Float64(),
        "fees": pl.Float64(),
        "venue_order_id": pl.String(),
        "updated_at": pl.Datetime("us", "UTC"),
        "reason": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema).sort("updated_at", descending=True)


def with_intent_structures(frame: pl.DataFrame, lake_dir: Path) -> pl.DataFrame:
    """``frame`` (orders) with the option structure of each order's intent, after its symbol."""
    intents = read_dataset(lake_dir, "order_intents").filter(pl.col("structure_id").is_not_null())
    ids = dict(zip(intents["client_order_id"], intents["structure_id"], strict=True))
    tagged = tag_structures(frame, ids, column="client_order_id")
    columns = list(frame.columns)
    columns.insert(columns.index("symbol") + 1, "structure_id")
    return tagged.select(columns)


def orders_command(
    status: str | None = typer.Option(
        None, "--status", "-s", help=f"One of {', '.join(STATUSES)}."
    ),
    run_id: str | None = typer.Option(None, "--run-id", help="Only orders first seen in this run."),
    events: str | None = typer.Option(
        None, "--events", help="Show the ledger events of this client order id instead."
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="At most this many rows."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """Orders of the book with their latest state (from the append-only ledger)."""
    if status is not None and status not in STATUSES:
        fail(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    settings = settings_or_exit()
    ledger = Ledger(settings.lake_dir, settings.portfolio_id)
    if events is not None:
        frame = ledger.events().filter(pl.col("client_order_id") == events)
        if frame.is_empty():
            fail(f"no ledger events for client order id {events!r}: see `qbtc orders`")
    else:
        states = [
            s
            for s in ledger.order_states().values()
            if not s.client_order_id.startswith(("balance:", "reconcile:"))
        ]
        if status is not None:
            states = [s for s in states if s.status == status]
        if run_id is not None:
            states = [s for s in states if s.run_id == run_id]
        frame = with_intent_structures(orders_frame(states), settings.lake_dir)
    sys.stdout.write(render(frame.head(limit), fmt).rstrip("\n") + "\n")


def positions_command(
    include_flat: bool = typer.Option(False, "--all", help="Include closed (flat) positions."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """Latest position snapshot per symbol: quantity, entry, mark, PnL (USD, and in coin for
    coin-settled options), fees, funding; option legs grouped by structure; then the book's
    Greeks per underlying and the perp hedge."""
    settings = settings_or_exit()
    reader = LakeReader(settings.lake_dir)
    try:
        frame = reader.query(
            "SELECT symbol, type, side, quantity, entry_price, mark_price, unrealized_pnl, "
            "realized_pnl, fees, funding, pnl_usd, pnl_coin, pnl_coin_currency, delta, gamma, "
            "vega, theta, timestamp FROM positions "
            "WHERE portfolio_id = $portfolio AND ($all OR quantity <> 0) ORDER BY symbol",
            {"portfolio": settings.portfolio_id, "all": include_flat},
        )
    finally:
        reader.close()
    ids = load_structure_ids(settings.lake_dir, settings.portfolio_id)
    frame = with_structure_state(tag_structures(frame, ids), ids)
    frame = frame.sort("type", "structure_id", "symbol", nulls_last=True)
    first = ("symbol", "type", "structure_id", "structure_state")
    frame = frame.select([*first, *[c for c in frame.columns if c not in first]])
    if fmt == OutputFormat.table:
        frame = shown_pnl_columns(frame)
    sys.stdout.write(render(frame, fmt).rstrip("\n") + "\n")
    if fmt == OutputFormat.table:
        greeks = latest_greeks(settings.lake_dir, settings.portfolio_id)
        if greeks.height:
            title = "Greeks per underlying (USDT: gamma per 1%, vega per vol point, theta per day)"
            sys.stdout.write(f"\n{title} and the perp hedge\n")
            sys.stdout.write(render(greeks, fmt).rstrip("\n") + "\n")


def latest_greeks(lake_dir: Path, portfolio_id: str) -> pl.DataFrame:
    """Greeks per underlying and hedge after the newest cycle with a ``book_greeks`` row."""
    rows = read_dataset(lake_dir, "book_greeks").filter(pl.col("portfolio_id") == portfolio_id)
    if rows.is_empty():
        return rows
    run_id = rows.sort("timestamp")["run_id"][-1]
    return pl.DataFrame(underlying_greeks(lake_dir, run_id, portfolio_id))


def register_book_commands(app: typer.Typer) -> None:
    """Add ``orders`` and ``positions`` to the ``qbtc`` command line."""
    app.command("orders")(orders_command)
    app.command("positions")(positions_command)
