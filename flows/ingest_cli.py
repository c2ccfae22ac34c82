"""``qbtc ingest``: market data from the venue, or a Binance kline file, behind the gate.

Registered on the ``qbtc`` app where it is assembled (:func:`flows.cli.build_app`). Prefect is imported only when the
command runs. Mistakes a user can make (an unknown symbol, a bad option combination, a
malformed file) end in one line and exit code 2; a venue that stays down or a failed gate
end in one line and exit code 1.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from qbtc.cli.common import fail, settings_or_exit
from qbtc.config import DEFAULT_SYMBOLS, Settings
from qbtc.symbols import close_matches

_CCXT_MARKET = re.compile(r"^[A-Z0-9]+/[A-Z0-9]+(:[A-Z0-9]+)?$")  # perp or spot


def split_symbols(values: list[str] | None) -> list[str] | None:
    """``--symbols A --symbols B,C`` -> ``[A, B, C]`` (None when not given)."""
    if not values:
        return None
    return [s.strip() for value in values for s in value.split(",") if s.strip()]


def check_symbol_is_traded(symbol: str, settings: Settings) -> None:
    """A file's symbol must be a ccxt market: a perpetual (``BTC/USDT:USDT``) or spot
    (``BTC/USDT``, stored as its own market); say which one was probably meant."""
    if _CCXT_MARKET.match(symbol):
        return
    universe = list(dict.fromkeys([*settings.symbols, *DEFAULT_SYMBOLS]))
    matches = close_matches(symbol, universe)
    hint = f"did you mean {', '.join(matches)}?" if matches else "e.g. BTC/USDT:USDT or BTC/USDT"
    fail(f"unknown symbol {symbol!r}: --symbol takes a ccxt market, a perpetual or spot, {hint}")


def check_venue_options(settings: Settings, as_of: datetime | None) -> None:
    """Refuse what cannot work before any flow starts (bad timeframe, unknown sim symbol)."""
    from qbtc.market.errors import UnknownSymbolError
    from qbtc.quality import timeframe_step

    try:
        timeframe_step(settings.timeframe)
    except ValueError as exc:
        fail(str(exc))
    if settings.exchange != "sim":
        if as_of is not None:
            fail(f"--as-of replays the simulated venue only; drop it for {settings.exchange}")
        return
    from qbtc.market.sim import SimExchange
    from qbtc.market.venue import VenueSeedError, check_sim_seed

    try:
        SimExchange(seed=settings.seed, as_of=as_of, symbols=tuple(settings.symbols))
        check_sim_seed(settings.state_dir, settings.seed, lake_dir=settings.lake_dir)
    except (UnknownSymbolError, VenueSeedError) as exc:
        fail(str(exc))


def run_flow(call: Any) -> dict[str, Any]:
    """Run a flow call; turn the errors a user can cause into one clear line."""
    from qbtc.market.errors import UnknownSymbolError, VenueError
    from qbtc.market.files import KlineFileError

    try:
        result: dict[str, Any] = call()
    except (UnknownSymbolError, KlineFileError) as exc:
        fail(str(exc))
    except VenueError as exc:
        fail(str(exc), code=1)
    except RuntimeError as exc:
        if "ephemeral Prefect API server" not in str(exc):
            raise
        fail(
            "Prefect's temporary server did not start in time; nothing was written. Start a "
            "local server (`make up`) or raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
            code=1,
        )
    return result


def prepare_ingest_run(settings: Settings) -> None:
    """Logs to ``data/logs``, Prefect owns the console; the `make up` server when it runs."""
    from flows.runtime import prepare_prefect as prepare
    from qbtc.logs import setup_logging

    setup_logging(
        settings.data_dir,
        console=False,
        max_mb=settings.log_max_mb,
        backups=settings.log_backups,
    )
    prepare(settings.data_dir, settings.prefect_port)


def _import_file(path: Path, symbol: str, settings: Settings, as_of: datetime | None) -> None:
    from flows.ingest import ingest_file

    typer.echo(f"qbtc ingest: importing {path} as {symbol} (data in {settings.data_dir.resolve()})")
    out = run_flow(lambda: ingest_file(str(path), symbol, as_of=as_of))
    tidied = []
    if out["duplicates"]:
        tidied.append(f"{out['duplicates']:,} exact duplicate line(s) collapsed")
    if out["reordered"]:
        tidied.append("sorted by open time")
    typer.echo(
        f"file: {out['rows']:,} {out['timeframe']} bars ({out['time_unit']} times)"
        + (f"; {', '.join(tidied)}" if tidied else "")
    )
    stored = f"{out['written']:,} rows stored, {out['quarantined']:,} quarantined"
    if not out["passed"]:
        fail(
            f"{stored}; the gate failed because {'; '.join(out['reasons'])} "
            "(the quarantined rows are in the quarantine dataset)",
            code=1,
        )
    typer.echo(f"quality checks: passed; {stored}")


def ingest_command(
    symbols: list[str] | None = typer.Option(
        None, "--symbols", "-s", help="Perps in ccxt form, repeated or comma-separated."
    ),
    days: int | None = typer.Option(None, "--days", help="Days back-filled on a first run."),
    as_of: str | None = typer.Option(None, "--as-of", help="Fixed clock, ISO 8601 (sim only)."),
    exchange: str | None = typer.Option(None, "--exchange", help="sim, or a ccxt id."),
    timeframe: str | None = typer.Option(None, "--timeframe", help="Bar length, e.g. 1m."),
    from_file: Path | None = typer.Option(
        None, "--from-file", help="Import a Binance kline .csv or .zip instead of the venue."
    ),
    symbol: str | None = typer.Option(None, "--symbol", help="The ccxt symbol of --from-file."),
) -> None:
    """Fetch OHLCV, tickers, funding and option chains into the lake, behind the quality gate.

    The first run back-fills --days; later runs fetch only what is missing (new bars, gaps).
    """
    if (from_file is None) != (symbol is None):
        fail("--from-file and --symbol go together: --from-file PATH --symbol BTC/USDT:USDT")
    if from_file is not None and (symbols or days or exchange or timeframe):
        fail("--from-file imports one file: give only --symbol (and --as-of)")
    settings = settings_or_exit(
        symbols=split_symbols(symbols), backfill_days=days, exchange=exchange, timeframe=timeframe
    )
    from flows.runtime import parse_as_of

    when = parse_as_of(as_of)
    if from_file is not None and symbol is not None:
        check_symbol_is_traded(symbol, settings)
        if not from_file.is_file():
            fail(f"{from_file}: no such file (give a Binance kline .csv or .zip)")
        prepare_ingest_run(settings)
        _import_file(from_file, symbol, settings, when)
        return
    check_venue_options(settings, when)
    prepare_ingest_run(settings)
    from flows.ingest import ingest

    clock = when.isoformat() if when else "now"
    typer.echo(
        f"qbtc ingest: {len(settings.symbols)} symbol(s) from {settings.exchange}, "
        f"{settings.timeframe} bars, back-fill {settings.backfill_days} day(s), as of {clock} "
        f"(data in {settings.data_dir.resolve()})"
    )
    # Any timeframe or ccxt venue the settings accept (the deployment's form offers a few):
    # the flow reads them from the environment it runs in.
    # They are put back afterwards, so a caller in the same process (a test) sees its own.
    saved = {name: os.environ.get(name) for name in ("QBTC_TIMEFRAME", "QBTC_EXCHANGE")}
    os.environ["QBTC_TIMEFRAME"] = settings.timeframe
    os.environ["QBTC_EXCHANGE"] = settings.exchange
    try:
        summary = run_flow(
            lambda: ingest(symbols=settings.symbols, days=settings.backfill_days, as_of=when)
        )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    from qbtc.market.ingest import IngestSummary

    extra = ("gate_s", "docs_s", "docs_page")  # the stage's timings and its report
    fields = {k: v for k, v in summary.items() if k not in extra}
    fields["as_of"] = datetime.fromisoformat(summary["as_of"])
    fields["symbols"], fields["reasons"] = tuple(summary["symbols"]), tuple(summary["reasons"])
    for line in IngestSummary(**fields).lines():
        typer.echo(line)
    if summary.get("docs_page"):
        typer.echo(f"Data Docs:      {summary['docs_page']}")
    if not summary["passed"]:
        fail("the quality gate failed: trading stages refuse to run until one passes", code=1)
