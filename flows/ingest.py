"""Flows ``ingest`` (a venue into the lake) and ``ingest-file`` (a Binance kline file).

``ingest`` plans what is missing (back-fill, incremental tail, gaps), fetches OHLCV, tickers,
funding and option chains in one task per kind of data (each with a bounded thread pool
inside, one request stream per symbol), judges everything in one gate task, then stores it.
Every task has a timeout; the ccxt client's own timeout bounds each request.
Only IO tasks retry, with exponential backoff, and only on errors worth retrying (a venue
unavailable after the adapter's own retries, network or disk errors); an IP ban or an
unknown symbol fails at once. Nothing is written before every fetch succeeded. The gate's
results are published as a table artifact; a failed gate also raises an alert.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from flows.alerts import GATE_FAILED, raise_alert
from flows.common import current_run_id, flow_settings, publish_markdown, publish_table, whole
from flows.quality_docs import publish_docs
from qbtc.config import Settings
from qbtc.execution.modes import data_on_testnet, trading_mode
from qbtc.market import ingest as market
from qbtc.market.errors import VenueUnavailableError
from qbtc.market.files import KlineFile, read_kline_file
from qbtc.market.gaps import IngestPlan, plan_ingest
from qbtc.market.protocol import Exchange
from qbtc.market.venue import source_of
from qbtc.quality import GatePolicy, GateReport, StoredGate, store_gate

FETCH_WORKERS = 4
"""Threads per fetch task (one request stream per symbol)."""

REAL_VENUE_CLOCK_SKEW = timedelta(minutes=5)
"""Largest gap between a run's ``as_of`` and a real venue's clock."""


def is_retryable(error: BaseException) -> bool:
    """Worth another try: the venue stayed down, the network or the disk failed."""
    if isinstance(error, (VenueUnavailableError, OSError, TimeoutError)):
        return True
    # ccxt is imported by the adapter only; match its network errors by class name
    return any(
        cls.__name__ == "NetworkError" and cls.__module__.startswith("ccxt")
        for cls in type(error).__mro__
    )


def retry_on_io(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only :func:`is_retryable` failures."""
    error = state.data if isinstance(state.data, BaseException) else None
    return error is not None and is_retryable(error)


IO_RETRIES: dict[str, Any] = {
    "cache_policy": NO_CACHE,
    "retries": 2,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_on_io,
}


def gate_policy(settings: Settings) -> GatePolicy:
    return GatePolicy(
        max_bad_fraction=settings.quality_max_bad_fraction,
        max_staleness_s=settings.quality_max_staleness_s,
        jump_sigma=settings.quality_jump_sigma,
    )


def open_venue(
    settings: Settings, exchange_id: str, symbols: list[str], *, live: bool = False
) -> Exchange:
    """The venue ``exchange_id`` with the settings' clock, keys, timeouts and retries.

    Market data comes from the venue's testnet only when orders go there (``live`` with
    ``QBTC_EXCHANGE_TESTNET=true``); a dry-run reads the real venue's public data.

    A real venue runs on its own clock; the run's ``as_of`` is then accepted only when it is
    within :data:`REAL_VENUE_CLOCK_SKEW` of it (a pipeline cycle's clock), never as a replay.
    """
    from qbtc.market.venue import SIM, check_sim_seed, open_exchange

    if exchange_id == SIM:
        check_sim_seed(settings.state_dir, settings.seed, lake_dir=settings.lake_dir)
    key, secret = settings.exchange_api_key, settings.exchange_api_secret
    venue = open_exchange(
        exchange_id,
        seed=settings.seed,
        as_of=settings.as_of if exchange_id == SIM else None,
        symbols=symbols,
        api_key=key.get_secret_value() if key else None,
        secret=secret.get_secret_value() if secret else None,
        testnet=data_on_testnet(
            trading_mode(exchange_id, live=live or settings.live, testnet=settings.exchange_testnet)
        ),
        timeout_ms=settings.exchange_timeout_ms,
        max_retries=settings.exchange_max_retries,
        chain_depth=settings.sim_option_chain,
        base_url=settings.exchange_base_url if exchange_id == settings.exchange else None,
    )
    if exchange_id != SIM and settings.as_of is not None:
        skew = abs(settings.as_of - market.exchange_clock(venue))
        if skew > REAL_VENUE_CLOCK_SKEW:
            raise ValueError(
                f"--as-of replays the simulated venue only; {exchange_id} is a real venue "
                f"whose clock is {skew} away from it: drop --as-of or use --exchange sim"
            )
    return venue


@task(timeout_seconds=300, **IO_RETRIES)
def markets_task(exchange: Exchange, symbols: list[str], lake_dir: Path) -> None:
    """Refuse unknown symbols (with close matches), and testnet rows next to real-venue rows
    (or the reverse), before anything is fetched."""
    market.check_symbols(exchange, symbols)
    market.check_source(lake_dir, symbols, source_of(exchange))


@task(timeout_seconds=300, **IO_RETRIES)
def plan_task(
    lake_dir: Path, symbols: list[str], timeframe: str, days: int, as_of: datetime
) -> IngestPlan:
    """What is missing from the lake in the window: back-fill, tail, gaps."""
    return plan_ingest(lake_dir, symbols, timeframe=timeframe, days=days, as_of=as_of)


@task(timeout_seconds=3600, **IO_RETRIES)
def ohlcv_task(exchange: Exchange, plan: IngestPlan, workers: int = FETCH_WORKERS) -> pl.DataFrame:
    return market.fetch_ohlcv(exchange, plan, max_workers=workers)


@task(timeout_seconds=300, **IO_RETRIES)
def tickers_task(exchange: Exchange, symbols: list[str], as_of: datetime) -> pl.DataFrame:
    return market.fetch_tickers(exchange, symbols, as_of=as_of)


@task(timeout_seconds=900, **IO_RETRIES)
def funding_task(
    exchange: Exchange, plan: IngestPlan, workers: int = FETCH_WORKERS
) -> pl.DataFrame:
    return market.fetch_funding(exchange, plan, max_workers=workers)


@task(timeout_seconds=600, **IO_RETRIES)
def options_task(exchange: Exchange, underlyings: list[str], as_of: datetime) -> pl.DataFrame:
    return market.fetch_option_chains(exchange, underlyings, as_of=as_of)


@task(cache_policy=NO_CACHE, timeout_seconds=900)
def gate_task(
    plan: IngestPlan,
    frames: dict[str, pl.DataFrame],
    underlyings: list[str],
    run_id: str,
    policy: GatePolicy,
) -> GateReport:
    """The quality gate over every fetched batch (CPU only: no retries)."""
    return market.gate_batches(
        plan,
        ohlcv=frames["ohlcv"],
        tickers=frames["tickers"],
        funding=frames["funding_rates"],
        options=frames.get("option_quotes"),
        underlyings=underlyings,
        run_id=run_id,
        policy=policy,
    )


@task(timeout_seconds=600, **IO_RETRIES)
def store_task(lake_dir: Path, report: GateReport) -> StoredGate:
    """Clean rows, quarantine and results into the lake (idempotent: safe to retry)."""
    return store_gate(lake_dir, report)


def publish_gate(report: GateReport, key: str, lake_dir: Path) -> None:
    """The gate's results as a table artifact; an alert when it failed."""
    rows = [
        {
            "dataset": r.dataset,
            "check": r.check,
            "level": r.level,
            "status": r.status,
            "rows": r.element_count,
            "failed_rows": r.unexpected_count,
            "error": r.details.get("error") or "",
        }
        for r in report.results
    ]
    publish_table(
        key, rows, f"Quality gate of run {report.run_id} (as of {report.as_of:%Y-%m-%d %H:%M} UTC)"
    )
    if not report.passed and report.summary_check == "gate":
        message = "quality gate failed: " + "; ".join(report.reasons)
        details = {"stage": "ingest", "reasons": list(report.reasons)}
        raise_alert(
            lake_dir, event=GATE_FAILED, run_id=report.run_id, message=message, details=details
        )


#: Venues the ``ingest`` form offers (any ccxt id works through ``QBTC_EXCHANGE``).
VenueName = Literal["sim", "binanceusdm", "deribit"]
#: Bar lengths the ``ingest`` form offers (``QBTC_TIMEFRAME`` takes any <n><unit> up to 1w).
TimeframeName = Literal["1m", "5m", "15m", "1h", "4h", "1d"]


@flow(name="ingest")
def ingest(
    symbols: list[str] | None = None,
    timeframe: TimeframeName | None = None,
    days: int | None = None,
    as_of: datetime | None = None,
    exchange: VenueName | None = None,
    seed: int | None = None,
    live: bool = False,
) -> dict[str, Any]:
    """Market data into the lake (OHLCV, tickers, funding, option chains), behind the gate.

    The first run back-fills ``days``; later runs fetch what is missing in the same window.
    (Parameters are documented in Google style: the Prefect UI reads them into its form.)

    Args:
        symbols: Perpetuals in ccxt form, e.g. BTC/USDT:USDT; empty: QBTC_SYMBOLS.
        timeframe: Bar length; empty: QBTC_TIMEFRAME (1m by default).
        days: Days back-filled for a symbol with no data yet; empty: QBTC_BACKFILL_DAYS.
        as_of: Fixed clock (UTC) to replay the simulated venue; empty: now.
        exchange: Venue of the market data; empty: QBTC_EXCHANGE (sim by default).
        seed: Seed of the simulated venue; it must be the data dir's seed; empty: QBTC_SEED.
        live: Orders go to the venue: read its testnet while QBTC_EXCHANGE_TESTNET is on;
            off, a real venue's public data is read (dry-run).
    """
    settings = flow_settings(
        symbols=symbols,
        timeframe=timeframe,
        backfill_days=days,
        as_of=as_of,
        exchange=exchange,
        seed=seed,
    )
    logger = get_run_logger()
    run_id = current_run_id()
    venue = open_venue(settings, settings.exchange, settings.symbols, live=live)
    same = settings.options_exchange == settings.exchange
    chains = venue if same else open_venue(settings, settings.options_exchange, [], live=live)
    markets_task(venue, settings.symbols, settings.lake_dir)
    moment = settings.as_of or market.exchange_clock(venue)
    plan = plan_task(
        settings.lake_dir, settings.symbols, settings.timeframe, settings.backfill_days, moment
    )
    logger.info("fetching %s bars (%s)", sum(plan.window_counts().values()), plan.window_counts())
    # Called, not submitted: on the flow's main thread a task timeout can interrupt a
    # blocking fetch (in a worker thread it only fires after it). Concurrency is inside.
    frames = {
        "ohlcv": ohlcv_task(venue, whole(plan)),
        "tickers": tickers_task(venue, settings.symbols, moment),
        "funding_rates": funding_task(venue, whole(plan)),
        "option_quotes": options_task(chains, settings.option_underlyings, moment),
    }
    started = time.perf_counter()
    report = gate_task(
        whole(plan), whole(frames), settings.option_underlyings, run_id, gate_policy(settings)
    )
    gate_s = time.perf_counter() - started
    stored = store_task(settings.lake_dir, whole(report))
    summary = market.summarize(plan, report, stored.written, exchange=source_of(venue))
    publish_gate(report, "ingest-quality-gate", settings.lake_dir)
    page, docs_s = publish_docs(settings, report, "ingest-quality-docs")
    publish_markdown(
        "ingest-summary", "\n".join(f"- {line}" for line in summary.lines()), "Ingest run"
    )
    for line in summary.lines():
        logger.info(line)
    timings = {"gate_s": round(gate_s, 3), "docs_s": round(docs_s, 3)}
    return {**summary_dict(summary), **timings, "docs_page": page and str(page)}


def summary_dict(summary: market.IngestSummary) -> dict[str, Any]:
    out = asdict(summary)
    out["as_of"] = summary.as_of.isoformat()
    out["symbols"] = list(summary.symbols)
    out["reasons"] = list(summary.reasons)
    return out


@task(cache_policy=NO_CACHE, timeout_seconds=600)
def read_file_task(path: str, symbol: str) -> KlineFile:
    """Parse the file (a malformed file is final: no retries)."""
    return read_kline_file(path, symbol=symbol)


@task(cache_policy=NO_CACHE, timeout_seconds=900)
def gate_file_task(
    kline: KlineFile, lake_dir: Path, run_id: str, as_of: datetime, policy: GatePolicy
) -> GateReport:
    return market.gate_kline_file(kline, lake_dir, run_id=run_id, as_of=as_of, policy=policy)


@flow(name="ingest-file")
def ingest_file(
    path: str, symbol: str, as_of: datetime | None = None, data_dir: str | None = None
) -> dict[str, Any]:
    """Import a Binance kline file (csv or zip) of ``symbol`` through the quality gate."""
    settings = flow_settings(as_of=as_of, data_dir=Path(data_dir) if data_dir else None)
    run_id = current_run_id()
    kline = read_file_task(path, symbol)
    moment = settings.as_of or datetime.now(UTC)
    report = gate_file_task(kline, settings.lake_dir, run_id, moment, gate_policy(settings))
    stored = store_task(settings.lake_dir, report)
    publish_gate(report, "file-import-quality", settings.lake_dir)
    out = {
        "run_id": run_id,
        "file": str(kline.path),
        "symbol": symbol,
        "timeframe": kline.timeframe,
        "time_unit": kline.time_unit,
        "rows": kline.frame.height,
        "duplicates": kline.duplicates,
        "reordered": kline.reordered,
        "written": stored.written.get("ohlcv", 0),
        "quarantined": report.quarantine.height,
        "passed": report.passed,
        "reasons": list(report.reasons),
    }
    publish_markdown(
        "file-import-summary", "\n".join(f"- **{k}**: {v}" for k, v in out.items()), "File import"
    )
    return out
