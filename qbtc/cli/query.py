"""``qbtc sql``: run SQL on the in-memory reader over the lake (safe while a flow writes)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TextIO

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


def run_statement(reader: LakeReader, statement: str) -> pl.DataFrame:
    """The result of ``statement``; a user's SQL error as one line (``ValueError``)."""
    try:
        return reader.query(statement)
    except duckdb.CatalogException as exc:
        first = str(exc).splitlines()[0]
        tables = ", ".join(t for t in reader.tables() if not t.startswith("lake."))
        raise ValueError(f"{first}. Tables: {tables}") from None
    except duckdb.Error as exc:
        raise ValueError(str(exc).splitlines()[0]) from None


SHELL_HELP = """qbtc sql: DuckDB SQL over the lake (read-only; safe while flows write).
End a statement with ';' (it may span lines). .tables lists the views, .quit (or Ctrl-D) leaves."""


def sql_shell(reader: LakeReader, fmt: OutputFormat, lines: TextIO, out: TextIO) -> None:
    """An interactive SQL prompt: statements end with ``;``; an error never ends the shell."""
    interactive = lines.isatty()
    if interactive:
        import readline  # noqa: F401 - line editing and history for input()
    out.write(SHELL_HELP + "\n")
    buffer: list[str] = []
    while True:
        prompt = "qbtc> " if not buffer else "  ... "
        try:
            line = input(prompt) if interactive else lines.readline()
        except EOFError:
            line = ""
        if not interactive and line == "":
            break
        if interactive and line == "" and not buffer:
            continue
        text = line.strip()
        if not buffer and text in (".quit", ".exit", "\\q"):
            break
        if not buffer and text == ".tables":
            names = [t for t in reader.tables() if not t.startswith("lake.")]
            out.write(", ".join(names) + "\n")
            continue
        buffer.append(line.rstrip("\n"))
        if not text.endswith(";"):
            continue
        statement, buffer = "\n".join(buffer).strip().rstrip(";"), []
        try:
            frame = run_statement(reader, statement)
        except ValueError as exc:
            out.write(f"error: {exc}\n")
            continue
        out.write(render(frame, fmt).rstrip("\n") + "\n")


def sql_command(
    statement: str | None = typer.Argument(
        None,
        help='SQL to run, e.g. "SELECT * FROM market_data"; none: an interactive SQL shell.',
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """Query the lake with DuckDB SQL (views: market_data, positions, risk_metrics, ...).

    Without a statement, an interactive shell (statements end with ';', .quit leaves).
    """
    settings = settings_or_exit()
    reader = LakeReader(settings.lake_dir)
    try:
        if statement is None:
            sql_shell(reader, fmt, sys.stdin, sys.stdout)
            return
        try:
            frame = run_statement(reader, statement)
        except ValueError as exc:
            fail(str(exc))
    finally:
        reader.close()
    sys.stdout.write(render(frame, fmt).rstrip("\n") + "\n")
