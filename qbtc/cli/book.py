"""``qbtc orders`` and ``qbtc positions``: the book as the ledger and the lake see it."""

from __future__ import annotations

import sys

import polars as pl
import typer

from qbtc.cli.common import fail, settings_or_exit
from qbtc.cli.query import OutputFormat, render
from qbtc.execution.ledger import Ledger, OrderState
from qbtc.lake import LakeReader

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
        frame = orders_frame(states)
    sys.stdout.write(render(frame.head(limit), fmt).rstrip("\n") + "\n")


def positions_command(
    include_flat: bool = typer.Option(False, "--all", help="Include closed (flat) positions."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """Latest position snapshot per symbol: quantity, entry, mark, PnL, fees, funding."""
    settings = settings_or_exit()
    reader = LakeReader(settings.lake_dir)
    try:
        frame = reader.query(
            "SELECT symbol, type, side, quantity, entry_price, mark_price, unrealized_pnl, "
            "realized_pnl, fees, funding, delta, timestamp FROM positions "
            "WHERE portfolio_id = $portfolio AND ($all OR quantity <> 0) ORDER BY symbol",
            {"portfolio": settings.portfolio_id, "all": include_flat},
        )
    finally:
        reader.close()
    sys.stdout.write(render(frame, fmt).rstrip("\n") + "\n")


def register(app: typer.Typer) -> None:
    """Add ``orders`` and ``positions`` to the ``qbtc`` command line."""
    app.command("orders")(orders_command)
    app.command("positions")(positions_command)
