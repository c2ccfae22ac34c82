"""The app reads the lake only: it never opens the catalog file, even while it is held."""

from __future__ import annotations

import duckdb
from fastapi.testclient import TestClient

from qbtc.api import create_app
from qbtc.lake import sync_catalog
from tests.api.conftest import make_settings
from tests.api.paths import GET_ROUTES


def test_api_answers_while_the_catalog_is_held_and_never_touches_it(own_lake, data_dir):
    catalog = data_dir / "qbtc.duckdb"
    sync_catalog(own_lake.root, catalog)
    before = {p.name: p.stat().st_mtime_ns for p in data_dir.iterdir() if p.is_file()}
    holder = duckdb.connect(str(catalog))  # a read-write session holds the file
    try:
        with TestClient(create_app(make_settings(data_dir))) as client:
            statuses = {path: client.get(path).status_code for path in GET_ROUTES}
    finally:
        holder.close()
    assert set(statuses.values()) == {200}, statuses
    after = {p.name: p.stat().st_mtime_ns for p in data_dir.iterdir() if p.is_file()}
    assert after == before
