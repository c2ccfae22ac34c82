"""Test-session set-up: isolated Prefect home and settings, hypothesis profile, fixtures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before anything imports prefect: cached results and transaction records must not leak
# between test sessions, and nothing may phone home.
_PREFECT_HOME = tempfile.mkdtemp(prefix="qbtc-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("PREFECT_API_URL", None)
for _key in list(os.environ):
    if _key.startswith("QBTC_"):
        del os.environ[_key]

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "qbtc",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("qbtc")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data dir, also set as QBTC_DATA_DIR for code that builds Settings."""
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("QBTC_DATA_DIR", str(path))
    monkeypatch.chdir(tmp_path)
    return path


@pytest.fixture
def lake_dir(data_dir: Path) -> Path:
    return data_dir / "lake"
