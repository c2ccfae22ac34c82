"""``qbtc db``: the DuckDB catalog and lake maintenance."""

from __future__ import annotations

import typer

from qbtc.cli.common import fail, settings_or_exit
from qbtc.lake import CatalogBusyError, compact_dataset, sync_catalog
from qbtc.schemas import DATASETS

app = typer.Typer(help="Catalog (data/qbtc.duckdb) and lake maintenance.", no_args_is_help=True)


@app.command("init")
def init() -> None:
    """Create or update data/qbtc.duckdb with the views over the lake, then close it."""
    settings = settings_or_exit()
    try:
        result = sync_catalog(settings.lake_dir, settings.catalog_path, force=True)
    except CatalogBusyError as exc:
        fail(str(exc))
    typer.echo(f"catalog ready: {result.path} ({result.views} views)")
    typer.echo(f"open it read-only:  duckdb -readonly {result.path}")


@app.command("compact")
def compact(
    dataset: list[str] = typer.Option(
        None, "--dataset", "-d", help="Dataset(s) to compact (default: all)."
    ),
) -> None:
    """Merge each partition's small files into one, without losing or duplicating a row."""
    settings = settings_or_exit()
    names = dataset or sorted(DATASETS)
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        fail(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(sorted(DATASETS))}")
    for name in names:
        r = compact_dataset(settings.lake_dir, name)
        typer.echo(
            f"{name:<18} partitions compacted {r.partitions:>4}  files {r.files_before:>5} -> "
            f"{r.files_after:<5} rows {r.rows_before} -> {r.rows_after}"
        )
