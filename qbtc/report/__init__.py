"""The summary of one pipeline cycle: read back from the lake (:mod:`qbtc.report.summary`) and
shown as markdown or terminal text (:mod:`qbtc.report.render`).

Used by the pipeline's summary artifact and by ``qbtc run``.
"""

from qbtc.report.render import render_markdown, render_text
from qbtc.report.summary import (
    LIBRARY_ALERTS,
    CycleSummary,
    read_cycle_summary,
    run_alerts,
)

__all__ = [
    "LIBRARY_ALERTS",
    "CycleSummary",
    "read_cycle_summary",
    "render_markdown",
    "render_text",
    "run_alerts",
]
