"""When a flow builds the gate's Data Docs (``QBTC_QUALITY_DOCS``), and where it links them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.quality_docs import docs_task, docs_url
from qbtc.config import Settings
from qbtc.quality import GateReport
from qbtc.quality.datadocs import run_page

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _report(passed: bool) -> GateReport:
    reasons = () if passed else ("ohlcv.bad_fraction: fail (7 of 197)",)
    return GateReport("run-1", NOW, NOW, "gate", passed, reasons, (), ())


@pytest.mark.parametrize(
    ("when", "passed", "built"),
    [
        ("always", True, True),
        ("failures", True, False),
        ("failures", False, True),
        ("off", False, False),
    ],
)
def test_docs_are_built_as_the_setting_says(data_dir: Path, when: str, passed: bool, built: bool):
    page = docs_task.fn(data_dir, _report(passed), when)
    assert (page is not None) is built
    assert run_page(data_dir, "run-1").exists() is built
    if built:
        assert ("FAILED" in run_page(data_dir, "run-1").read_text()) is not passed


def test_the_artifact_links_the_page_the_api_serves(data_dir: Path):
    settings = Settings(data_dir=data_dir, api_port=8123)
    assert docs_url(settings, "run-1") == "http://127.0.0.1:8123/quality/docs/runs/run-1.html"
