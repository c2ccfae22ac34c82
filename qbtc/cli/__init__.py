"""The ``qbtc`` command line: library commands (catalog, SQL, book inspection).

Orchestration commands (``ingest``, ``run``, ``up``) are added by :func:`flows.cli.build_library_app`, which is
the installed entry point, so this package never imports Prefect.
"""

from __future__ import annotations

import typer

from qbtc import __version__
from qbtc.cli import api, book, db, query
from qbtc.cli.killswitch import kill_switch_command


def version() -> None:
    """Print the qbtc version."""
    typer.echo(f"qbtc {__version__}")


def build_library_app() -> typer.Typer:
    """The library's commands on a new ``qbtc`` app (:func:`flows.cli.build_library_app` adds the rest)."""
    app = typer.Typer(
        name="qbtc",
        help="qbtc: a hybrid futures-options crypto desk run as an observable data pipeline.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.add_typer(db.app, name="db")
    app.command("sql")(query.sql_command)
    book.register_book_commands(app)
    app.command("api")(api.api_command)
    app.command("kill-switch")(kill_switch_command)
    app.command("version")(version)
    return app


app = build_library_app()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
