"""What a decision at time ``t`` may see: the same reads as the live cycle, cut at ``t``.

The live cycle reads the lake at ``as_of``: features of the last bar closed by then
(:func:`qbtc.features.latest_snapshot`), the latest ticker per perp
(:func:`qbtc.risk.inputs.load_marks`), the last 1,440 aligned closes
(:func:`qbtc.risk.inputs.load_closes`). Here the same cuts are taken from a
:class:`~qbtc.backtest.window.MarketWindow` held in memory, for every decision time at once
where that is possible. Nothing stamped after ``t`` is ever returned: bars count once
closed (open time + 1 minute <= t), tickers, funding and chains at their timestamp <= t.

A perp's mark is its newest ticker snapshot at or before ``t`` when the lake has one at
least as fresh as the last closed bar (the simulated venue's back-fill snaps one at every
decision time, as each live cycle does); otherwise the close of the last closed bar
(imported Binance files have bars only), stamped at that bar's close.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from qbtc.backtest.window import MarketWindow
from qbtc.features.bars import BAR
from qbtc.features.snapshot import DEFAULT_LOOKBACK, FeatureSnapshot, canonical_lines, content_id
from qbtc.risk.inputs import MARK_LOOKBACK, Marks, PriceHistory
from qbtc.schemas import FEATURES, OPTION_FEATURES, OPTION_QUOTES, TICKERS
from qbtc.symbols import base_currency

_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_BAR_US = BAR // _ONE_US


def _us(moment: datetime) -> int:
    """Epoch microseconds of an aware datetime (integer arithmetic: exact)."""
    return (moment - _EPOCH) // _ONE_US


class PointInTime:
    """Per-decision views of a market window (see the module docstring).

    ``price_bars`` is the risk stage's price history length (``RiskConfig.price_bars``).
    The feature rows and marks of every time of ``times`` are cut in one vectorised pass
    when built (a year of hourly decisions is 8,760 times); another time is cut when asked.
    """

    def __init__(
        self,
        window: MarketWindow,
        times: Sequence[datetime],
        *,
        price_bars: int = 1440,
        option_marks: bool = False,
    ) -> None:
        self.window = window
        self.price_bars = price_bars
        self._quotes = window.option_quotes.sort("timestamp") if option_marks else None
        self._no_quotes = OPTION_QUOTES.empty()  # one shared empty frame (frames are immutable)
        moments = np.array([_us(t) for t in times], dtype=np.int64)
        self._perps = _ByTime(times, *_perp_rows(window.features, moments))
        self._lines = canonical_lines(self._perps.frame)
        self._perp_symbols: list[str] = self._perps.frame["symbol"].to_list()
        self._chains = _group(window.option_features, "underlying")
        self._no_chains = OPTION_FEATURES.empty()
        missing = np.isnan(window.closes)
        self._complete_rows = np.flatnonzero(~missing.any(axis=1))
        # the gaps (us) between complete rows, and each column's rows with a close
        self._gaps = np.diff(window.times[self._complete_rows])
        self._valid = [np.flatnonzero(~missing[:, j]) for j in range(missing.shape[1])]
        self._columns = np.arange(len(window.symbols))
        self._index = {t: k for k, t in enumerate(times)}
        bar_rows = self._last_bar_rows(moments)
        self._last_closes = self._closes_of(bar_rows)
        tickers = window.tickers.select(list(TICKERS.columns)).cast(TICKERS.schema)
        self._tickers = tickers.sort("symbol", "timestamp", maintain_order=True)
        self._ticker_us = self._tickers["timestamp"].dt.epoch("us").to_numpy()
        self._ticker_blocks = _blocks(self._tickers["symbol"]) or {}
        self._marks = _ByTime(times, *self._mark_rows(moments, bar_rows))
        funding = window.funding.select(
            "timestamp",
            "symbol",
            "funding_rate",
            pl.coalesce("mark_price", "index_price").alias("mark"),
        ).sort("timestamp", "symbol")
        self._funding_us = funding["timestamp"].dt.epoch("us").to_numpy()
        self._funding = funding.rows()

    # -- features ---------------------------------------------------------------------------

    def snapshot(self, t: datetime, symbols: Sequence[str]) -> FeatureSnapshot | None:
        """The feature snapshot of a decision at ``t`` (None when no symbol has features)."""
        span = self._perps.span(t)
        if span is None:
            return None
        lo, hi = span
        perps, lines = self._perps.frame.slice(lo, hi - lo), self._lines[lo:hi]
        names = self._perp_symbols[lo:hi]
        wanted = set(symbols)
        if not wanted.issuperset(names):
            keep = [i for i, name in enumerate(names) if name in wanted]
            perps, lines = perps[keep], [lines[i] for i in keep]
        if perps.is_empty():
            return None
        if self._chains:
            options = self._options(t, sorted({base_currency(s) for s in symbols}))
        else:
            options = self._no_chains
        return FeatureSnapshot(
            # snapshot_id's hash, of the rows' canonical lines built for every time at once
            snapshot_id=content_id(
                (perps.columns, lines), (options.columns, canonical_lines(options))
            ),
            timestamp=perps.get_column("timestamp").max(),  # type: ignore[arg-type]
            perps=perps,
            options=options,
        )

    def _options(self, t: datetime, underlyings: Sequence[str]) -> pl.DataFrame:
        parts = []
        for underlying in underlyings:
            chain = self._chains.get(underlying)
            if chain is None:
                continue
            known = chain.filter(
                (pl.col("timestamp") <= t) & (pl.col("timestamp") >= t - DEFAULT_LOOKBACK)
            )
            if known.height:
                parts.append(known.filter(pl.col("timestamp") == known["timestamp"].max()))
        if not parts:
            return OPTION_FEATURES.empty()
        return pl.concat(parts).sort(*OPTION_FEATURES.primary_key)

    # -- marks and prices -------------------------------------------------------------------

    def last_closed_row(self, t: datetime) -> int:
        """Row of ``window.times`` of the last bar closed at ``t`` (-1 when none)."""
        return int(np.searchsorted(self.window.times, _us(t) - _BAR_US, side="right")) - 1

    def last_closes(self, t: datetime) -> np.ndarray:
        """Close of each symbol's last bar closed at ``t`` (NaN before its first bar)."""
        k = self._index.get(t)
        if k is not None:
            return self._last_closes[k].copy()
        return self._closes_of(self._last_bar_rows(np.array([_us(t)])))[0]

    def _last_bar_rows(self, moments: np.ndarray) -> np.ndarray:
        """Per moment (epoch us) and symbol, the window row of the symbol's last bar closed
        by then (-1 when none)."""
        last = np.searchsorted(self.window.times, moments - _BAR_US, side="right") - 1
        rows = np.full((len(moments), len(self._valid)), -1, dtype=np.int64)
        for j, valid in enumerate(self._valid):
            if valid.size:
                k = np.searchsorted(valid, last, side="right") - 1
                rows[:, j] = np.where(k >= 0, valid[np.maximum(k, 0)], -1)
        return rows

    def _closes_of(self, bar_rows: np.ndarray) -> np.ndarray:
        closes = self.window.closes[np.maximum(bar_rows, 0), self._columns]
        return np.where(bar_rows >= 0, closes, np.nan)

    def marks(self, t: datetime) -> Marks:
        """Each perp's mark at ``t``: the fresher of its latest ticker and its last close."""
        span = self._marks.span(t)
        if span is None:
            moments = np.array([_us(t)])
            perps = self._mark_rows(moments, self._last_bar_rows(moments))[0]
        else:
            perps = self._marks.frame.slice(span[0], span[1] - span[0])
        return Marks(t, perps, self._option_marks(t))

    def _mark_rows(
        self, moments: np.ndarray, bar_rows: np.ndarray
    ) -> tuple[pl.DataFrame, np.ndarray]:
        """The marks at every moment (epoch us; rows by symbol, one moment after another)
        and the number of rows of each moment, given :meth:`_last_bar_rows` of them."""
        symbols = self.window.symbols
        parts, keys = [TICKERS.empty()], [np.zeros(0, dtype=np.int64)]
        for position, j in enumerate(sorted(range(len(symbols)), key=symbols.__getitem__)):
            bar_row = bar_rows[:, j]
            has_bar = bar_row >= 0
            bar_close = self.window.times[np.maximum(bar_row, 0)] + _BAR_US
            lo, hi = self._ticker_blocks.get(symbols[j], (0, 0))
            stamps = self._ticker_us[lo:hi]
            i = np.searchsorted(stamps, moments, side="right") - 1
            stamp = stamps[np.maximum(i, 0)] if hi > lo else moments
            fresh = (i >= 0) & (stamp >= moments - MARK_LOOKBACK // _ONE_US)
            ticker = fresh & (~has_bar | (stamp >= bar_close))
            at = np.flatnonzero(ticker)
            parts.append(self._tickers[lo + i[at]])
            keys.append(at * len(symbols) + position)
            at = np.flatnonzero(~ticker & has_bar)
            parts.append(_bar_marks(symbols[j], bar_close[at], self.window.closes[bar_row[at], j]))
            keys.append(at * len(symbols) + position)
        key = np.concatenate(keys)
        frame = pl.concat(parts)[np.argsort(key, kind="stable")]
        return frame, np.bincount(key // max(len(symbols), 1), minlength=len(moments))

    def _option_marks(self, t: datetime) -> pl.DataFrame:
        """The latest quote of every option at ``t`` (as :func:`load_marks` reads them); empty
        unless the options leg is on (perps never need them)."""
        if self._quotes is None or self._quotes.is_empty():
            return self._no_quotes
        stamps = self._quotes["timestamp"]
        lo = int(stamps.search_sorted(t - MARK_LOOKBACK, side="left"))
        hi = int(stamps.search_sorted(t, side="right"))
        known = self._quotes.slice(lo, hi - lo)
        return known.group_by("symbol", maintain_order=True).last().sort("symbol")

    def prices(self, t: datetime) -> PriceHistory:
        """The last ``price_bars`` aligned closes at ``t`` (as :func:`load_closes` reads them,
        read-only)."""
        row = self.last_closed_row(t)
        end = int(np.searchsorted(self._complete_rows, row, side="right"))
        first = max(0, end - self.price_bars)
        rows = self._complete_rows[first:end]
        if rows.size < 3:
            raise ValueError(
                f"not enough 1m price history to estimate risk at {t.isoformat()}: the window "
                "needs at least three bars of every symbol before its start"
            )
        gaps = self._gaps[first : end - 1]
        if gaps[0] == gaps.min() == gaps.max():  # evenly spaced: the median is that gap
            seconds = float(gaps[0] / _US)
        else:
            seconds = float(np.median(gaps / _US))
        if rows[-1] - rows[0] == rows.size - 1:  # no gap: a view, not a copy
            closes = self.window.closes[rows[0] : rows[-1] + 1]
        else:
            closes = self.window.closes[rows]
        closes.flags.writeable = False
        return PriceHistory(self.window.symbols, closes, 365.0 * 86_400.0 / seconds)

    def funding_between(
        self, after: datetime | None, until: datetime
    ) -> list[tuple[datetime, str, float, float | None]]:
        """Funding settlements stamped in ``(after, until]`` in time order."""
        lo = 0 if after is None else int(np.searchsorted(self._funding_us, _us(after), "right"))
        hi = int(np.searchsorted(self._funding_us, _us(until), "right"))
        return [(t, s, float(r), m) for t, s, r, m in self._funding[lo:hi]]


class _ByTime:
    """Rows of many times in one frame, each time's rows after the previous time's: the rows
    of a time are a slice of it (no frame built per decision)."""

    def __init__(self, times: Sequence[datetime], frame: pl.DataFrame, counts: np.ndarray):
        ends = np.cumsum(counts).tolist()
        self.frame = frame
        self._spans = {
            t: (end - n, end) for t, n, end in zip(times, counts.tolist(), ends, strict=True)
        }

    def span(self, t: datetime) -> tuple[int, int] | None:
        """First and past-last row of ``t`` (None when it has no rows or is not one of them)."""
        span = self._spans.get(t)
        return span if span is not None and span[1] > span[0] else None


def _perp_rows(features: pl.DataFrame, moments: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """Per moment (epoch us, in order), each symbol's features row at its last bar closed by
    then and at most :data:`DEFAULT_LOOKBACK` old, by symbol; and the number of rows of each
    moment."""
    columns = list(FEATURES.columns)
    if features.is_empty() or not moments.size:
        return features.select(columns).clear(), np.zeros(moments.size, dtype=np.int64)
    stamps = features["timestamp"].cast(pl.Datetime("us")).to_physical().to_numpy()
    last_bars = moments - _BAR_US
    oldest = (DEFAULT_LOOKBACK - BAR) // _ONE_US
    rows_of = _symbol_rows(features["symbol"], stamps)
    names = sorted(rows_of)
    picked = np.full((moments.size, len(names)), -1, dtype=np.int64)
    for j, name in enumerate(names):
        rows = rows_of[name]
        own = stamps[rows]
        i = np.maximum(np.searchsorted(own, last_bars, side="right") - 1, 0)
        found = (own[i] <= last_bars) & (last_bars - own[i] <= oldest)
        at = i + rows.start if isinstance(rows, slice) else rows[i]
        picked[:, j] = np.where(found, at, -1)
    flat = picked.ravel()
    which = np.repeat(np.arange(moments.size), len(names))[flat >= 0]
    frame = features.select(pl.col(columns).gather(flat[flat >= 0]))
    closed = frame["close"].is_not_null().to_numpy()
    if not closed.all():
        frame, which = frame.filter(pl.Series(closed)), which[closed]
    return frame, np.bincount(which, minlength=moments.size)


def _symbol_rows(symbols: pl.Series, stamps: np.ndarray) -> dict[str, slice | np.ndarray]:
    """Each symbol's rows, in time order: a slice when they are already one block so."""
    blocks = _blocks(symbols)
    if blocks is None:
        groups = symbols.to_frame("symbol").with_row_index().group_by("symbol").agg("index")
        rows: dict[str, slice | np.ndarray] = {
            name: np.asarray(index, dtype=np.int64) for name, index in groups.iter_rows()
        }
    else:
        rows = {name: slice(lo, hi) for name, (lo, hi) in blocks.items()}
    for name, own in rows.items():
        times = stamps[own]
        if (times[1:] < times[:-1]).any():
            numbers = np.arange(own.start, own.stop) if isinstance(own, slice) else own
            rows[name] = numbers[np.argsort(times, kind="stable")]
    return rows


def _blocks(symbols: pl.Series) -> dict[str, tuple[int, int]] | None:
    """First and past-last row of each symbol when each one's rows are contiguous (None
    otherwise)."""
    runs = symbols.rle().struct.unnest()
    if runs["value"].n_unique() != runs.height:
        return None
    lengths = runs["len"].to_list()
    ends = np.cumsum(lengths).tolist()
    return {
        str(name): (end - n, end)
        for name, n, end in zip(runs["value"].to_list(), lengths, ends, strict=True)
    }


def _group(frame: pl.DataFrame, key: str) -> dict[str, pl.DataFrame]:
    if frame.is_empty():
        return {}
    return {str(k[0]): f for k, f in frame.partition_by(key, as_dict=True).items()}


def _bar_marks(symbol: str, closed_us: np.ndarray, prices: np.ndarray) -> pl.DataFrame:
    """Marks of ``symbol`` from the closes of its last bars, stamped at each bar's close."""
    n = len(prices)
    frame = pl.DataFrame(
        {
            "symbol": pl.repeat(symbol, n, eager=True),
            "timestamp": pl.Series(closed_us, dtype=pl.Int64).cast(pl.Datetime("us")),
            **dict.fromkeys(("bid", "ask", "last", "mark", "index"), prices),
            "volume_24h": np.zeros(n),
            "quote_volume_24h": pl.repeat(None, n, dtype=pl.Float64, eager=True),
            "open_interest": pl.repeat(None, n, dtype=pl.Float64, eager=True),
            "source": pl.repeat("bars", n, eager=True),
        }
    )
    return frame.with_columns(pl.col("timestamp").dt.replace_time_zone("UTC")).cast(TICKERS.schema)
