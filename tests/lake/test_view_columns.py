"""Every catalog view named after a dataset exposes every column of its schema.

The schemas in ``qbtc.schemas`` are the single source of truth; ``sql/views/*.sql`` spell
their columns out for analysts. A column added to a schema and forgotten in its view fails
here (the API models are held to the schemas by ``tests/api/test_models.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qbtc.lake import LakeReader
from qbtc.schemas import DATASETS

VIEWS = Path(__file__).resolve().parents[2] / "sql" / "views"
NAMED_VIEWS = sorted(p.stem for p in VIEWS.glob("*.sql") if p.stem in DATASETS)


def test_views_named_after_datasets_exist():
    assert "positions" in NAMED_VIEWS
    assert "order_intents" in NAMED_VIEWS


@pytest.mark.parametrize("name", NAMED_VIEWS)
def test_view_exposes_every_schema_column(lake_dir: Path, name: str):
    reader = LakeReader(lake_dir)
    exposed = set(reader.query(f"SELECT * FROM {name} LIMIT 0").columns)
    missing = [column for column in DATASETS[name].columns if column not in exposed]
    assert not missing, f"sql/views/{name}.sql lacks {missing}"
