"""The ledger as of its last cycle, stored so a cycle reads only what was added since.

A checkpoint is derived data, never a source of truth: the book (positions, entry prices,
realised PnL, fees, funding) folded up to a position in the ledger's order of application
(the last trade's timestamp and id), the orders that can still be open (their events and
fills), the equity adjustments' sum, the traded symbols, and for each dataset read the
files it came from (:class:`~qbtc.lake.increments.FileSet`). Every client order id it has
seen is in an append-only index (:class:`~qbtc.idindex.IdIndex`) beside it.

A cycle loads it, reads the rows added since (:func:`~qbtc.lake.increments.read_increment`)
and folds them on. It is rebuilt from the whole ledger when missing, unreadable, of another
version, or stale: a file it was built from is gone without its rows reappearing in a
compacted file (a quarantined or deleted file), or a trade or funding payment arrived that
sorts before its position (an ``--as-of`` run into the past, a late funding rate), since the
fold's order is what makes its figures those of a full pass. It is written atomically, the
id index first, so a kill -9 at any point leaves the previous checkpoint or the new one. The
index is appended without an fsync per bucket (a cycle's ids spread over as many files); the
checkpoint names the ids its save added (``recent_ids``) and the next load adds them again,
so the index never lags the checkpoint it serves.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from qbtc.execution.pnl import PositionBook
from qbtc.lake.increments import FileSet
from qbtc.schemas import FILLS, ORDER_EVENTS
from qbtc.statefile import write_json_atomic

VERSION = 2  # 2: books follow coin-settled options in coin too
#: The datasets a checkpoint follows, by the name it keeps their files under.
DATASETS = ("fills", "order_events", "settlements", "funding_rates")


@dataclass
class BookCheckpoint:
    """The ledger of one portfolio folded up to ``position`` (see the module docstring).

    ``position`` is (timestamp in microseconds, key) of the last item folded: a trade's fill
    or settlement id, or ``""`` for a funding payment (funding at t applies before the
    trades of t). ``pending_*`` are rows read but not folded yet (after the fold's ``until``).
    """

    portfolio_id: str
    files: dict[str, FileSet] = field(default_factory=dict)
    position: tuple[int, str] | None = None
    books: dict[str, PositionBook] = field(default_factory=dict)
    usd_size: dict[str, float] = field(default_factory=dict)
    open_events: pl.DataFrame = field(default_factory=ORDER_EVENTS.empty)
    open_fills: pl.DataFrame = field(default_factory=FILLS.empty)
    pending_trades: pl.DataFrame | None = None
    pending_funding: pl.DataFrame | None = None
    balance: tuple[float, int] = (0.0, 0)
    symbols: set[str] = field(default_factory=set)
    recent_ids: list[str] = field(default_factory=list)


def checkpoint_path(directory: Path, portfolio_id: str) -> Path:
    return directory / f"book-{portfolio_id}.json"


def _frame_out(frame: pl.DataFrame | None) -> list[dict[str, Any]] | None:
    if frame is None:
        return None
    stamps = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    return frame.with_columns(pl.col(stamps).cast(pl.Int64)).to_dicts()


def _frame_in(rows: list[dict[str, Any]] | None, schema: pl.Schema) -> pl.DataFrame | None:
    if rows is None:
        return None
    ints = {c: (pl.Int64 if isinstance(t, pl.Datetime) else t) for c, t in schema.items()}
    frame = pl.DataFrame(rows, schema=ints, orient="row" if not rows else None)
    return frame.with_columns(
        [pl.col(c).cast(t) for c, t in schema.items() if isinstance(t, pl.Datetime)]
    )


def save_checkpoint(path: Path, checkpoint: BookCheckpoint) -> None:
    """Write ``checkpoint`` atomically (the caller added its ids to the index first)."""
    books = {
        s: asdict(b) | {"last_fill_at": _micros(b.last_fill_at)}
        for s, b in checkpoint.books.items()
    }
    payload = {
        "version": VERSION,
        "portfolio_id": checkpoint.portfolio_id,
        "files": {name: asdict(fs) for name, fs in checkpoint.files.items()},
        "position": list(checkpoint.position) if checkpoint.position else None,
        "books": books,
        "usd_size": checkpoint.usd_size,
        "open_events": _frame_out(checkpoint.open_events),
        "open_fills": _frame_out(checkpoint.open_fills),
        "pending_trades": _frame_out(checkpoint.pending_trades),
        "pending_funding": _frame_out(checkpoint.pending_funding),
        "balance": list(checkpoint.balance),
        "symbols": sorted(checkpoint.symbols),
        "recent_ids": checkpoint.recent_ids,
    }
    write_json_atomic(path, payload)


def load_checkpoint(
    path: Path, portfolio_id: str, *, trade_schema: pl.Schema, funding_schema: pl.Schema
) -> BookCheckpoint | None:
    """The stored checkpoint, or None when there is none usable (it is then rebuilt)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != VERSION or raw.get("portfolio_id") != portfolio_id:
            return None
        books = {
            s: PositionBook(**(b | {"last_fill_at": _from_micros(b["last_fill_at"])}))
            for s, b in raw["books"].items()
        }
        position = raw["position"]
        return BookCheckpoint(
            portfolio_id=portfolio_id,
            files={
                name: FileSet(dict(fs["files"]), int(fs["written_us"]))
                for name, fs in raw["files"].items()
            },
            position=(int(position[0]), str(position[1])) if position else None,
            books=books,
            usd_size={s: float(v) for s, v in raw["usd_size"].items()},
            open_events=_frame_in(raw["open_events"], ORDER_EVENTS.schema),  # type: ignore[arg-type]
            open_fills=_frame_in(raw["open_fills"], FILLS.schema),  # type: ignore[arg-type]
            pending_trades=_frame_in(raw["pending_trades"], trade_schema),
            pending_funding=_frame_in(raw["pending_funding"], funding_schema),
            balance=(float(raw["balance"][0]), int(raw["balance"][1])),
            symbols=set(raw["symbols"]),
            recent_ids=list(raw["recent_ids"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError, pl.exceptions.PolarsError):
        return None  # unreadable: derived data, rebuilt from the ledger


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact)."""
    return (value - _EPOCH) // timedelta(microseconds=1)


def _micros(value: datetime | None) -> int | None:
    return None if value is None else micros(value)


def _from_micros(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)
