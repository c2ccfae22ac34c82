"""Rows the gate stores: ``quarantine`` (refused rows) and ``quality_results`` (one per check)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

from qbtc.quality.checks import Level, Status
from qbtc.quality.tagging import BAD, REASONS
from qbtc.schemas import QUALITY_RESULTS, QUARANTINE, Dataset


@dataclass(frozen=True)
class CheckResult:
    """The gate's verdict on one check of one dataset (a ``quality_results`` row)."""

    dataset: str
    check: str
    level: Level
    status: Status
    element_count: int
    unexpected_count: int
    details: Mapping[str, Any]

    @property
    def summary(self) -> str:
        text = f"{self.dataset}.{self.check}: {self.status}"
        if self.status == "error":
            return f"{text} ({self.details.get('error', 'check could not run')})"
        if self.unexpected_count:
            return f"{text} ({self.unexpected_count} of {self.element_count})"
        return text


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def row_keys(frame: pl.DataFrame, key_columns: Sequence[str]) -> pl.Series:
    """``a|b|2026-01-05T00:00:00.000000Z`` per row; repeats of a key get ``#2``, ``#3``..."""
    parts = []
    for name in key_columns:
        col = pl.col(name)
        if frame.schema[name] == pl.Datetime("us", "UTC"):
            col = col.dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ")
        parts.append(col.cast(pl.String).fill_null("null"))
    key = pl.concat_str(parts, separator="|")
    seen = pl.int_range(1, pl.len() + 1).over(key)
    full = pl.when(seen > 1).then(pl.concat_str([key, pl.lit("#"), seen.cast(pl.String)]))
    return frame.select(full.otherwise(key).alias("row_key")).to_series()


def quarantine_rows(
    tagged: pl.DataFrame, dataset: Dataset, *, run_id: str, as_of: datetime
) -> pl.DataFrame:
    """Every tagged-bad row as a ``quarantine`` row: key, all reasons, the row as JSON."""
    keys = row_keys(tagged, dataset.primary_key)
    bad = tagged.with_columns(keys).filter(pl.col(BAD))
    if bad.height == 0:
        return QUARANTINE.empty()
    columns = list(dataset.columns)
    payload = [
        json.dumps({k: _jsonable(v) for k, v in row.items()}, allow_nan=False)
        for row in bad.select(columns).iter_rows(named=True)
    ]
    time_col = dataset.time_column
    return pl.DataFrame(
        {
            "dataset": [dataset.name] * bad.height,
            "run_id": [run_id] * bad.height,
            "row_key": bad["row_key"],
            "timestamp": bad[time_col].fill_null(as_of),
            "reasons": bad[REASONS].list.join(";"),
            "row": payload,
        },
        schema=QUARANTINE.schema,
    )


def result_rows(
    results: Sequence[CheckResult], *, run_id: str, checked_at: datetime
) -> pl.DataFrame:
    """``quality_results`` rows for ``results`` (details as JSON)."""
    return pl.DataFrame(
        {
            "run_id": [run_id] * len(results),
            "dataset": [r.dataset for r in results],
            "check": [r.check for r in results],
            "level": [r.level for r in results],
            "status": [r.status for r in results],
            "element_count": [r.element_count for r in results],
            "unexpected_count": [r.unexpected_count for r in results],
            "details": [json.dumps(r.details, default=str, sort_keys=True) for r in results],
            "timestamp": [checked_at] * len(results),
        },
        schema=QUALITY_RESULTS.schema,
    )
