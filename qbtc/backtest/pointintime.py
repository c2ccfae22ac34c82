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
from datetime import UTC, datetime

import numpy as np
import polars as pl

from qbtc.backtest.window import MarketWindow
from qbtc.features.bars import BAR
from qbtc.features.snapshot import DEFAULT_LOOKBACK, FeatureSnapshot, snapshot_id
from qbtc.risk.inputs import MARK_LOOKBACK, Marks, PriceHistory
from qbtc.schemas import FEATURES, OPTION_FEATURES, OPTION_QUOTES, TICKERS
from qbtc.symbols import base_currency

_US = 1_000_000


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * _US)


def _at(us: int) -> datetime:
    return datetime.fromtimestamp(us / _US, tz=UTC)


class PointInTime:
    """Per-decision views of a market window (see the module docstring).

    ``price_bars`` is the risk stage's price history length (``RiskConfig.price_bars``).
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
        self._snapshots = self._perp_rows(window.features, times)
        self._chains = _group(window.option_features, "underlying")
        closes = window.closes
        complete = ~np.isnan(closes).any(axis=1)
        self._complete_rows = np.flatnonzero(complete)
        self._columns = np.arange(len(window.symbols))
        self._last_row = _last_valid_rows(closes)
        self._tickers = {
            s: _Stamped(frame.sort("timestamp"))
            for s, frame in _group(window.tickers, "symbol").items()
        }
        funding = window.funding.select(
            "timestamp",
            "symbol",
            "funding_rate",
            pl.coalesce("mark_price", "index_price").alias("mark"),
        ).sort("timestamp", "symbol")
        self._funding_us = funding["timestamp"].dt.epoch("us").to_numpy()
        self._funding = funding.rows()

    # -- features ---------------------------------------------------------------------------

    @staticmethod
    def _perp_rows(
        features: pl.DataFrame, times: Sequence[datetime]
    ) -> dict[datetime, pl.DataFrame]:
        """Per decision time, each symbol's features row at its last bar closed by then."""
        if features.is_empty() or not times:
            return {}
        keys = pl.DataFrame(
            {"decision": list(times)}, schema={"decision": FEATURES.schema["timestamp"]}
        )
        symbols = features.select("symbol").unique()
        wanted = (
            keys.join(symbols, how="cross")
            .with_columns((pl.col("decision") - BAR).alias("timestamp"))
            .sort("timestamp")
        )
        rows = (
            wanted.join_asof(
                features.sort("timestamp").rename({"timestamp": "bar"}),
                left_on="timestamp",
                right_on="bar",
                by="symbol",
                strategy="backward",
                tolerance=DEFAULT_LOOKBACK - BAR,
                check_sortedness=False,
            )
            .filter(pl.col("close").is_not_null())
            .drop("timestamp")
            .rename({"bar": "timestamp"})
        )
        columns = list(FEATURES.columns)
        return {
            key[0]: frame.select(columns).sort("symbol")
            for key, frame in rows.partition_by("decision", as_dict=True).items()
        }

    def snapshot(self, t: datetime, symbols: Sequence[str]) -> FeatureSnapshot | None:
        """The feature snapshot of a decision at ``t`` (None when no symbol has features)."""
        perps = self._snapshots.get(t)
        if perps is None:
            return None
        perps = perps.filter(pl.col("symbol").is_in(list(symbols)))
        if perps.is_empty():
            return None
        options = self._options(t, sorted({base_currency(s) for s in symbols}))
        return FeatureSnapshot(
            snapshot_id=snapshot_id(perps, options),
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
        return int(np.searchsorted(self.window.times, _us(t - BAR), side="right")) - 1

    def last_closes(self, t: datetime) -> np.ndarray:
        """Close of each symbol's last bar closed at ``t`` (NaN before its first bar)."""
        row = self.last_closed_row(t)
        if row < 0:
            return np.full(len(self.window.symbols), np.nan)
        rows = self._last_row[row]
        return np.where(rows >= 0, self.window.closes[np.maximum(rows, 0), self._columns], np.nan)

    def marks(self, t: datetime) -> Marks:
        """Each perp's mark at ``t``: the fresher of its latest ticker and its last close."""
        row = self.last_closed_row(t)
        rows = []
        for j, symbol in enumerate(self.window.symbols):
            ticker = self._ticker(symbol, t)
            bar_row = int(self._last_row[row, j]) if row >= 0 else -1
            bar_close = _at(int(self.window.times[bar_row])) + BAR if bar_row >= 0 else None
            stamp: datetime | None = ticker["timestamp"] if ticker else None  # type: ignore[assignment]
            if stamp is not None and (bar_close is None or stamp >= bar_close):
                rows.append(ticker)
            elif bar_close is not None:
                price = float(self.window.closes[bar_row, j])
                rows.append(_bar_mark(symbol, bar_close, price))
        perps = pl.DataFrame(rows, schema=TICKERS.schema) if rows else TICKERS.empty()
        return Marks(t, perps.sort("symbol"), self._option_marks(t))

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

    def _ticker(self, symbol: str, t: datetime) -> dict[str, object] | None:
        stamped = self._tickers.get(symbol)
        if stamped is None:
            return None
        i = int(np.searchsorted(stamped.stamps, _us(t), side="right")) - 1
        if i < 0 or stamped.stamps[i] < _us(t - MARK_LOOKBACK):
            return None
        return stamped.rows[i]

    def prices(self, t: datetime) -> PriceHistory:
        """The last ``price_bars`` aligned closes at ``t`` (as :func:`load_closes` reads them)."""
        row = self.last_closed_row(t)
        end = int(np.searchsorted(self._complete_rows, row, side="right"))
        rows = self._complete_rows[max(0, end - self.price_bars) : end]
        if rows.size < 3:
            raise ValueError(
                f"not enough 1m price history to estimate risk at {t.isoformat()}: the window "
                "needs at least three bars of every symbol before its start"
            )
        seconds = np.diff(self.window.times[rows]) / _US
        per_year = 365.0 * 86_400.0 / float(np.median(seconds))
        return PriceHistory(self.window.symbols, self.window.closes[rows], per_year)

    def funding_between(
        self, after: datetime | None, until: datetime
    ) -> list[tuple[datetime, str, float, float | None]]:
        """Funding settlements stamped in ``(after, until]`` in time order."""
        lo = 0 if after is None else int(np.searchsorted(self._funding_us, _us(after), "right"))
        hi = int(np.searchsorted(self._funding_us, _us(until), "right"))
        return [(t, s, float(r), m) for t, s, r, m in self._funding[lo:hi]]


class _Stamped:
    """A frame's rows (as dicts) and their timestamps (epoch microseconds), for look-ups by
    time without a polars call per decision."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.stamps = frame["timestamp"].dt.epoch("us").to_numpy()
        self.rows = frame.rows(named=True)


def _group(frame: pl.DataFrame, key: str) -> dict[str, pl.DataFrame]:
    if frame.is_empty():
        return {}
    return {str(k[0]): f for k, f in frame.partition_by(key, as_dict=True).items()}


def _last_valid_rows(closes: np.ndarray) -> np.ndarray:
    """Per row and column, the row of the column's last non-NaN close so far (-1 before any)."""
    rows = np.arange(closes.shape[0])[:, None]
    index = np.where(~np.isnan(closes), rows, -1)
    return np.maximum.accumulate(index, axis=0)


def _bar_mark(symbol: str, closed_at: datetime, price: float) -> dict[str, object]:
    return {
        "symbol": symbol,
        "timestamp": closed_at,
        "bid": price,
        "ask": price,
        "last": price,
        "mark": price,
        "index": price,
        "volume_24h": 0.0,
        "quote_volume_24h": None,
        "open_interest": None,
        "source": "bars",
    }
