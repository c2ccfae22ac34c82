"""The ledger of one cycle's stage, read from its checkpoint plus what was added since.

:class:`CheckpointedLedger` answers what a cycle asks (orders still open, the state of the
cycle's intents, the book, the equity adjustments, the traded symbols, whether a client order
id is known) from a :class:`~qbtc.execution.book_checkpoint.BookCheckpoint` and the rows
written after it, so its cost does not grow with the ledger's history. A client order id the
checkpoint saw as finished is read from the whole ledger (a re-run of an old decision: rare).
Whatever it cannot answer exactly from the checkpoint it answers as :class:`Ledger` does,
from the whole ledger.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from qbtc.execution.book_checkpoint import (
    BookCheckpoint,
    checkpoint_path,
    load_checkpoint,
    micros,
    save_checkpoint,
)
from qbtc.execution.ledger import (
    BALANCE_ID,
    BLOCKED,
    Fill,
    Ledger,
    OrderEvent,
    OrderState,
    Settlement,
    derive_states,
    events_frame,
    fills_frame,
    settlements_frame,
    signed_usd_size,
)
from qbtc.execution.pnl import (
    PositionPnl,
    fold_trades,
    funding_events,
    position_pnl,
    trade_rows,
)
from qbtc.idindex import IdIndex
from qbtc.lake.increments import FileSet, read_increment
from qbtc.schemas import FILLS, FUNDING_RATES, ORDER_EVENTS, SETTLEMENTS, Dataset

_TRADE_SCHEMA = pl.Schema(
    [
        ("timestamp", pl.Datetime("us", "UTC")),
        ("symbol", pl.String()),
        ("side", pl.String()),
        ("quantity", pl.Float64()),
        ("price", pl.Float64()),
        ("fee", pl.Float64()),
        ("rate", pl.Float64()),
        ("key", pl.String()),
    ]
)
_REPAIR = "reconcile:"
#: How far behind a cycle's clock its checkpoint is folded (late data lands after it).
FOLD_LAG = timedelta(minutes=15)
_FOLLOWED: dict[str, Dataset] = {
    "fills": FILLS,
    "order_events": ORDER_EVENTS,
    "settlements": SETTLEMENTS,
    "funding_rates": FUNDING_RATES,
}


def _terminal(events: pl.DataFrame) -> set[str]:
    """Client order ids with a terminal event (filled, cancelled, or rejected by the venue)."""
    done = events.filter(
        pl.col("event").is_in(["filled", "cancelled"])
        | (
            (pl.col("event") == "rejected")
            & ~pl.col("reason").fill_null("").str.starts_with(BLOCKED)
        )
    )
    return set(done["client_order_id"].to_list())


def _bookkeeping(client_order_id: str) -> bool:
    """Reconciliation's own ids (equity adjustments, position repairs): never orders."""
    return client_order_id == BALANCE_ID or client_order_id.startswith(_REPAIR)


def _is_bookkeeping(column: pl.Expr) -> pl.Expr:
    return (column == BALANCE_ID) | column.str.starts_with(_REPAIR)


class CheckpointedLedger(Ledger):
    """A cached :class:`Ledger` for one stage of one cycle, read through its checkpoint in
    ``checkpoint_dir`` (``<state_dir>/ledger``)."""

    def __init__(self, lake_dir: Path, portfolio_id: str, checkpoint_dir: Path) -> None:
        super().__init__(lake_dir, portfolio_id, cached=True)
        self.checkpoint_dir = checkpoint_dir
        # One index per portfolio: it covers exactly what that portfolio's checkpoint saw.
        self.ids = IdIndex(checkpoint_dir / f"ids-{portfolio_id}")
        self._base: BookCheckpoint | None = None
        self._files: dict[str, FileSet] = {}
        self._new_events = ORDER_EVENTS.empty()
        self._new_fills = FILLS.empty()
        self._trades = _TRADE_SCHEMA.to_frame()
        self._funding = FUNDING_RATES.empty()
        self._recorded = False
        self._exact = True  # False when a recorded trade sorts before the checkpoint
        self._until: datetime | None = None

    # -- loading --------------------------------------------------------------------------

    def _state(self) -> BookCheckpoint:
        if self._base is None:
            path = checkpoint_path(self.checkpoint_dir, self.portfolio_id)
            stored = load_checkpoint(
                path,
                self.portfolio_id,
                trade_schema=_TRADE_SCHEMA,
                funding_schema=FUNDING_RATES.schema,
            )
            if stored is not None and stored.symbols and not self.ids.exists():
                stored = None  # the id index is gone: rebuild both
            if stored is not None:
                self.ids.add(stored.recent_ids, durable=False)
            if stored is None or not self._advance(stored):
                self._advance(BookCheckpoint(self.portfolio_id))
        assert self._base is not None
        return self._base

    def _advance(self, base: BookCheckpoint) -> bool:
        """Read what was stored after ``base``; False when ``base`` is stale."""
        rows: dict[str, pl.DataFrame] = {}
        files: dict[str, FileSet] = {}
        for name, dataset in _FOLLOWED.items():
            increment = read_increment(self.lake_dir, dataset, base.files.get(name))
            if increment.rows is None:
                return False
            rows[name] = increment.rows.select(list(dataset.columns))
            files[name] = increment.now
        fills = rows["fills"].filter(pl.col("portfolio_id") == self.portfolio_id)
        settlements = rows["settlements"].filter(pl.col("portfolio_id") == self.portfolio_id)
        trades = trade_rows(fills, settlements)
        funding = rows["funding_rates"]  # a symbol the book never held pays none of it
        if base.position is not None and self._before(base, trades, funding):
            return False
        self._base, self._files = base, files
        self._new_events = rows["order_events"]
        self._new_fills = fills
        self._trades = pl.concat([_or_empty(base.pending_trades, _TRADE_SCHEMA), trades]).sort(
            "timestamp", "key"
        )
        self._funding = pl.concat(
            [_or_empty(base.pending_funding, FUNDING_RATES.schema), funding]
        ).sort("timestamp", "symbol")
        return True

    @staticmethod
    def _before(base: BookCheckpoint, trades: pl.DataFrame, funding: pl.DataFrame) -> bool:
        """True when a new trade or funding payment sorts at or before ``base.position``."""
        assert base.position is not None
        at_us, key = base.position
        stamps = pl.col("timestamp").cast(pl.Int64)
        early = trades.filter((stamps < at_us) | ((stamps == at_us) & (pl.col("key") <= key)))
        late_funding = funding.filter((stamps <= at_us) & pl.col("symbol").is_in(list(base.books)))
        return early.height > 0 or late_funding.height > 0

    # -- recording ------------------------------------------------------------------------

    def record(self, events: Sequence[OrderEvent], fills: Sequence[Fill] = ()) -> None:
        base = self._state()  # before writing: the rows below are added, not read back
        super().record(events, fills)
        self._recorded = True
        if events:
            self._new_events = _merged_rows(self._new_events, events_frame(events), "event_id")
        if fills:
            mine = fills_frame(fills).filter(pl.col("portfolio_id") == self.portfolio_id)
            self._new_fills = _merged_rows(self._new_fills, mine, "fill_id")
            self._add_trades(base, trade_rows(mine))

    def record_settlements(self, settlements: Sequence[Settlement]) -> None:
        base = self._state()
        known = set(self.settlements()["settlement_id"].to_list())
        new = [s for s in settlements if s.settlement_id not in known]
        super().record_settlements(new)
        if new:
            self._recorded = True
            frame = settlements_frame(new).filter(pl.col("portfolio_id") == self.portfolio_id)
            self._add_trades(base, trade_rows(FILLS.empty(), frame))

    def _add_trades(self, base: BookCheckpoint, trades: pl.DataFrame) -> None:
        known = set(self._trades["key"].to_list())
        trades = trades.filter(~pl.col("key").is_in(list(known)))
        if base.position is not None and self._before(base, trades, FUNDING_RATES.empty()):
            self._exact = False
        self._trades = pl.concat([self._trades, trades]).sort("timestamp", "key")

    # -- what a cycle asks ----------------------------------------------------------------

    def positions(self, *, until: datetime | None = None) -> dict[str, PositionPnl]:
        base = self._state()
        self._until = until
        if not self._exact:
            return super().positions(until=until)
        books = copy.deepcopy(base.books)
        trades, funding = self._due(until)
        fold_trades(books, trades, funding_events(funding))
        return {s: position_pnl(s, b, None) for s, b in books.items()}

    def _due(self, until: datetime | None) -> tuple[pl.DataFrame, pl.DataFrame]:
        if until is None:
            return self._trades, self._funding
        return (
            self._trades.filter(pl.col("timestamp") <= until),
            self._funding.filter(pl.col("timestamp") <= until),
        )

    def usd_size(self, symbol: str) -> float:
        base = self._state()
        mine = self._trades.filter(pl.col("symbol") == symbol)
        added = float(mine.select(signed_usd_size()).item()) if mine.height else 0.0
        return base.usd_size.get(symbol, 0.0) + added

    def balance_adjustments(self) -> tuple[float, int]:
        base = self._state()
        mine = self._new_events.filter(pl.col("client_order_id") == BALANCE_ID)
        total, count = base.balance
        return total + float(mine["quantity"].sum() if mine.height else 0.0), count + mine.height

    def traded_symbols(self) -> set[str]:
        base = self._state()
        return base.symbols | {s for s in self._new_events["symbol"].unique().to_list() if "/" in s}

    def has_order(self, client_order_id: str) -> bool:
        self._state()
        if client_order_id in self.ids:
            return True
        return client_order_id in set(self._new_events["client_order_id"].to_list())

    def open_order_states(self) -> dict[str, OrderState]:
        events = self._candidates()
        live = events.filter(~pl.col("client_order_id").is_in(list(_terminal(events))))
        cids = [c for c in live["client_order_id"].unique().to_list() if not _bookkeeping(c)]
        return self.order_states(cids)

    def order_states(self, client_order_ids: Iterable[str] | None = None) -> dict[str, OrderState]:
        if client_order_ids is None:
            return super().order_states()
        wanted = list(client_order_ids)
        base = self._state()
        still_open = set(base.open_events["client_order_id"].to_list())
        earlier = [c for c in wanted if c not in still_open and c in self.ids]
        states = Ledger(self.lake_dir, self.portfolio_id).order_states(earlier) if earlier else {}
        rest = [c for c in wanted if c not in set(earlier)]
        events = self._candidates().filter(pl.col("client_order_id").is_in(rest))
        fills = pl.concat([base.open_fills, self._new_fills]).filter(
            pl.col("client_order_id").is_in(rest)
        )
        return states | derive_states(events, fills.unique("fill_id", keep="last"))

    def _candidates(self) -> pl.DataFrame:
        base = self._state()
        both = pl.concat([base.open_events, self._new_events])
        return both.unique("event_id", keep="last", maintain_order=True)

    # -- saving ---------------------------------------------------------------------------

    def save_checkpoint(self) -> None:
        """Store the ledger as of ``FOLD_LAG`` before the last :meth:`positions` (its
        ``until``), when this instance recorded nothing itself (rows it wrote are in files it
        has not listed). Items of the last ``FOLD_LAG`` stay pending, folded again each cycle:
        a funding rate stored minutes after its time then still sorts after the checkpoint."""
        if self._base is None or self._recorded or not self._exact:
            return
        base = self._base
        trades, funding = self._due(None if self._until is None else self._until - FOLD_LAG)
        books = copy.deepcopy(base.books)
        fold_trades(books, trades, funding_events(funding))
        usd = dict(base.usd_size)
        for symbol, size in trades.group_by("symbol").agg(signed_usd_size()).iter_rows():
            usd[symbol] = usd.get(symbol, 0.0) + float(size)
        events = self._candidates()
        done = _terminal(events)
        keep = events.filter(
            ~pl.col("client_order_id").is_in(list(done))
            & ~_is_bookkeeping(pl.col("client_order_id"))
        )
        open_ids = keep["client_order_id"].unique().to_list()
        fills = pl.concat([base.open_fills, self._new_fills]).unique("fill_id", keep="last")
        adjustments = self.balance_adjustments()
        new_ids = self._new_events["client_order_id"].unique().to_list()
        self.ids.add(new_ids, durable=False)
        stored = BookCheckpoint(
            portfolio_id=self.portfolio_id,
            files=self._files,
            position=_last_position(trades, funding) or base.position,
            books=books,
            usd_size=usd,
            open_events=keep,
            open_fills=fills.filter(pl.col("client_order_id").is_in(open_ids)),
            pending_trades=self._trades.join(trades, on="key", how="anti"),
            pending_funding=self._funding.join(funding, on=["symbol", "timestamp"], how="anti"),
            balance=adjustments,
            symbols=self.traded_symbols(),
            recent_ids=new_ids,
        )
        save_checkpoint(checkpoint_path(self.checkpoint_dir, self.portfolio_id), stored)


def _last_position(trades: pl.DataFrame, funding: pl.DataFrame) -> tuple[int, str] | None:
    """(microseconds, key) of the last item folded: funding of t sorts before trades of t."""
    last: tuple[int, str] | None = None
    if trades.height:
        row = trades.row(trades.height - 1, named=True)
        last = (micros(row["timestamp"]), str(row["key"]))
    if funding.height:
        newest = (micros(funding["timestamp"].max()), "")  # type: ignore[arg-type]
        last = newest if last is None or newest > last else last
    return last


def _or_empty(frame: pl.DataFrame | None, schema: pl.Schema) -> pl.DataFrame:
    return frame if frame is not None else pl.DataFrame(schema=schema)


def _merged_rows(stored: pl.DataFrame, new: pl.DataFrame, key: str) -> pl.DataFrame:
    both = pl.concat([stored, new.select(stored.columns)], how="vertical_relaxed")
    return both.unique(subset=[key], keep="last", maintain_order=True)
