"""Flatten the book: reduce-only intents that close every open position."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import polars as pl

from qbtc.execution.intents import OrderIntent
from qbtc.lake import read_dataset
from qbtc.portfolio.orders import intents_from_targets

STRATEGY = "flatten"


def open_positions(lake_dir: Path, portfolio_id: str) -> pl.DataFrame:
    """The latest snapshot of each position of ``portfolio_id`` with a non-zero quantity."""
    snapshots = read_dataset(lake_dir, "positions").filter(pl.col("portfolio_id") == portfolio_id)
    if snapshots.is_empty():
        return snapshots
    latest = snapshots.sort("timestamp").group_by("id", maintain_order=True).last()
    return latest.filter(pl.col("quantity") != 0).sort("symbol")


def flatten_intents(
    positions: pl.DataFrame, *, run_id: str, portfolio_id: str, decision_bar: datetime
) -> list[OrderIntent]:
    """Reduce-only intents taking every position in ``positions`` to zero, at its mark.

    The intents are marked accepted: closing risk is always allowed (the kill switch lets
    reduce-only orders through). Their client order ids derive from the decision bar, so a
    repeated flatten of the same bar never sends a second order.
    """
    current = dict(zip(positions["symbol"], positions["quantity"], strict=True))
    prices = dict(zip(positions["symbol"], positions["mark_price"], strict=True))
    planned = intents_from_targets(
        dict.fromkeys(current, 0.0),
        current,
        prices,
        run_id=run_id,
        portfolio_id=portfolio_id,
        strategy=STRATEGY,
        decision_bar=decision_bar,
    )
    return [replace(i, status="accepted", reason="flatten") for i in planned]
