"""The cycle summary: read back from the lake, rendered for the UI and the terminal."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qbtc.report import CycleSummary, read_cycle_summary, render_markdown, render_text
from tests.api.lakedata import build_lake


@pytest.fixture
def report(data_dir: Path) -> CycleSummary:
    lake = build_lake(data_dir, days=1)
    return read_cycle_summary(lake.root, "run-2")


def test_report_reads_the_cycle_back_from_the_lake(report: CycleSummary):
    assert report.status == "completed"
    assert report.gate["status"] == "pass"
    assert report.intents["accepted"] > 0
    assert report.orders == {"filled": report.intents["accepted"]}
    # The book after the cycle's orders, not what the pre-trade checks saw.
    assert report.risk["phase"] == "book"
    assert report.risk["var"] == 12_000.0


def test_markdown_says_what_was_sent(report: CycleSummary):
    text = render_markdown(report)
    assert text.startswith("# Cycle run-2: completed")
    assert f"order events filled {report.intents['accepted']}" in text
    assert "quality gate: pass" in text


def test_a_rerun_of_a_decided_bar_says_nothing_new_was_sent(report: CycleSummary):
    rerun = replace(report, orders={})
    assert "no order sent: the accepted intents were submitted by an earlier run" in (
        render_markdown(rerun)
    )
    idle = replace(rerun, intents={**report.intents, "accepted": 0})
    assert "no order to send" in render_markdown(idle)


def test_unknown_run_is_a_key_error(data_dir: Path):
    lake = build_lake(data_dir, days=1)
    with pytest.raises(KeyError):
        read_cycle_summary(lake.root, "no-such-run")


def test_terminal_text_points_at_the_data_and_next_commands(report: CycleSummary, data_dir: Path):
    text = render_text(report, data_dir=data_dir)
    assert "**" not in text
    assert str(data_dir.resolve()) in text
    assert 'qbtc sql "SELECT * FROM positions"' in text
