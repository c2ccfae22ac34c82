"""The installed ``qbtc`` entry point: library commands plus orchestration commands.

Commands that run flows import Prefect only when they run, so ``qbtc --help``, ``qbtc sql``
and friends stay fast.
"""

from __future__ import annotations

import typer

from flows.backtest_cli import backtest_command
from flows.ingest_cli import ingest_command
from flows.runtime import parse_as_of, prepare_prefect
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
    live: bool = typer.Option(False, "--live", help="Send real orders (needs venue keys)."),
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
    setup_logging(settings.data_dir, console=False)
    prepare_prefect(settings.data_dir, settings.prefect_port)
    from flows.heartbeat import engine_heartbeats_off
    from flows.pipeline import PipelineParameters, check_live_venue, pipeline
    from qbtc.report import read_cycle_summary, render_text

    try:
        check_live_venue(settings, live=live or settings.live)
    except ValueError as exc:
        fail(str(exc))

    params = PipelineParameters(
        symbols=settings.symbols,
        signal_provider=settings.llm_provider,
        seed=settings.seed,
        as_of=when,
        backfill_days=settings.backfill_days,
        mode="live" if live else "paper",
        sizing=sizing,
    )
    typer.echo(
        f"qbtc: one cycle on '{settings.exchange}' for {len(settings.symbols)} symbols "
        f"(data in {settings.data_dir.resolve()}) ..."
    )
    with engine_heartbeats_off():  # the pipeline sends its own (see flows/heartbeat.py)
        state = pipeline(params, return_state=True)
    run_id = str(state.state_details.flow_run_id)
    try:
        report = read_cycle_summary(settings.lake_dir, run_id, portfolio_id=settings.portfolio_id)
    except KeyError:
        fail(f"the cycle did not start: {state.message}", code=1)
    typer.echo(render_text(report, data_dir=settings.data_dir))
    if not state.is_completed():
        fail(report.message or state.message or "the cycle failed", code=1)


def up_command(
    no_first_run: bool = typer.Option(False, "--no-first-run", help="Do not trigger a run now."),
) -> None:
    """Start the Prefect server + UI, the scheduled deployments and the API (Ctrl-C stops)."""
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
