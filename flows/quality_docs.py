"""The gate's Great Expectations Data Docs in a flow run: built after the gate, linked from
the run's artifacts.

Built outside the gate's timing (the gate's verdict never waits for a report), every run or
only on a failed gate (``QBTC_QUALITY_DOCS``); the time it took is returned with the run's
summary. A report that cannot be built is a warning, never a failed cycle.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import publish_markdown, whole
from qbtc.config import Settings
from qbtc.quality import GateReport
from qbtc.quality.datadocs import build_gate_docs, run_page_name
from qbtc.urls import http_url


@task(cache_policy=NO_CACHE, timeout_seconds=300)
def docs_task(data_dir: Path, report: GateReport, when: str) -> Path | None:
    """The run's Data Docs page, or None when not built (by policy, or on an error)."""
    if when == "off" or (when == "failures" and report.passed):
        return None
    try:
        return build_gate_docs(data_dir, report)
    except Exception as exc:  # a report, not a gate: the cycle goes on without it
        get_run_logger().warning("Data Docs of the gate not built: %s: %s", type(exc).__name__, exc)
        return None


def docs_url(settings: Settings, run_id: str) -> str:
    """Where the API serves a run's Data Docs page."""
    return http_url(settings.api_host, settings.api_port, f"/quality/docs/{run_page_name(run_id)}")


def publish_docs(settings: Settings, report: GateReport, key: str) -> tuple[Path | None, float]:
    """Build the run's Data Docs (see :func:`docs_task`) and link them from an artifact;
    the page and the seconds it took."""
    started = time.perf_counter()
    page = docs_task(settings.data_dir, whole(report), settings.quality_docs)
    seconds = time.perf_counter() - started
    if page is not None:
        verdict = "passed" if report.passed else "FAILED"
        publish_markdown(
            key,
            f"Quality gate {verdict}: [Great Expectations Data Docs of this run]"
            f"({docs_url(settings, report.run_id)}) (served by the API of `qbtc up` / "
            f"`qbtc api`; built in {seconds:.1f} s)\n\nfile: `{page}`",
            f"Data Docs of the gate of run {report.run_id}",
        )
    return page, seconds
