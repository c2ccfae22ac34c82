"""Load SQL from the ``sql/`` folder by name: ``views/*.sql`` and ``queries/*.sql``."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def sql_dir() -> Path:
    """The project's ``sql/`` folder (next to the package in a checkout)."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "sql", here.parents[1] / "_sql"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the sql/ folder of qbtc was not found next to the package")


@cache
def view_sql() -> tuple[tuple[str, str], ...]:
    """``(view name, CREATE VIEW statement)`` for every ``sql/views/*.sql``, by name."""
    out = []
    for path in sorted((sql_dir() / "views").glob("*.sql")):
        out.append((path.stem, path.read_text(encoding="utf-8")))
    return tuple(out)


def load_query(name: str) -> str:
    """The named analytics query ``sql/queries/<name>.sql`` (values go in as parameters)."""
    if not _NAME_RE.match(name):
        raise ValueError(f"invalid query name {name!r}")
    path = sql_dir() / "queries" / f"{name}.sql"
    if not path.is_file():
        known = sorted(p.stem for p in (sql_dir() / "queries").glob("*.sql"))
        raise KeyError(f"unknown query {name!r}; known: {', '.join(known)}")
    return path.read_text(encoding="utf-8")
