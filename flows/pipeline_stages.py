"""The stages of one ``pipeline`` cycle run in order: each reports its start, end, time and
one short fact to the progress display, and the first failure stops the stages after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flows.pipeline_outcome import first_line
from flows.progress import report_progress

STAGES = ("ingest", "features", "signals", "risk", "orders", "hedge", "hedge_orders", "book")


def run_stages(
    calls: list[tuple[str, Callable[[], Any]]],
    results: dict[str, Any] | None = None,
    explain: Callable[[BaseException], str] = first_line,
) -> tuple[dict[str, Any], dict[str, float], tuple[str, str] | None]:
    """Run stages in order; stop at the first failure and say which and why (``explain``)."""
    results = {} if results is None else results
    durations: dict[str, float] = {}
    for name, call in calls:
        report_progress("start", name)
        started = time.perf_counter()
        try:
            results[name] = call()
        except Exception as exc:  # a stage's failure ends the cycle, with its reason
            durations[name] = time.perf_counter() - started
            reason = explain(exc)
            report_progress("failed", name, durations[name], reason)
            return results, durations, (name, reason)
        durations[name] = time.perf_counter() - started
        report_progress("done", name, durations[name], stage_fact(name, results[name]))
    return results, durations, None


def stage_fact(name: str, result: Any) -> str | None:
    """One short fact of a finished stage for the progress display."""
    if not isinstance(result, dict):
        return None
    if name == "ingest":
        stored = result.get("written") or {}
        gate = "gate passed" if result.get("passed") else "gate FAILED"
        return f"{stored.get('ohlcv', 0):,} new bars, {gate}"
    if name == "signals":
        return f"{result.get('signals', '?')} signals ({result.get('provider', '?')})"
    if name == "risk":
        return f"{result.get('accepted', 0)} intents accepted, {result.get('refused', 0)} refused"
    if name in ("orders", "hedge_orders"):
        actions = result.get("actions") or {}
        return ", ".join(f"{k} {v}" for k, v in actions.items()) or "no order"
    if name == "hedge":
        return f"{result.get('accepted', 0)} hedge order(s) accepted"
    return None
