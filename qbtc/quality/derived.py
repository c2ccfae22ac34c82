"""Rows derived from quarantined bars are quarantined too.

Tickers and option quotes of a run describe the same market state as its bars: when the gate
quarantines bars of a symbol (a jump, a price path that does not continue the stored one),
that symbol's ticker and the option chain on its underlying in the same batch are not stored
either. They go to ``quarantine`` with the reason ``bars_quarantined`` (nothing is lost), and
an advisory result names the symbols.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from qbtc.quality.records import CheckResult, quarantine_rows
from qbtc.quality.tagging import BAD, REASONS
from qbtc.schemas import QUARANTINE, get_dataset
from qbtc.symbols import base_currency

REASON = "bars_quarantined"
#: Datasets derived from a symbol's market state, and the column naming that symbol.
DERIVED = {"tickers": "symbol", "option_quotes": "underlying"}


def quarantined_symbols(quarantine: pl.DataFrame) -> set[str]:
    """Symbols of the OHLCV rows in a quarantine frame."""
    rows = quarantine.filter(pl.col("dataset") == "ohlcv")
    if rows.is_empty():
        return set()
    return set(rows["row"].str.json_path_match("$.symbol").drop_nulls().to_list())


def hold_derived(
    dataset: str, clean: pl.DataFrame, symbols: set[str], *, run_id: str, as_of: datetime
) -> tuple[pl.DataFrame, pl.DataFrame, CheckResult | None]:
    """Split ``clean`` rows of ``dataset`` into kept rows and quarantine rows (reason
    ``bars_quarantined``) for the ``symbols`` whose bars were quarantined; with the advisory
    result naming them (None when nothing was held)."""
    column = DERIVED.get(dataset)
    if column is None or not symbols or clean.is_empty():
        return clean, QUARANTINE.empty(), None
    keys = sorted(symbols if column == "symbol" else {base_currency(s) for s in symbols})
    held = clean.filter(pl.col(column).is_in(keys))
    if held.is_empty():
        return clean, QUARANTINE.empty(), None
    tagged = held.with_columns(
        pl.lit(True).alias(BAD), pl.lit([REASON], dtype=pl.List(pl.String)).alias(REASONS)
    )
    moved = quarantine_rows(tagged, get_dataset(dataset), run_id=run_id, as_of=as_of)
    result = CheckResult(
        dataset,
        REASON,
        "advisory",
        "fail",
        clean.height,
        held.height,
        {
            "description": "rows of symbols whose bars were quarantined in the same batch",
            "held": sorted(held[column].unique().to_list()),
        },
    )
    return clean.filter(~pl.col(column).is_in(keys)), moved, result
