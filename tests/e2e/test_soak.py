"""The short soak run of CI: seeded random faults over 40 cycles, zero invariant violations.

``make soak`` runs the long one (500 cycles); both are :mod:`tests.soak`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.soak import run_soak

pytestmark = pytest.mark.slow


def test_forty_cycles_with_random_faults_break_no_invariant(tmp_path: Path) -> None:
    lines: list[str] = []
    report = run_soak(tmp_path / "data", cycles=40, seed=3, progress=lines.append)
    print(report.render())
    assert report.violations == 0, report.render()
    assert sum(report.faults.values()) >= 5, report.render()  # the faults did happen
    assert set(report.runs) <= {"completed", "failed"}
    assert report.runs.get("completed", 0) > 20
    # a progress line every 25 cycles and at the end
    assert [line.split(" cycles")[0] for line in lines] == ["soak: 25/40", "soak: 40/40"]
