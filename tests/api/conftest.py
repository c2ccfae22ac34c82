"""Fixtures of the API tests: a read-only fixture lake shared by the session, clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qbtc.api import create_app
from qbtc.config import Settings
from tests.api.lakedata import FixtureLake, build_lake

#: High enough that only the rate-limit tests ever hit it.
UNLIMITED = "1000000/minute"
#: A market-data lag limit the fixture lake's January 2026 bars stay within (a year).
HISTORY_LAG_S = 365 * 86_400


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings over ``data_dir`` that ignore any .env file."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "api_rate_limit": UNLIMITED,
        # The fixture lake is history (January 2026): only the lag tests set a real limit.
        "health_max_data_lag_s": HISTORY_LAG_S,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api") / "data"


@pytest.fixture(scope="session")
def shared_lake(shared_data_dir: Path) -> FixtureLake:
    """Every dataset the API reads; never modified by a test."""
    return build_lake(shared_data_dir)


@pytest.fixture(scope="session")
def client(shared_lake: FixtureLake, shared_data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(shared_data_dir))) as test_client:
        yield test_client


@pytest.fixture
def own_lake(data_dir: Path) -> FixtureLake:
    """A fixture lake this test may change."""
    return build_lake(data_dir)
