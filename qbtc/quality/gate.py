"""The quality gate: row checks (polars) and their record (Great Expectations), then a verdict.

For each dataset of a run the gate tags every row with the checks it fails, splits the batch
into clean rows and quarantined rows, runs the same rules as an expectation suite in GX, and
compares the two: a check GX and polars disagree on, or one that raised in either, is an
``error`` and the dataset's clean rows are held back (not stored) for that run. The gate fails
on any error and on any dataset-level failure: too many bad rows, a missing symbol, stale
data. Gaps in a batch are reported (``advisory``) without failing the gate; ingestion fills
them on its next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import polars as pl

from qbtc.quality.checks import (
    CheckContext,
    DatasetBatch,
    ExpectationSpec,
    Status,
)
from qbtc.quality.coverage import coverage_results, gap_result
from qbtc.quality.derived import hold_derived, quarantined_symbols
from qbtc.quality.expectations import ExpectationOutcome, SuiteValidation, validate_frame
from qbtc.quality.records import CheckResult, quarantine_rows
from qbtc.quality.tagging import BAD, REASONS, TaggedBatch, conform, tag_rows
from qbtc.schemas import QUARANTINE, get_dataset


@dataclass(frozen=True)
class GatePolicy:
    """Thresholds of the gate (from ``Settings.quality_*`` at the entry point).

    ``max_staleness_s`` is the largest age, in seconds, of the newest closed bar of a symbol
    at ``as_of``; ``None`` turns freshness off (history imports).
    """

    max_bad_fraction: float = 0.01
    max_staleness_s: int | None = 900
    jump_sigma: float = 12.0


@dataclass(frozen=True)
class DatasetOutcome:
    dataset: str
    rows: int
    clean: pl.DataFrame
    quarantine: pl.DataFrame
    held_back: bool


@dataclass(frozen=True)
class GateReport:
    """Everything the gate decided for one run; :func:`qbtc.quality.store_gate` stores it."""

    run_id: str
    as_of: datetime
    checked_at: datetime
    summary_check: str
    passed: bool
    reasons: tuple[str, ...]
    datasets: tuple[DatasetOutcome, ...]
    results: tuple[CheckResult, ...]
    validations: tuple[SuiteValidation, ...] = ()
    """GX's records of the run (suites and results), for Data Docs."""

    @property
    def quarantine(self) -> pl.DataFrame:
        frames = [d.quarantine for d in self.datasets if d.quarantine.height]
        return pl.concat(frames) if frames else QUARANTINE.empty()

    def clean(self, dataset: str) -> pl.DataFrame:
        for outcome in self.datasets:
            if outcome.dataset == dataset:
                return outcome.clean
        return get_dataset(dataset).empty()


def _check_status(
    polars_count: int | None, polars_error: str | None, outcomes: Sequence[ExpectationOutcome]
) -> tuple[Status, dict[str, object]]:
    details: dict[str, object] = {"polars_bad_rows": polars_count}
    details["gx"] = [
        {"expectation": o.kind, "unexpected": o.unexpected_count, "error": o.error}
        for o in outcomes
    ]
    errors = [e for e in (polars_error, *(o.error for o in outcomes)) if e]
    if errors:
        details["error"] = errors[0]
        return "error", details
    gx_count = sum(o.unexpected_count or 0 for o in outcomes)
    if outcomes and gx_count != polars_count:
        details["error"] = f"row tagger found {polars_count} bad rows, GX found {gx_count}"
        return "error", details
    return ("fail" if polars_count else "pass"), details


def _bad_fraction_spec(policy: GatePolicy) -> ExpectationSpec:
    return ExpectationSpec(
        "ExpectColumnValuesToBeInSet",
        {"column": BAD, "value_set": [False], "mostly": 1.0 - policy.max_bad_fraction},
    )


def _row_results(
    batch: DatasetBatch, tagged: TaggedBatch, ctx: CheckContext, policy: GatePolicy
) -> tuple[list[CheckResult], SuiteValidation | None]:
    rules = batch.rules
    specs: list[tuple[str, ExpectationSpec]] = []
    by_check: dict[str, list[ExpectationOutcome]] = {}
    for check in rules.checks:
        try:
            specs += [(check.name, spec) for spec in check.expect(ctx)]
        except Exception as exc:  # the twin cannot even be described: the check errors
            failed = ExpectationOutcome(check.name, "?", False, None, None, f"{exc!r}"[:500])
            by_check[check.name] = [failed]
    specs.append(("bad_fraction", _bad_fraction_spec(policy)))
    validation = validate_frame(rules.dataset, tagged.frame.drop(REASONS), specs)
    for (name, _), outcome in zip(specs, validation.outcomes, strict=True):
        by_check.setdefault(name, []).append(outcome)
    n = tagged.frame.height
    results = []
    for check, count in zip(rules.checks, tagged.counts, strict=True):
        status, details = _check_status(count.bad_rows, count.error, by_check.get(check.name, []))
        details["description"] = check.description
        results.append(
            CheckResult(rules.dataset, check.name, "row", status, n, count.bad_rows or 0, details)
        )
    bad = int(tagged.frame[BAD].sum()) if n else 0
    too_many = n > 0 and bad / n > policy.max_bad_fraction
    fraction = by_check["bad_fraction"][0]
    verdict: Status = "fail" if too_many else "pass"
    summary: dict[str, object] = {"bad_rows": bad, "max_bad_fraction": policy.max_bad_fraction}
    if fraction.error or fraction.success == too_many:
        verdict = "error"
        summary["error"] = fraction.error or "GX and the row tagger disagree on the bad fraction"
    results.append(CheckResult(rules.dataset, "bad_fraction", "dataset", verdict, n, bad, summary))
    return results, validation.record


def _evaluate(
    batch: DatasetBatch, *, run_id: str, as_of: datetime, policy: GatePolicy
) -> tuple[DatasetOutcome, list[CheckResult], list[SuiteValidation]]:
    dataset = get_dataset(batch.rules.dataset)
    frame = conform(dataset, batch.frame)
    symbols: tuple[str, ...] = ()
    if "symbol" in frame.columns:
        symbols = tuple(sorted(frame["symbol"].drop_nulls().unique().to_list()))
    ctx = CheckContext(as_of, batch.step, policy.jump_sigma, batch.reference, symbols)
    tagged = tag_rows(frame, batch.rules.checks, ctx)
    results, record = _row_results(batch, tagged, ctx, policy)
    held_back = any(r.status == "error" and r.level == "row" for r in results)
    clean = tagged.frame.filter(~pl.col(BAD)).select(list(dataset.columns))
    covered, coverage_record = coverage_results(
        batch, clean, as_of=as_of, max_staleness_s=policy.max_staleness_s
    )
    results += covered
    records = [r for r in (record, coverage_record) if r is not None]
    if batch.step is not None and batch.rules.freshness:
        results.append(gap_result(batch.rules.dataset, clean, step=batch.step))
    quarantine = quarantine_rows(tagged.frame, dataset, run_id=run_id, as_of=as_of)
    stored = dataset.empty() if held_back else clean
    outcome = DatasetOutcome(dataset.name, frame.height, stored, quarantine, held_back)
    return outcome, results, records


def _hold_derived(
    outcomes: list[DatasetOutcome], results: list[CheckResult], *, run_id: str, as_of: datetime
) -> list[DatasetOutcome]:
    """Quarantine the tickers and chains of symbols whose bars were quarantined (see
    :mod:`qbtc.quality.derived`); their advisory results are appended to ``results``."""
    symbols: set[str] = set()
    for outcome in outcomes:
        symbols |= quarantined_symbols(outcome.quarantine)
    updated = []
    for outcome in outcomes:
        kept, moved, result = hold_derived(
            outcome.dataset, outcome.clean, symbols, run_id=run_id, as_of=as_of
        )
        if result is not None:
            results.append(result)
            both = pl.concat([outcome.quarantine, moved])
            outcome = replace(outcome, clean=kept, quarantine=both)
        updated.append(outcome)
    return updated


def _verdict(results: Sequence[CheckResult]) -> tuple[str, ...]:
    reasons = [r.summary for r in results if r.status == "error"]
    reasons += [r.summary for r in results if r.status == "fail" and r.level == "dataset"]
    return tuple(reasons)


def evaluate_gate(
    batches: Sequence[DatasetBatch],
    *,
    run_id: str,
    as_of: datetime,
    policy: GatePolicy,
    summary_check: str = "gate",
    checked_at: datetime | None = None,
) -> GateReport:
    """Judge every batch of a run; nothing is written (see :func:`qbtc.quality.store_gate`).

    ``summary_check`` names the summary row (dataset ``*``): ``gate`` for the trading gate
    that :func:`qbtc.quality.latest_gate` reads, something else (``file_import``) for runs
    that must not stand in for it.
    """
    outcomes: list[DatasetOutcome] = []
    results: list[CheckResult] = []
    records: list[SuiteValidation] = []
    for batch in batches:
        outcome, dataset_results, dataset_records = _evaluate(
            batch, run_id=run_id, as_of=as_of, policy=policy
        )
        outcomes.append(outcome)
        results.extend(dataset_results)
        records.extend(dataset_records)
    outcomes = _hold_derived(outcomes, results, run_id=run_id, as_of=as_of)
    reasons = _verdict(results)
    held = [o.dataset for o in outcomes if o.held_back]
    reasons += tuple(f"{name}: clean rows held back (a row check errored)" for name in held)
    checked = checked_at or datetime.now(UTC)
    total = sum(o.rows for o in outcomes)
    bad = sum(o.quarantine.height for o in outcomes)
    summary = CheckResult(
        "*",
        summary_check,
        "dataset",
        "fail" if reasons else "pass",
        total,
        bad,
        {
            "reasons": list(reasons),
            "as_of": as_of.isoformat(),
            "datasets": [o.dataset for o in outcomes],
        },
    )
    return GateReport(
        run_id=run_id,
        as_of=as_of,
        checked_at=checked,
        summary_check=summary_check,
        passed=not reasons,
        reasons=reasons,
        datasets=tuple(outcomes),
        results=(*results, summary),
        validations=tuple(records),
    )
