"""The installed ``qbtc`` entry point: library commands plus orchestration commands.

Commands that run flows import Prefect only when they run, so ``qbtc --help``, ``qbtc sql``
and friends stay fast.
"""

from __future__ import annotations

import re
import time
from typing import Any

import typer

from flows.backtest_cli import backtest_command
from flows.ingest_cli import ingest_command
from flows.prefect_server import ServerChoice
from flows.runtime import parse_as_of, prepare_prefect, wait_for_server
from qbtc.cli import build_library_app
from qbtc.cli.common import fail, settings_or_exit
from qbtc.config import Settings


def check_strategy(settings: Settings) -> None:
    """A user strategy that cannot load fails in one line, before Prefect starts."""
    if settings.llm_provider != "strategy":
        return
    from qbtc.signals import StrategyLoadError, load_strategy

    if not settings.strategy:
        fail("--provider strategy needs a strategy: --strategy module:Class (or QBTC_STRATEGY)")
    try:
        load_strategy(settings.strategy)
    except StrategyLoadError as exc:
        fail(str(exc))


def invoked_as() -> str:
    """How to type qbtc here: ``qbtc`` when it is on PATH, else its path (``.venv/bin/qbtc``).

    Under ``uv run`` (``make run``) the environment's ``bin`` is on PATH only for this process,
    not in the user's shell, so the path is given."""
    import os
    import shutil
    import sys
    from pathlib import Path

    me = Path(sys.argv[0]).resolve()
    on_path = shutil.which("qbtc")
    under_uv_run = bool(os.environ.get("UV_RUN_RECURSION_DEPTH"))
    if on_path and Path(on_path).resolve() == me and not under_uv_run:
        return "qbtc"
    if me.name != "qbtc":  # python -m flows.cli, tests
        return "uv run qbtc"
    try:
        return str(me.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(me)


class ProgressDisplay:
    """``qbtc run``'s progress: each stage as it starts and ends, with its time, and the
    run's page when a Prefect UI is up."""

    def __init__(self, server: ServerChoice) -> None:
        self.server = server
        self.run_id: str | None = None

    def __call__(self, step: Any) -> None:
        if step.kind == "cycle":
            self.run_id = step.detail
            url = self.server.run_url(step.detail)
            typer.echo(f"  run       {step.detail}" + (f"  {url}" if url else ""))
        elif step.kind == "start":
            typer.echo(f"  {step.stage:<9} ...")
        else:
            mark = "done" if step.kind == "done" else "FAILED"
            fact = f"  {step.detail}" if step.detail else ""
            typer.echo(f"  {step.stage:<9} {mark} in {step.seconds:.1f} s{fact}")


#: The one line a cycle stopped by a full disk ends with (see qbtc.diskspace).
DISK_FULL_LINE = re.compile(r"disk full writing .*")


def check_disk(settings: Settings) -> None:
    """Refuse to start a run on a (nearly) full disk, in one line, before Prefect starts.

    Also stop the logging module from printing a block per record it cannot write.
    """
    import logging

    from qbtc.diskspace import DiskFullError, check_free_space

    logging.raiseExceptions = False
    try:
        check_free_space(settings.data_dir, min_free_mb=settings.min_free_mb)
    except DiskFullError as exc:
        fail(str(exc), code=1)


def check_disk_full(exc: BaseException, settings: Settings) -> None:
    """End in one line when ``exc`` came from a full disk (Prefect's own database on a full
    disk reaches the client as a bare HTTP 500, hence the look at the free space)."""
    from qbtc.diskspace import disk_full_message, free_mb, is_disk_full

    if is_disk_full(exc) or free_mb(settings.data_dir) < 1.0:
        fail(disk_full_message(exc, data_dir=settings.data_dir, orders_sent=False), code=1)


def run_command(
    as_of: str | None = typer.Option(None, "--as-of", help="Fixed clock, ISO 8601 (UTC)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the venue and Monte Carlo."),
    provider: str | None = typer.Option(
        None, "--provider", help="rules | gemini | replay | strategy."
    ),
    strategy: str | None = typer.Option(
        None, "--strategy", help="User strategy, module:Class (implies --provider strategy)."
    ),
    symbols: str | None = typer.Option(None, "--symbols", help="Comma-separated perps."),
    days: int | None = typer.Option(None, "--days", help="Back-fill days on a first run."),
    live: bool = typer.Option(
        False,
        "--live",
        help="Send orders to the venue: its testnet unless QBTC_EXCHANGE_TESTNET=false (needs "
        "keys). Without it a real venue (QBTC_EXCHANGE=binanceusdm) runs as a dry-run.",
    ),
    sizing: str = typer.Option(
        "vol_target",
        "--sizing",
        help="Perp sizing: vol_target (default) or mean_variance (constrained optimiser).",
    ),
) -> None:
    """Run one full cycle now (ingest, gate, features, signals, risk, orders) and summarise it."""
    from qbtc.logs import setup_logging

    settings = settings_or_exit(
        seed=seed,
        llm_provider=provider or ("strategy" if strategy else None),
        strategy=strategy,
        backfill_days=days,
        symbols=[s.strip() for s in symbols.split(",") if s.strip()] if symbols else None,
    )
    when = parse_as_of(as_of) or settings.as_of
    if sizing not in ("vol_target", "mean_variance"):
        fail(f"--sizing {sizing!r}: use vol_target or mean_variance")
    from flows.ingest_cli import check_venue_options

    check_venue_options(settings, when)  # an unknown symbol fails here, before Prefect starts
    check_strategy(settings)
    check_disk(settings)
    setup_logging(
        settings.data_dir,
        console=False,
        max_mb=settings.log_max_mb,
        backups=settings.log_backups,
    )
    typer.echo(
        f"qbtc: one cycle on '{settings.exchange}' for {len(settings.symbols)} symbols "
        f"(data in {settings.data_dir.resolve()})"
    )
    clock = time.perf_counter()
    # The server (when this run starts its own) comes up while the libraries import.
    server = prepare_prefect(settings.data_dir, settings.prefect_port, wait=False)
    typer.echo(f"  prefect   {server.description}")
    from flows.api_guard import gone_reason, server_gone, watch_server
    from flows.heartbeat import engine_heartbeats_off
    from flows.pipeline import PipelineParameters, check_live_venue, pipeline
    from flows.progress import stage_progress
    from qbtc.quality.expectations import load_great_expectations
    from qbtc.report import read_cycle_summary, render_text

    imported = time.perf_counter() - clock
    # Seconds of import every cycle's gate needs: paid here, while a temporary server starts,
    # rather than inside the gate's time.
    load_great_expectations()
    gx_s = time.perf_counter() - clock - imported
    waited = wait_for_server(server)
    typer.echo(
        f"  start-up  {time.perf_counter() - clock:.1f} s (libraries {imported:.1f} s, "
        f"Great Expectations {gx_s:.1f} s"
        + (f", temporary server ready after {waited:.1f} s)" if server.process else ")")
    )

    try:
        check_live_venue(settings, live=live or settings.live)
    except ValueError as exc:
        fail(str(exc))

    params = PipelineParameters(
        symbols=settings.symbols,
        signal_provider=settings.llm_provider,
        strategy=settings.strategy,
        seed=settings.seed,
        as_of=when,
        backfill_days=settings.backfill_days,
        mode="live" if live else "paper",
        sizing=sizing,
    )
    display = ProgressDisplay(server)
    # A `make up` server that goes away mid-run never fails the cycle (flows/api_guard.py).
    stop_watch = watch_server(server.api_url.removesuffix("/api")) if server.ui_url else None
    message: str | None = None
    try:
        with engine_heartbeats_off(), stage_progress(display):  # see flows/heartbeat.py
            state = pipeline(params, return_state=True)
        run_id, message = str(state.state_details.flow_run_id), state.message
    except Exception as exc:
        check_disk_full(exc, settings)  # Prefect itself could not record the run
        if not server_gone() or display.run_id is None:
            raise
        run_id = display.run_id
    finally:
        if stop_watch is not None:
            stop_watch()
        server.stop()
    if server_gone():
        typer.echo(
            f"  prefect   the server went away during the run ({gone_reason()}): the cycle "
            "went on without it; this summary comes from the lake"
        )
    disk_full = DISK_FULL_LINE.search(message or "")
    if disk_full:
        fail(disk_full.group(0), code=1)  # one line; the summary would only repeat it
    try:
        report = read_cycle_summary(
            settings.lake_dir,
            run_id,
            portfolio_id=settings.portfolio_id,
            drawdown_limit=settings.max_drawdown,
        )
    except KeyError:
        fail(f"the cycle did not start: {message}", code=1)
    typer.echo(render_text(report, data_dir=settings.data_dir, command=invoked_as()))
    if report.status != "completed":
        fail(report.message or message or "the cycle failed", code=1)


def up_command(
    no_first_run: bool = typer.Option(False, "--no-first-run", help="Do not trigger a run now."),
    prod: bool = typer.Option(
        False,
        "--prod",
        help="Production profile: PostgreSQL, the qbtc-process work pool, QBTC_WORKERS "
        "process workers, prefect.yaml deployments (see README, Running in production).",
    ),
) -> None:
    """Start the Prefect server + UI, the scheduled deployments and the API (Ctrl-C stops)."""
    if prod:
        from flows.up_prod import run_up_prod

        raise typer.Exit(run_up_prod(settings_or_exit(), first_run=not no_first_run))
    from flows.up import run_up

    raise typer.Exit(run_up(settings_or_exit(), first_run=not no_first_run))


def build_app() -> typer.Typer:
    """The whole ``qbtc`` command line: the library's commands plus those that run flows.

    Every command is registered here, where the app is assembled, never as a side effect of
    an import.
    """
    app = build_library_app()
    app.command("run")(run_command)
    app.command("up")(up_command)
    app.command("ingest")(ingest_command)
    app.command("backtest")(backtest_command)
    return app


app = build_app()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
