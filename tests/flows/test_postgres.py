"""The production profile's PostgreSQL: URLs Prefect accepts, and clear refusals."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from flows.postgres import PostgresError, asyncpg_url
from flows.up_prod import start_database
from qbtc.config import Settings


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://prefect:pw@db:5432/prefect",
        "postgres://prefect:pw@db:5432/prefect",
        "postgresql+asyncpg://prefect:pw@db:5432/prefect",
    ],
)
def test_any_postgres_url_becomes_the_asyncpg_url(url: str) -> None:
    assert asyncpg_url(url) == "postgresql+asyncpg://prefect:pw@db:5432/prefect"


def test_a_url_of_another_database_is_refused_in_one_line() -> None:
    with pytest.raises(PostgresError, match="must be a PostgreSQL URL"):
        asyncpg_url("sqlite:///prefect.db")


def test_an_external_database_url_starts_no_cluster(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, prefect_database_url="postgresql://u:p@h:5/prefect")
    assert start_database(settings) == ("postgresql+asyncpg://u:p@h:5/prefect", None)
    assert not (tmp_path / "postgres").exists()


def test_a_port_held_by_another_server_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        settings = Settings(data_dir=tmp_path, postgres_port=port)
        with pytest.raises(PostgresError, match="in use by another server: set QBTC_POSTGRES_PORT"):
            start_database(settings)
    assert not (tmp_path / "postgres").exists()
