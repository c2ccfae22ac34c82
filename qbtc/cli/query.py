"""``qbtc sql``: run SQL on the in-memory reader over the lake (safe while a flow writes)."""

from __future__ import annotations

import sys
from enum import StrEnum

import duckdb
import polars as pl
import typer

from qbtc.cli.common import fail, settings_or_exit
from qbtc.lake import LakeReader


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def render(frame: pl.DataFrame, fmt: OutputFormat) -> str:
    """A result frame as a table, CSV or JSON (rows as objects) text."""
    if fmt is OutputFormat.csv:
        return frame.write_csv()
    if fmt is OutputFormat.json:
        return frame.write_json()
    with pl.Config(
        tbl_rows=200,
        tbl_cols=-1,
        tbl_width_chars=200,
        fmt_str_lengths=60,
        tbl_hide_dataframe_shape=True,
    ):
        return f"{frame}\n({frame.height} rows)"


def sql_command(
    statement: str = typer.Argument(..., help='SQL to run, e.g. "SELECT * FROM market_data".'),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """Query the lake with DuckDB SQL (views: market_data, positions, risk_metrics, ...)."""
    settings = settings_or_exit()
    reader = LakeReader(settings.lake_dir)
    try:
        frame = reader.query(statement)
    except duckdb.CatalogException as exc:
        first = str(exc).splitlines()[0]
        tables = ", ".join(t for t in reader.tables() if not t.startswith("lake."))
        fail(f"{first}. Tables: {tables}")
    except duckdb.Error as exc:
        fail(str(exc).splitlines()[0])
    finally:
        reader.close()
    sys.stdout.write(render(frame, fmt).rstrip("\n") + "\n")
