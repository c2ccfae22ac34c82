"""Ingest market data from a venue (or a kline file) into the lake, behind the quality gate.

A venue run fetches what :func:`qbtc.market.gaps.plan_ingest` found missing (back-fill,
incremental tail, gaps), funding since the last stored settlement, and ticker and option
chain snapshots at ``as_of``. Fetches run in a bounded thread pool, one request stream per
symbol. The gate judges every batch; then clean rows, quarantined rows and results are
written, idempotently: the same window ingested twice stores nothing new. Nothing is written
before every fetch has succeeded, so a venue that stays down leaves the lake untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import polars as pl

from qbtc.lake import scan_dataset
from qbtc.market.errors import UnknownSymbolError
from qbtc.market.files import KlineFile
from qbtc.market.gaps import IngestPlan, Window, plan_ingest
from qbtc.market.protocol import TESTNET_SUFFIX, Exchange
from qbtc.market.venue import SIM, source_of
from qbtc.quality import (
    DatasetBatch,
    GatePolicy,
    GateReport,
    evaluate_gate,
    funding_rules,
    ohlcv_rules,
    option_rules,
    tickers_rules,
    timeframe_step,
)
from qbtc.quality.status import store_gate
from qbtc.schemas import FUNDING_RATES, OHLCV, OPTION_QUOTES

T = TypeVar("T")


def exchange_clock(exchange: Exchange) -> datetime:
    """The venue's clock as a UTC datetime (millisecond precision)."""
    return datetime.fromtimestamp(exchange.milliseconds() / 1000, UTC)


def check_symbols(exchange: Exchange, symbols: Sequence[str]) -> None:
    """Raise :class:`UnknownSymbolError` (with close matches) for a symbol the venue lacks."""
    markets = exchange.load_markets()
    for symbol in symbols:
        if symbol not in markets:
            perps = [s for s, m in markets.items() if m.get("swap") or m.get("type") == "swap"]
            raise UnknownSymbolError(symbol, perps or list(markets), exchange.id)


def _is_testnet(source: str) -> bool:
    return source.endswith(TESTNET_SUFFIX)


def check_source(lake_dir: Path, symbols: Sequence[str], source: str) -> None:
    """Refuse to store ``source`` bars of ``symbols`` next to stored bars of the other kind.

    Rows from a testnet or demo environment (``binanceusdm-testnet``) and rows from a real
    venue never share a lake: prices differ, and nothing downstream could tell which is
    which. Raises :class:`ValueError` with what to do.
    """
    if source == SIM:
        return
    stored = (
        scan_dataset(lake_dir, OHLCV, symbols=list(symbols)).select("source").unique().collect()
    )
    for other in sorted(stored["source"].drop_nulls().to_list()):
        if other != SIM and _is_testnet(other) != _is_testnet(source):
            kind = "testnet" if _is_testnet(other) else "real-venue"
            raise ValueError(
                f"the lake already holds {kind} bars ({other}) of these symbols and this run "
                f"fetches {source}: point QBTC_DATA_DIR at another directory rather than mix them"
            )


def _pooled(
    items: Sequence[T], work: Callable[[T], pl.DataFrame], workers: int
) -> list[pl.DataFrame]:
    """``work`` over ``items`` with at most ``workers`` threads; the first error propagates."""
    if len(items) <= 1 or workers <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qbtc-fetch") as pool:
        return list(pool.map(work, items))


def _concat(frames: Sequence[pl.DataFrame], empty: pl.DataFrame) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    return pl.concat(frames) if frames else empty


def fetch_ohlcv(exchange: Exchange, plan: IngestPlan, *, max_workers: int = 4) -> pl.DataFrame:
    """Every missing bar of the plan, one request stream per symbol (bounded threads)."""
    from qbtc.market.normalize import fetch_ohlcv_frame

    by_symbol: dict[str, list[Window]] = {}
    for window in plan.windows:
        by_symbol.setdefault(window.symbol, []).append(window)

    def fetch(symbol: str) -> pl.DataFrame:
        parts = [
            fetch_ohlcv_frame(
                exchange, symbol, timeframe=plan.timeframe, since=w.start, until=w.end
            )
            for w in by_symbol[symbol]
        ]
        return _concat(parts, OHLCV.empty())

    return _concat(_pooled(sorted(by_symbol), fetch, max_workers), OHLCV.empty())


def fetch_funding(exchange: Exchange, plan: IngestPlan, *, max_workers: int = 4) -> pl.DataFrame:
    """Funding settlements since the last stored one (or the window start) up to ``as_of``."""
    from qbtc.market.normalize import fetch_funding_frame

    def fetch(symbol: str) -> pl.DataFrame:
        since = plan.funding_since[symbol]
        return fetch_funding_frame(exchange, symbol, since=since, until=plan.as_of)

    return _concat(_pooled(list(plan.symbols), fetch, max_workers), FUNDING_RATES.empty())


def fetch_tickers(exchange: Exchange, symbols: Sequence[str], *, as_of: datetime) -> pl.DataFrame:
    """One ticker snapshot per symbol, stamped ``as_of``."""
    from qbtc.market.normalize import fetch_tickers_frame

    return fetch_tickers_frame(exchange, list(symbols), now=as_of)


def fetch_option_chains(
    exchange: Exchange, underlyings: Sequence[str], *, as_of: datetime, max_workers: int = 2
) -> pl.DataFrame:
    """Option chain snapshots of ``underlyings`` (``BTC``, ``ETH``) at ``as_of``."""
    from qbtc.market.normalize import fetch_option_chain_frame

    def fetch(underlying: str) -> pl.DataFrame:
        return fetch_option_chain_frame(exchange, underlying, now=as_of)

    return _concat(_pooled(list(underlyings), fetch, max_workers), OPTION_QUOTES.empty())


def gate_batches(
    plan: IngestPlan,
    *,
    ohlcv: pl.DataFrame,
    tickers: pl.DataFrame | None = None,
    funding: pl.DataFrame | None = None,
    options: pl.DataFrame | None = None,
    underlyings: Sequence[str] = (),
    run_id: str,
    policy: GatePolicy,
) -> GateReport:
    """Judge a run's fetched batches with the quality gate (nothing written)."""
    batches = [
        DatasetBatch(
            ohlcv_rules(),
            ohlcv,
            expected=plan.symbols,
            reference=plan.reference,
            latest_stored=plan.latest_stored,
            step=plan.step,
        )
    ]
    if tickers is not None:
        batches.append(DatasetBatch(tickers_rules(), tickers, expected=plan.symbols))
    if funding is not None:
        batches.append(DatasetBatch(funding_rules(), funding))
    if options is not None:
        batches.append(DatasetBatch(option_rules(), options, expected=tuple(underlyings)))
    return evaluate_gate(batches, run_id=run_id, as_of=plan.as_of, policy=policy)


@dataclass(frozen=True)
class IngestSummary:
    """What a run did: bars asked for by kind, rows fetched, new rows stored, the verdict."""

    run_id: str
    exchange: str
    as_of: datetime
    timeframe: str
    symbols: tuple[str, ...]
    bars_requested: Mapping[str, int]
    fetched: Mapping[str, int]
    written: Mapping[str, int]
    quarantined: int
    passed: bool
    reasons: tuple[str, ...]

    def lines(self) -> list[str]:
        """A human summary, one fact per line."""
        asked = ", ".join(f"{k} {v}" for k, v in self.bars_requested.items())
        fetched = ", ".join(f"{k} {v}" for k, v in self.fetched.items())
        written = ", ".join(f"{k} {v}" for k, v in self.written.items())
        verdict = "passed" if self.passed else "FAILED: " + "; ".join(self.reasons)
        return [
            f"run {self.run_id} on {self.exchange}, as of {self.as_of.isoformat()}, "
            f"{len(self.symbols)} symbol(s), {self.timeframe} bars",
            f"bars requested: {asked}",
            f"rows fetched:   {fetched}",
            f"rows stored:    {written} (new rows only)",
            f"quarantined:    {self.quarantined}",
            f"quality gate:   {verdict}",
        ]


def summarize(
    plan: IngestPlan, report: GateReport, written: Mapping[str, int], *, exchange: str
) -> IngestSummary:
    """The :class:`IngestSummary` of a stored gate report."""
    return IngestSummary(
        run_id=report.run_id,
        exchange=exchange,
        as_of=plan.as_of,
        timeframe=plan.timeframe,
        symbols=plan.symbols,
        bars_requested=plan.window_counts(),
        fetched={d.dataset: d.rows for d in report.datasets},
        written=dict(written),
        quarantined=report.quarantine.height,
        passed=report.passed,
        reasons=report.reasons,
    )


def ingest_standalone(
    exchange: Exchange,
    lake_dir: Path,
    symbols: Sequence[str],
    *,
    run_id: str,
    policy: GatePolicy,
    timeframe: str = "1m",
    days: int = 3,
    as_of: datetime | None = None,
    underlyings: Sequence[str] = ("BTC", "ETH"),
    options_exchange: Exchange | None = None,
    max_workers: int = 4,
) -> IngestSummary:
    """One ingestion run without an orchestrator (the flow runs the same steps as tasks).

    ``as_of`` defaults to the venue clock. Raises :class:`UnknownSymbolError` before any
    fetch, and lets venue errors propagate before anything is written.
    """
    check_symbols(exchange, symbols)
    check_source(lake_dir, symbols, source_of(exchange))
    moment = as_of or exchange_clock(exchange)
    plan = plan_ingest(lake_dir, symbols, timeframe=timeframe, days=days, as_of=moment)
    ohlcv = fetch_ohlcv(exchange, plan, max_workers=max_workers)
    tickers = fetch_tickers(exchange, plan.symbols, as_of=moment)
    funding = fetch_funding(exchange, plan, max_workers=max_workers)
    chains = options_exchange or exchange
    options = fetch_option_chains(chains, underlyings, as_of=moment) if underlyings else None
    report = gate_batches(
        plan,
        ohlcv=ohlcv,
        tickers=tickers,
        funding=funding,
        options=options,
        underlyings=underlyings,
        run_id=run_id,
        policy=policy,
    )
    stored = store_gate(lake_dir, report)
    return summarize(plan, report, stored.written, exchange=source_of(exchange))


def gate_kline_file(
    kline: KlineFile, lake_dir: Path, *, run_id: str, as_of: datetime, policy: GatePolicy
) -> GateReport:
    """Judge an imported kline file like venue bars (summary row ``file_import``).

    History is not expected to be fresh, so freshness is off; stored bars of the symbol
    around the file's range give the jump check its scale.
    """
    frame = kline.frame
    times = frame["timestamp"].drop_nulls()
    step = timeframe_step(kline.timeframe)
    reference = OHLCV.empty()
    if times.len():
        low, high = times.min(), times.max()
        assert isinstance(low, datetime)
        assert isinstance(high, datetime)
        reference = (
            scan_dataset(lake_dir, OHLCV, symbols=[kline.symbol], start=low - 1440 * step, end=high)
            .filter(pl.col("timeframe") == kline.timeframe)
            .collect()
        )
    batch = DatasetBatch(
        ohlcv_rules(), frame, expected=(kline.symbol,), reference=reference, step=step
    )
    file_policy = GatePolicy(policy.max_bad_fraction, None, policy.jump_sigma)
    return evaluate_gate(
        [batch], run_id=run_id, as_of=as_of, policy=file_policy, summary_check="file_import"
    )
