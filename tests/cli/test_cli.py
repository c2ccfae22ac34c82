from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qbtc.cli import app
from qbtc.lake import write_dataset
from qbtc.schemas import OHLCV
from tests.factories import ohlcv_frame

runner = CliRunner()


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("sql", "db", "version"):
        assert command in result.output


def test_db_init_creates_the_catalog(data_dir: Path):
    result = runner.invoke(app, ["db", "init"])
    assert result.exit_code == 0, result.output
    assert (data_dir / "qbtc.duckdb").is_file()


def test_sql_answers_in_each_format(data_dir: Path):
    write_dataset(data_dir / "lake", OHLCV, ohlcv_frame(n=3))
    table = runner.invoke(app, ["sql", "SELECT symbol, price FROM market_data ORDER BY 1"])
    assert table.exit_code == 0, table.output
    assert "BTC/USDT:USDT" in table.output
    assert "(6 rows)" in table.output
    csv = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM ohlcv", "--format", "csv"])
    assert csv.output.splitlines() == ["n", "6"]
    as_json = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM ohlcv", "-f", "json"])
    assert json.loads(as_json.output) == [{"n": 6}]


def test_unknown_table_is_one_clear_line_and_exit_2(data_dir: Path):
    result = runner.invoke(app, ["sql", "SELECT * FROM nope"])
    assert result.exit_code == 2
    assert "Table with name nope does not exist" in result.output
    assert "market_data" in result.output
    assert "Traceback" not in result.output


def test_sql_error_is_one_clear_line_and_exit_2(data_dir: Path):
    result = runner.invoke(app, ["sql", "SELEC 1"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: Parser Error")
    assert len(result.output.strip().splitlines()) == 1


def test_invalid_setting_names_the_variable(data_dir: Path, monkeypatch):
    monkeypatch.setenv("QBTC_API_PORT", "not-a-port")
    result = runner.invoke(app, ["db", "init"])
    assert result.exit_code == 2
    assert "QBTC_API_PORT" in result.output


def test_sql_without_a_statement_is_an_interactive_shell(data_dir: Path):
    write_dataset(data_dir / "lake", OHLCV, ohlcv_frame(n=3))
    session = "\n".join(
        [
            ".tables",
            "SELECT count(*) AS n",
            "FROM ohlcv;",
            "SELECT * FROM nope;",  # an error is one line, and the shell goes on
            "SELECT 41 + 1 AS answer;",
            ".quit",
        ]
    )
    result = runner.invoke(app, ["sql"], input=session + "\n")
    assert result.exit_code == 0, result.output
    assert "market_data" in result.output  # .tables
    assert "(1 rows)" in result.output
    assert "error: Catalog Error: Table with name nope does not exist" in result.output
    assert "42" in result.output
