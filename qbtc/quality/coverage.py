"""Dataset-level checks: every expected symbol present, data fresh, gaps reported.

Coverage and freshness look at the newest clean row per key in the batch *or* already
stored, so a run with nothing new (the same window ingested twice) still passes when the
stored data is fresh. Freshness is measured from a bar's close (open time + bar length).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from qbtc.quality.checks import DatasetBatch, ExpectationSpec, Status
from qbtc.quality.expectations import SuiteValidation, validate_frame
from qbtc.quality.records import CheckResult
from qbtc.schemas import get_dataset

_MAX_LISTED = 20


def newest_by_key(batch: DatasetBatch, clean: pl.DataFrame) -> pl.DataFrame:
    """``key`` (every expected key) and ``newest`` row time, from the batch and the store."""
    column = batch.rules.coverage_column
    assert column is not None
    time_col = get_dataset(batch.rules.dataset).time_column
    fresh = clean.group_by(column).agg(pl.col(time_col).max().alias("newest"))
    newest = dict(zip(fresh[column].to_list(), fresh["newest"].to_list(), strict=True))
    for key, stored in batch.latest_stored.items():
        if key not in newest or newest[key] is None or stored > newest[key]:
            newest[key] = stored
    return pl.DataFrame(
        {"key": list(batch.expected), "newest": [newest.get(k) for k in batch.expected]},
        schema={"key": pl.String, "newest": pl.Datetime("us", "UTC")},
    )


def _status(bad: int, outcome_error: str | None, gx_bad: int | None) -> tuple[Status, str | None]:
    if outcome_error:
        return "error", outcome_error
    if gx_bad is not None and gx_bad != bad:
        return "error", f"polars found {bad}, GX found {gx_bad}"
    return ("fail" if bad else "pass"), None


def coverage_results(
    batch: DatasetBatch, clean: pl.DataFrame, *, as_of: datetime, max_staleness_s: int | None
) -> tuple[list[CheckResult], SuiteValidation | None]:
    """``coverage`` (a missing key) and ``freshness`` (stale newest bar) of one dataset, and
    GX's record of them."""
    if batch.rules.coverage_column is None or not batch.expected:
        return [], None
    name = batch.rules.dataset
    frame = newest_by_key(batch, clean)
    frame = frame.with_columns((pl.col("newest") + (batch.step or timedelta(0))).alias("closed"))
    specs = [("coverage", ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "newest"}))]
    check_freshness = batch.rules.freshness and max_staleness_s is not None
    if check_freshness:
        limit = as_of - timedelta(seconds=max_staleness_s or 0)
        specs.append(
            (
                "freshness",
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween", {"column": "closed", "min_value": limit}
                ),
            )
        )
    validation = validate_frame(f"{name}_coverage", frame, specs)
    outcomes = validation.outcomes
    missing = frame.filter(pl.col("newest").is_null())["key"].to_list()
    status, error = _status(len(missing), outcomes[0].error, outcomes[0].unexpected_count)
    details: dict[str, object] = {"missing": missing[:_MAX_LISTED], "expected": len(frame)}
    if error:
        details["error"] = error
    results = [CheckResult(name, "coverage", "dataset", status, len(frame), len(missing), details)]
    if check_freshness:
        ages = frame.drop_nulls("closed").with_columns(
            ((pl.lit(as_of) - pl.col("closed")).dt.total_seconds()).alias("age_s")
        )
        stale = ages.filter(pl.col("age_s") > (max_staleness_s or 0))
        status, error = _status(stale.height, outcomes[1].error, outcomes[1].unexpected_count)
        details = {
            "max_staleness_s": max_staleness_s,
            "stale_age_s": dict(stale.select("key", "age_s").head(_MAX_LISTED).iter_rows()),
            "newest_age_s": ages["age_s"].max(),
        }
        if error:
            details["error"] = error
        results.append(
            CheckResult(name, "freshness", "dataset", status, ages.height, stale.height, details)
        )
    return results, validation.record


def find_gaps(frame: pl.DataFrame, *, step: timedelta) -> pl.DataFrame:
    """Holes in each symbol's bars: ``symbol, after, before, missing`` (bars missing between)."""
    step_us = step // timedelta(microseconds=1)
    bars = frame.select("symbol", "timestamp").unique().sort("symbol", "timestamp")
    gaps = bars.with_columns(pl.col("timestamp").shift(1).over("symbol").alias("after")).filter(
        pl.col("timestamp") - pl.col("after") > step
    )
    span_us = (pl.col("timestamp") - pl.col("after")).dt.total_microseconds()
    return gaps.select(
        "symbol",
        "after",
        pl.col("timestamp").alias("before"),
        (span_us // step_us - 1).cast(pl.Int64).alias("missing"),
    )


def gap_result(dataset: str, clean: pl.DataFrame, *, step: timedelta) -> CheckResult:
    """Advisory ``gaps`` result: missing bars inside the batch's clean rows (never fails)."""
    gaps = find_gaps(clean, step=step)
    missing = int(gaps["missing"].sum()) if gaps.height else 0
    listed = [
        {"symbol": s, "after": a.isoformat(), "before": b.isoformat(), "missing": m}
        for s, a, b, m in gaps.head(_MAX_LISTED).iter_rows()
    ]
    status: Status = "fail" if missing else "pass"
    details = {"gaps": listed, "note": "advisory: ingestion refills gaps on its next run"}
    return CheckResult(dataset, "gaps", "advisory", status, clean.height, missing, details)
