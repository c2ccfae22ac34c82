"""The options book as users see it: option legs grouped by structure, Greeks per underlying
and the perp hedge, read back from the lake (shared by the cycle summary, the CLI and the API).

A structure held lopsided (a leg filled in part or not at all, :mod:`qbtc.portfolio.legs`)
is flagged on each of its legs (``structure_state``: ``incomplete: ...``) and in the summary.

The hedge of an underlying is on target when its net delta (perps plus options, coins) after
the cycle is within the band of the directional target the cycle planned:
``|delta_coin - directional_coin| x spot <= band_usd``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from qbtc.lake import read_dataset
from qbtc.portfolio.legs import describe_missing, missing_legs
from qbtc.risk.inputs import load_structure_ids

#: Columns of an option leg as shown (positions plus its structure).
LEG_COLUMNS = (
    "structure_id",
    "structure_state",
    "underlying",
    "symbol",
    "quantity",
    "entry_price",
    "mark_price",
    "unrealized_pnl",
    "pnl_usd",
    "pnl_coin",
    "pnl_coin_currency",
    "delta",
    "vega",
    "theta",
)


COIN_PNL_COLUMNS = ("pnl_coin", "pnl_coin_currency")


def shown_pnl_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as shown on a terminal: the coin PnL columns only when the book holds a
    coin-settled option (they are null for everything else)."""
    if (
        "pnl_coin_currency" in frame.columns
        and frame["pnl_coin_currency"].null_count() < frame.height
    ):
        return frame
    return frame.drop([c for c in COIN_PNL_COLUMNS if c in frame.columns])


def tag_structures(
    frame: pl.DataFrame, structure_ids: dict[str, str], *, column: str = "symbol"
) -> pl.DataFrame:
    """``frame`` with a ``structure_id`` column from ``symbol -> structure id``."""
    mapping = pl.DataFrame(
        {column: list(structure_ids), "structure_id": list(structure_ids.values())},
        schema={column: pl.String, "structure_id": pl.String},
    )
    base = frame.drop("structure_id") if "structure_id" in frame.columns else frame
    return base.join(mapping, on=column, how="left")


def with_structure_state(
    frame: pl.DataFrame, structure_ids: dict[str, str], *, book: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``frame`` (positions with ``structure_id``) with ``structure_state``: ``complete``, or
    ``incomplete: <what each short leg lacks>``; null for a row of no structure.

    A leg's state depends on what is held of its sibling legs: ``book`` (latest positions,
    ``symbol`` and ``quantity``, of the same portfolio) is where they are read when ``frame``
    is only part of the book (a page of it); by default ``frame`` itself.
    """
    source = frame if book is None else book
    held = source.filter(pl.col("symbol").is_in(list(structure_ids)) & (pl.col("quantity") != 0))
    holdings = dict(zip(held["symbol"].to_list(), held["quantity"].to_list(), strict=True))
    flags = {
        sid: "incomplete: " + describe_missing(missing, holdings)
        for sid, missing in missing_legs(holdings, structure_ids).items()
    }
    state = (
        pl.when(pl.col("structure_id").is_null())
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("structure_id").replace_strict(flags, default="complete"))
    )
    return frame.with_columns(state.alias("structure_state"))


def option_legs(positions: pl.DataFrame, structure_ids: dict[str, str]) -> pl.DataFrame:
    """Open option positions (latest snapshots) with their structure, grouped by structure."""
    if positions.is_empty() or "type" not in positions.columns:
        return pl.DataFrame(schema=dict.fromkeys(LEG_COLUMNS, pl.String))
    legs = positions.filter((pl.col("type") == "option") & (pl.col("quantity") != 0))
    legs = with_structure_state(tag_structures(legs, structure_ids), structure_ids)
    present = [c for c in LEG_COLUMNS if c in legs.columns]
    return legs.select(present).sort("structure_id", "symbol", nulls_last=True)


def held_option_legs(lake_dir: Path, positions: pl.DataFrame, portfolio_id: str) -> pl.DataFrame:
    """:func:`option_legs` with the structure ids recorded in ``order_intents``."""
    return option_legs(positions, load_structure_ids(lake_dir, portfolio_id))


def underlying_greeks(lake_dir: Path, run_id: str, portfolio_id: str) -> list[dict[str, Any]]:
    """Greeks per underlying after cycle ``run_id`` (the book phase when recorded, else
    pre-trade), with the hedge the cycle planned and whether it is inside its band.

    Underlyings with neither options nor a hedge are left out.
    """
    rows = read_dataset(lake_dir, "book_greeks").filter(
        (pl.col("run_id") == run_id) & (pl.col("portfolio_id") == portfolio_id)
    )
    if rows.is_empty():
        return []
    planned = rows.filter(pl.col("phase") == "pre_trade").select(
        "underlying", "hedge_perp", "directional_coin", "band_usd"
    )
    held = rows.filter(pl.col("phase") == "book")
    after = held if held.height else rows.filter(pl.col("phase") == "pre_trade")
    joined = after.drop("hedge_perp", "directional_coin", "band_usd").join(
        planned, on="underlying", how="left"
    )
    gap = (pl.col("delta_coin") - pl.col("directional_coin")).abs() * pl.col("spot")
    out = joined.with_columns(
        gap.alias("hedge_gap_usd"), (gap <= pl.col("band_usd") + 1e-6).alias("in_band")
    ).filter((pl.col("option_delta_coin") != 0) | pl.col("hedge_perp").is_not_null())
    columns = [
        "underlying",
        "phase",
        "spot",
        "delta_coin",
        "option_delta_coin",
        "perp_delta_coin",
        "gamma_usd",
        "vega_usd",
        "theta_usd",
        "hedge_perp",
        "directional_coin",
        "hedge_gap_usd",
        "band_usd",
        "in_band",
    ]
    return out.select(columns).sort("underlying").to_dicts()


def cycle_structures(lake_dir: Path, run_id: str) -> list[dict[str, Any]]:
    """The option structure decisions of cycle ``run_id``."""
    rows = read_dataset(lake_dir, "option_structures").filter(pl.col("run_id") == run_id)
    cols = ["underlying", "action", "structure_id", "legs", "quantities", "vol_view", "reason"]
    return rows.sort("underlying", "action").select(cols).to_dicts()


def cycle_vol_views(lake_dir: Path, run_id: str) -> list[dict[str, Any]]:
    """The volatility views of cycle ``run_id``."""
    rows = read_dataset(lake_dir, "vol_views").filter(pl.col("run_id") == run_id)
    cols = ["underlying", "vol_view", "confidence", "atm_iv", "realised_forecast", "provider"]
    return rows.sort("underlying").select(cols).to_dicts()


def options_summary(
    lake_dir: Path, run_id: str, portfolio_id: str, positions: pl.DataFrame
) -> dict[str, Any]:
    """Vol views, structure decisions, held option legs and Greeks/hedge of one cycle."""
    legs = held_option_legs(lake_dir, positions, portfolio_id) if positions.height else None
    return {
        "vol_views": cycle_vol_views(lake_dir, run_id),
        "structures": cycle_structures(lake_dir, run_id),
        "legs": [] if legs is None else legs.to_dicts(),
        "greeks": underlying_greeks(lake_dir, run_id, portfolio_id),
    }


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def render_options_markdown(options: dict[str, Any]) -> list[str]:
    """Markdown lines: options line, Greeks and hedge per underlying (empty when no options)."""
    views, structures = options.get("vol_views", []), options.get("structures", [])
    legs, greeks = options.get("legs", []), options.get("greeks", [])
    if not (views or structures or legs or greeks):
        return []
    held = {leg["structure_id"] for leg in legs}
    described = ", ".join(f"{v['underlying']} {v['vol_view']:+.2f}" for v in views) or "none"
    decisions = "; ".join(
        f"{s['underlying']} {s['action']}" + (f" ({s['reason']})" if s["reason"] else "")
        for s in structures
    )
    incomplete = {
        leg["structure_id"]: leg["structure_state"]
        for leg in legs
        if (leg.get("structure_state") or "").startswith("incomplete")
    }
    flagged = "; ".join(f"{sid} {state}" for sid, state in sorted(incomplete.items()))
    lines = [
        f"- options: {len(legs)} leg(s) held in {len(held)} structure(s); vol views {described}"
        + (f"; this cycle: {decisions}" if decisions else ""),
    ]
    if incomplete:
        lines.append(f"- INCOMPLETE option structure(s): {flagged}")
    if greeks:
        lines += [
            "",
            "| underlying | net delta (coin) | options delta | perp | gamma USDT/1% "
            "| vega USDT/vol pt | theta USDT/day | hedge target (coin) | gap USDT | band USDT "
            "| in band |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {g['underlying']} | {_num(g['delta_coin'], 4)} | {_num(g['option_delta_coin'], 4)} "
            f"| {_num(g['perp_delta_coin'], 4)} | {_num(g['gamma_usd'])} | {_num(g['vega_usd'])} "
            f"| {_num(g['theta_usd'])} | {_num(g['directional_coin'], 4)} "
            f"| {_num(g['hedge_gap_usd'])} | {_num(g['band_usd'])} | {_num(g['in_band'])} |"
            for g in greeks
        ]
    return lines
