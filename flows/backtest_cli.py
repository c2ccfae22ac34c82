"""``qbtc backtest``: the live cycle's decisions replayed over a window of the lake.

Registered on the ``qbtc`` app by :mod:`flows.cli`. Every mistake a user can make (dates,
interval, symbols, provider, a strategy that fails to import, a window the lake lacks)
ends in one line and exit code 2 before anything is stored.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import typer
from pydantic import ValidationError

from qbtc.cli.common import fail, settings_or_exit


def parse_when(option: str, value: str) -> datetime:
    """ISO 8601 to a UTC-aware datetime; a bad value names its option in one line."""
    from datetime import UTC

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option} {value!r} is not ISO 8601, e.g. 2026-11-01T00:00Z")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_sweep(items: list[str]) -> dict[str, list[Any]]:
    """``--sweep fee_rate=0.0002,0.0005`` (repeatable) -> ``{"fee_rate": ["0.0002", ...]}``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name.strip() or not values.strip():
            fail(
                f"--sweep {item!r} must look like name=value1,value2 (e.g. fee_rate=0.0002,0.0005)"
            )
        grid[name.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return grid


def render_backtest(result: dict[str, Any]) -> str:
    metrics = result["metrics"]
    lines = [
        f"backtest {result['backtest_id']}: {result['decisions']} decisions, "
        f"{result['trades']} fills, {result['fill_model']} fills, "
        f"{result['var_scenarios']:,} VaR scenarios per decision, {result['wall_s']:.1f} s",
    ]
    if result.get("caveat"):
        lines.append(f"caveat: {result['caveat']}")
    width = max(len(k) for k in metrics)
    for name, value in metrics.items():
        shown = "n/a" if not math.isfinite(value) else f"{value:,.6g}"
        lines.append(f"  {name:<{width}}  {shown}")
    lines += [
        f"tear sheet: {result['tear_sheet']}",
        "next:",
        f"  qbtc sql \"SELECT * FROM backtest_metrics WHERE backtest_id = '{result['backtest_id']}'\"",
        f"  qbtc sql \"SELECT * FROM backtest_trades WHERE backtest_id = '{result['backtest_id']}'\"",
    ]
    return "\n".join(lines)


def backtest_command(
    start: str = typer.Option(..., "--start", help="First decision time, ISO 8601 (UTC)."),
    end: str = typer.Option(..., "--end", help="Last decision time, ISO 8601 (UTC)."),
    interval: str = typer.Option("1h", "--interval", help="Decision interval: 5m, 1h, 1d ..."),
    symbols: str | None = typer.Option(None, "--symbols", help="Comma-separated perps."),
    provider: str = typer.Option(
        "rules", "--provider", help="rules | replay | gemini | module:Class | entry point name."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the venue and Monte Carlo."),
    equity: float | None = typer.Option(None, "--equity", help="Initial equity, USDT."),
    fills: str = typer.Option("bars", "--fills", help="bars | venue (simulated venue's fills)."),
    fee_rate: float = typer.Option(0.0005, "--fee-rate", help="bars fills: fraction of notional."),
    slippage_bps: float = typer.Option(0.0, "--slippage-bps", help="bars fills: bps of price."),
    var_scenarios: int | None = typer.Option(
        None, "--var-scenarios", help="Monte Carlo VaR scenarios per decision (default as live)."
    ),
    options: bool = typer.Option(False, "--options", help="Trade the options leg too."),
    target_vol: float | None = typer.Option(
        None, "--target-vol", help="Annualised vol target of the sizing (default as live)."
    ),
    replay_run_id: str | None = typer.Option(None, "--replay-run-id", help="replay: one run."),
    no_backfill: bool = typer.Option(False, "--no-backfill", help="Never fetch missing data."),
    sweep: list[str] = typer.Option([], "--sweep", help="name=v1,v2: one backtest per value."),
) -> None:
    """Backtest the live cycle's decisions over a window of the lake; print metrics and the
    tear sheet's path."""
    from qbtc.backtest.config import BacktestInputError
    from qbtc.logs import setup_logging

    settings = settings_or_exit()
    setup_logging(
        settings.data_dir,
        console=False,
        max_mb=settings.log_max_mb,
        backups=settings.log_backups,
    )
    from flows.runtime import prepare_prefect

    prepare_prefect(settings.data_dir, settings.prefect_port)  # before Prefect is imported
    try:
        from flows.backtest import BacktestParameters

        params = BacktestParameters(
            start=parse_when("--start", start),
            end=parse_when("--end", end),
            interval=interval,
            symbols=[s.strip() for s in symbols.split(",") if s.strip()] if symbols else None,
            provider=provider,
            seed=seed,
            initial_equity=equity,
            fill_model=fills,
            fee_rate=fee_rate,
            slippage_bps=slippage_bps,
            var_scenarios=var_scenarios,
            options=options,
            target_vol=target_vol,
            replay_run_id=replay_run_id,
            backfill=not no_backfill,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0])
        option = {"fill_model": "fills", "initial_equity": "equity"}.get(field, field)
        fail(f"invalid --{option.replace('_', '-')}: {first['msg']}")
    grid = parse_sweep(sweep)
    check_first(params, settings, grid)
    from flows.backtest import backtest
    from flows.backtest_sweep import backtest_sweep

    typer.echo(
        f"qbtc: backtest from {params.start:%Y-%m-%d %H:%M} to {params.end:%Y-%m-%d %H:%M} UTC ..."
    )
    try:
        if grid:
            result = backtest_sweep(params, grid)
            typer.echo(render_sweep(result))
            return
        result = backtest(params)
    except BacktestInputError as exc:
        fail(str(exc))
    typer.echo(render_backtest(result))


def check_first(params: Any, settings: Any, grid: dict[str, list[Any]]) -> None:
    """Refuse bad parameters, an unknown symbol or a strategy that fails to load in one line,
    before Prefect starts."""
    from flows.backtest import backtest_config, backtest_provider, max_gap
    from flows.backtest_sweep import grid_sets, with_changes
    from flows.ingest_cli import check_venue_options
    from qbtc.backtest.config import BacktestInputError
    from qbtc.backtest.window import check_window

    try:
        sets = grid_sets(grid) if grid else [{}]
        for changes in sets:
            config = backtest_config(with_changes(params, changes), settings)
            venue = {"symbols": list(config.symbols), "seed": config.seed}
            check_venue_options(settings.model_copy(update=venue), None)
            backtest_provider(config, settings)
            if settings.exchange != "sim" or not params.backfill:  # nothing will fetch it
                check_window(settings.lake_dir, config, max_gap=max_gap(settings))
    except (BacktestInputError, ValidationError) as exc:
        message = str(exc) if isinstance(exc, BacktestInputError) else exc.errors()[0]["msg"]
        fail(message)


def render_sweep(result: dict[str, Any]) -> str:
    lines = [f"sweep {result['sweep_id']}: {len(result['sets'])} parameter sets"]
    for row in result["sets"]:
        lines.append(
            f"  [{row['set_index']}] {row['parameters']}: return {row['total_return']:+.4%}, "
            f"sharpe {row['sharpe']:.3g}, max drawdown {row['max_drawdown']:.2%}, "
            f"backtest {row['backtest_id']}"
        )
    return "\n".join(lines)
