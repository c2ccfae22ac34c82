"""DuckDB views over the lake: the persisted catalog and the in-memory reader.

Base views ``lake.<dataset>`` are derived from :mod:`qbtc.schemas` (latest version of each
primary key, partition columns included for pruning); user-facing views come from
``sql/views/*.sql``. A dataset with no files yet gets a typed zero-row view.

``data/qbtc.duckdb`` is opened read-write only by :func:`sync_catalog`, and only when the view
definitions changed, so an analyst's read-only session never blocks a run. The API and the
CLI read through :class:`LakeReader`, an in-memory DuckDB over the same files, which never
opens the catalog file.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

from qbtc.lake import layout
from qbtc.lake.integrity import retry_corrupt_files
from qbtc.lake.layout import has_files
from qbtc.lake.sqlfiles import view_sql
from qbtc.schemas import DATASETS, WRITTEN_AT, Dataset

_DUCK_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    pl.Float64: "DOUBLE",
    pl.Float32: "FLOAT",
    pl.Int64: "BIGINT",
    pl.Int32: "INTEGER",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
    pl.Datetime: "TIMESTAMPTZ",
}

_T = TypeVar("_T")


def retry_catalog_action(action: Callable[[], _T], root: Path | None = None) -> _T:
    """:func:`qbtc.lake.layout.retry_vanished_files` for DuckDB (binding a view or a query
    over ``read_parquet`` raises ``IOException`` when a listed file is gone).

    With ``root``, a failure on a corrupt file of that lake quarantines it and runs the action
    once more (:func:`qbtc.lake.integrity.retry_corrupt_files`).
    """
    if root is None:
        return layout.retry_vanished_files(action, (duckdb.IOException,))
    return retry_corrupt_files(
        root,
        lambda: layout.retry_vanished_files(action, (duckdb.IOException,)),
        (duckdb.IOException, duckdb.InvalidInputException),
    )


class CatalogBusyError(RuntimeError):
    """Another process holds ``qbtc.duckdb``; the catalog was left as it was."""


def duck_type(dtype: pl.DataType) -> str:
    return _DUCK_TYPES[type(dtype)]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def base_view_sql(root: Path, ds: Dataset, *, present: bool) -> str:
    """``CREATE OR REPLACE VIEW lake.<name>`` for one dataset (typed empty when not present)."""
    part_cols = [f'"{name}"' for name in ds.partition_names]
    if not present:
        cols = [f'CAST(NULL AS {duck_type(t)}) AS "{c}"' for c, t in ds.columns.items()]
        cols += [f"CAST(NULL AS VARCHAR) AS {c}" for c in part_cols]
        return f"CREATE OR REPLACE VIEW lake.{ds.name} AS SELECT {', '.join(cols)} LIMIT 0"
    glob = _quote(f"{root.resolve().as_posix()}/{ds.name}/**/*.parquet")
    hive_types = ", ".join(f"{_quote(n)}: 'VARCHAR'" for n in ds.partition_names)
    options = "union_by_name = true"
    if part_cols:
        options += f", hive_partitioning = true, hive_types = {{{hive_types}}}"
    else:
        options += ", hive_partitioning = false"
    select = ", ".join([*(f'"{c}"' for c in ds.columns), *part_cols])
    # Partition columns are functions of the key, so adding them to the window keeps its
    # meaning and lets DuckDB push partition filters below it (file pruning).
    window = ", ".join([*(f'"{c}"' for c in ds.primary_key), *part_cols])
    return (
        f"CREATE OR REPLACE VIEW lake.{ds.name} AS SELECT {select} "
        f"FROM read_parquet({glob}, {options}) "
        f"QUALIFY row_number() OVER (PARTITION BY {window} ORDER BY {WRITTEN_AT} DESC) = 1"
    )


def _create_user_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``sql/views`` in dependency order (retry the ones whose inputs are missing)."""
    pending = list(view_sql())
    while pending:
        failed: list[tuple[str, str]] = []
        errors: dict[str, str] = {}
        for name, text in pending:
            try:
                con.execute(text)
            except duckdb.CatalogException as exc:
                failed.append((name, text))
                errors[name] = str(exc).splitlines()[0]
        if len(failed) == len(pending):
            raise RuntimeError(f"cannot create views: {errors}")
        pending = failed


def catalog_statements(root: Path, present: dict[str, bool]) -> list[str]:
    """Every statement that builds the catalog for the given dataset presence."""
    stmts = ["CREATE SCHEMA IF NOT EXISTS lake"]
    stmts += [base_view_sql(root, ds, present=present[ds.name]) for ds in DATASETS.values()]
    return stmts


def _presence(root: Path) -> dict[str, bool]:
    return {name: has_files(root, ds) for name, ds in DATASETS.items()}


def build_views(con: duckdb.DuckDBPyConnection, root: Path) -> dict[str, bool]:
    """Create every base and user view on ``con``; returns which datasets have files.

    Safe while a writer compacts: a view whose binding lost a file is built again.
    """

    def build() -> dict[str, bool]:
        present = _presence(root)
        for stmt in catalog_statements(root, present):
            con.execute(stmt)
        _create_user_views(con)
        return present

    return retry_catalog_action(build, root)


@dataclass(frozen=True)
class SyncResult:
    changed: bool
    path: Path
    views: int


def _fingerprint(root: Path, present: dict[str, bool]) -> str:
    digest = hashlib.sha256()
    for stmt in catalog_statements(root, present):
        digest.update(stmt.encode())
    for name, text in view_sql():
        digest.update(name.encode() + text.encode())
    return digest.hexdigest()


def sync_catalog(root: Path, catalog_path: Path, *, force: bool = False) -> SyncResult:
    """Create or update the views of ``catalog_path`` over the lake at ``root``, then close it.

    Opens the file read-write only when the definitions differ from the last sync (or with
    ``force``). Raises :class:`CatalogBusyError` when another process holds the file.
    """
    present = _presence(root)
    fingerprint = _fingerprint(root, present)
    stamp = catalog_path.with_name(catalog_path.name + ".views.sha256")
    n_views = len(DATASETS) + len(view_sql())
    current = stamp.read_text().strip() if stamp.is_file() else ""
    if not force and catalog_path.is_file() and current == fingerprint:
        return SyncResult(False, catalog_path, n_views)
    catalog_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(catalog_path))
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        raise CatalogBusyError(
            f"{catalog_path} is open in another process ({str(exc).splitlines()[0]}); "
            "close that session (or open it with read_only=True) and run `qbtc db init`"
        ) from None

    def build() -> None:
        con.execute("BEGIN TRANSACTION")
        try:
            for stmt in catalog_statements(root, _presence(root)):
                con.execute(stmt)
            _create_user_views(con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    try:
        retry_catalog_action(build, root)
    finally:
        con.close()
    stamp.write_text(fingerprint + "\n")
    return SyncResult(True, catalog_path, n_views)


class LakeReader:
    """An in-memory DuckDB with the catalog's views over the lake (never opens qbtc.duckdb).

    Thread-safe: every query runs on its own cursor. Views of datasets that gained their
    first file are rebuilt by :meth:`refresh`, which :meth:`query` calls first.
    """

    def __init__(self, root: Path, *, threads: int | None = None) -> None:
        self.root = root
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET TimeZone = 'UTC'")
        if threads:
            self._con.execute(f"SET threads = {int(threads)}")
        self._lock = threading.Lock()
        self._present = build_views(self._con, root)

    def refresh(self) -> bool:
        """Rebuild base views whose dataset presence changed; True when any did."""
        present = _presence(self.root)
        if present == self._present:
            return False
        with self._lock:
            for name, ds in DATASETS.items():
                if present[name] != self._present.get(name):
                    stmt = base_view_sql(self.root, ds, present=present[name])
                    retry_catalog_action(partial(self._con.execute, stmt), self.root)
            self._present = present
        return True

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self._con.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    def query(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pl.DataFrame:
        """Run ``sql`` (parameters bound, never formatted in) and return a polars frame.

        Retries a read that lost a file to a concurrent compaction, or that failed on a
        corrupt file (moved aside first, :mod:`qbtc.lake.integrity`).
        """

        def run() -> pl.DataFrame:
            self.refresh()  # again after a retry: a quarantined file may have emptied a view
            cur = self.cursor()
            try:
                relation = cur.sql(sql, params=params)
                if relation is None:  # an empty statement or one that returns nothing
                    return pl.DataFrame()
                return pl.from_arrow(relation.to_arrow_table())  # type: ignore[return-value]
            finally:
                cur.close()

        return retry_catalog_action(run, self.root)

    def tables(self) -> list[str]:
        """Names of the queryable views (user views, then ``lake.*`` base views)."""
        rows = self.query(
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal "
            "ORDER BY schema_name <> 'main', view_name"
        )
        return [v if s == "main" else f"{s}.{v}" for s, v in rows.iter_rows()]

    def close(self) -> None:
        self._con.close()
