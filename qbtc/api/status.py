"""State of the desk read from the lake: freshness, last run, quality gate, kill switch.

Shared by ``/api/health`` and ``/metrics``. Every function is blocking (run it in a worker
thread) and reads through :class:`~qbtc.api.context.ApiContext`, cached on the lake tokens
of what it reads; ages are computed at call time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import duckdb
import polars as pl

from qbtc.api.context import ApiContext, clean_row
from qbtc.api.lakestate import KILL_SWITCH
from qbtc.api.models import DatasetFreshness, KillSwitchStatus, QualityGate, RunSummary
from qbtc.lake.integrity import QUARANTINE_DIR
from qbtc.quality.datadocs import docs_dir, run_page_name
from qbtc.risk.killswitch import KillSwitch
from qbtc.schemas import DATASETS
from qbtc.serving import ServingState, read_serving_state

NO_GATE = "no quality gate has run yet: run `qbtc ingest` first"
UNREADABLE = "unreadable kill switch state file: reset it with the kill switch command"


def _age_seconds(then: datetime | None, now: datetime) -> float | None:
    return None if then is None else (now - then).total_seconds()


def _newest(context: ApiContext, name: str) -> datetime | None:
    dataset = DATASETS[name]
    # Identifiers come from the schema registry, never from a request.
    sql = f'SELECT max("{dataset.time_column}") AS newest FROM lake.{dataset.name}'
    value = context.query_sql(sql).item()
    return value if isinstance(value, datetime) else None


def _newest_or_error(context: ApiContext, name: str) -> tuple[datetime | None, str | None]:
    """(newest, None), or (None, why) when a file of the dataset cannot be read."""
    try:
        return _newest(context, name), None
    except (duckdb.Error, pl.exceptions.PolarsError, OSError) as exc:
        return None, str(exc).splitlines()[0][:300]


def freshness(context: ApiContext, now: datetime) -> list[DatasetFreshness]:
    """Newest timestamp and lag of every dataset (cached per dataset)."""
    out = []
    tokens = context.watcher.snapshot
    for name in DATASETS:
        newest, error = context.cached(
            ("newest", name), (name,), partial(_newest_or_error, context, name)
        )
        out.append(
            DatasetFreshness(
                dataset=name,
                files=tokens[name][0],
                newest=newest,
                lag_seconds=_age_seconds(newest, now),
                error=error,
            )
        )
    return out


def corrupt_files(context: ApiContext) -> list[str]:
    """Lake files moved aside as corrupt (``<lake>/_corrupt``), relative to the lake."""
    aside = context.lake_dir / QUARANTINE_DIR
    if not aside.is_dir():
        return []
    return sorted(str(p.relative_to(context.lake_dir)) for p in aside.rglob("*.parquet"))


def last_pipeline_completed(context: ApiContext) -> datetime | None:
    """When the last pipeline run completed (None when none has)."""
    value = context.cached(
        "last_pipeline_completed",
        ("runs",),
        lambda: context.query("last_pipeline_completed").item(),
    )
    return value if isinstance(value, datetime) else None


def last_run(context: ApiContext, now: datetime) -> RunSummary | None:
    rows = context.cached("last_run", ("runs",), lambda: context.query("last_run").to_dicts())
    if not rows:
        return None
    row = clean_row(rows[0])
    return RunSummary(**row, age_seconds=_age_seconds(row["timestamp"], now) or 0.0)


def _reasons(details: str | None, passed: bool) -> list[str]:
    """Gate reasons from its ``details`` (JSON list, ``{"reasons": [...]}`` or plain text)."""
    if not details:
        return []
    try:
        parsed: Any = json.loads(details)
    except ValueError:
        return [details]
    if isinstance(parsed, dict):
        parsed = parsed.get("reasons", [] if passed else [details])
    if isinstance(parsed, list):
        return [str(item) for item in parsed]
    return [str(parsed)]


QUALITY_DOCS_PATH = "/quality/docs"
"""Where the API serves ``<data_dir>/quality/docs`` (the gate's Data Docs)."""


def quality_gate(context: ApiContext) -> QualityGate:
    """The latest gate (``quality_results`` row with dataset '*' and check 'gate')."""
    rows = context.cached(
        "gate", ("quality_results",), lambda: context.query("quality_gate").to_dicts()
    )
    if not rows:
        return QualityGate(passed=False, run_id=None, timestamp=None, reasons=[NO_GATE])
    row = rows[0]
    passed = row["status"] == "pass"
    reasons = _reasons(row["details"], passed)
    if not passed and not reasons:
        reasons = [f"quality gate status is {row['status']!r}"]
    page = run_page_name(row["run_id"])
    built = (docs_dir(context.lake_dir.parent) / page).exists()
    return QualityGate(
        passed=passed,
        run_id=row["run_id"],
        timestamp=row["timestamp"],
        reasons=reasons,
        docs_url=f"{QUALITY_DOCS_PATH}/{page}" if built else None,
    )


def _read_kill_switch(context: ApiContext) -> KillSwitchStatus:
    state, error = KillSwitch(context.state_dir).read()
    if error is not None:
        # The file's path and parser message stay in the logs, not in a public answer.
        return KillSwitchStatus(on=True, reason=UNREADABLE, since=None, readable=False)
    return KillSwitchStatus(on=state.on, reason=state.reason, since=state.since, readable=True)


def kill_switch_status(context: ApiContext) -> KillSwitchStatus:
    """State of the kill switch file (``<data_dir>/state/kill_switch.json``)."""
    return context.cached("kill_switch", (KILL_SWITCH,), lambda: _read_kill_switch(context))


#: Schedule intervals without a completed pipeline run before health says the scheduler stalled.
MISSED_INTERVALS = 3
#: The dataset whose lag is "market data lag".
MARKET_DATASET = "ohlcv"


@dataclass(frozen=True)
class DeskStatus:
    """Everything /api/health and /metrics report, at time ``now``.

    ``max_market_lag_s`` is the market-data lag beyond which the desk is degraded;
    ``serving`` is the live ``qbtc up`` of the data dir (None when none serves it).
    """

    now: datetime
    datasets: list[DatasetFreshness]
    last_run: RunSummary | None
    gate: QualityGate
    kill_switch: KillSwitchStatus
    max_market_lag_s: float
    serving: ServingState | None = None
    pipeline_completed: datetime | None = None
    corrupt: tuple[str, ...] = ()

    @property
    def market_lag_s(self) -> float | None:
        return next((d.lag_seconds for d in self.datasets if d.dataset == MARKET_DATASET), None)

    @property
    def scheduler_stalled_s(self) -> float | None:
        """Seconds without a completed pipeline run while served, when past the allowance."""
        if self.serving is None:
            return None
        since = max(self.serving.started_at, self.pipeline_completed or self.serving.started_at)
        waited = (self.now - since).total_seconds()
        allowed = MISSED_INTERVALS * self.serving.pipeline_interval_s
        return waited if waited > allowed else None

    @property
    def checks(self) -> list[tuple[str, str]]:
        """Every problem as (kind, message); kinds: gate, kill_switch, last_run, unreadable,
        market_lag, scheduler (the ``kind`` label of ``qbtc_health_problems``)."""
        prefix = "quality gate failed: " if self.gate.run_id else ""
        out = [] if self.gate.passed else [("gate", prefix + r) for r in self.gate.reasons]
        if self.kill_switch.on:
            reason = self.kill_switch.reason or "no reason given"
            out.append(("kill_switch", f"kill switch is on: {reason}"))
        if self.last_run is not None and self.last_run.status in {"failed", "crashed"}:
            out.append(("last_run", f"last run {self.last_run.run_id} {self.last_run.status}"))
        out += [
            ("unreadable", f"dataset {d.dataset} is unreadable: {d.error}")
            for d in self.datasets
            if d.error
        ]
        if self.corrupt:
            first = self.corrupt[0]
            more = f" and {len(self.corrupt) - 1} more" if len(self.corrupt) > 1 else ""
            message = (
                f"{len(self.corrupt)} corrupt lake file(s) moved aside ({first}{more}): their "
                "rows are missing until the stage that wrote them runs again; then delete them"
            )
            out.append(("unreadable", message))
        lag = self.market_lag_s
        if lag is not None and lag > self.max_market_lag_s:
            limit = _duration(self.max_market_lag_s)
            message = (
                f"market data is {_duration(lag)} old (limit {limit}, "
                "QBTC_HEALTH_MAX_DATA_LAG_S): run `qbtc ingest` or start `make up`"
            )
            out.append(("market_lag", message))
        stalled = self.scheduler_stalled_s
        if stalled is not None and self.serving is not None:
            every = _duration(self.serving.pipeline_interval_s)
            message = (
                f"no pipeline run completed for {_duration(stalled)} while `qbtc up` is "
                f"serving (scheduled every {every}): check the Prefect UI and "
                "data/logs/serve.log"
            )
            out.append(("scheduler", message))
        return out

    @property
    def problems(self) -> list[str]:
        return [message for _, message in self.checks]


#: Every kind of problem :attr:`DeskStatus.checks` can name.
PROBLEM_KINDS = ("gate", "kill_switch", "last_run", "unreadable", "market_lag", "scheduler")


def _duration(seconds: float) -> str:
    """``95`` -> ``1 min 35 s``; ``90000`` -> ``1 d 1 h``: ages a person reads at a glance."""
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def desk_status(context: ApiContext) -> DeskStatus:
    now = datetime.now(UTC)
    return DeskStatus(
        now=now,
        datasets=freshness(context, now),
        last_run=last_run(context, now),
        gate=quality_gate(context),
        kill_switch=kill_switch_status(context),
        max_market_lag_s=context.max_data_lag_s,
        serving=read_serving_state(context.state_dir),
        pipeline_completed=last_pipeline_completed(context),
        corrupt=tuple(corrupt_files(context)),
    )
