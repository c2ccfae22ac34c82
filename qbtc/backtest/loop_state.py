"""What a backtest's loop keeps from one decision to the next besides the book: the equity
history the risk stage reads, and the backtest's own kill switch read only when it changed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from qbtc.risk.killswitch import KillSwitch, KillSwitchState
from qbtc.schemas import TS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class EquityHistory:
    """The equity after each decision so far, as the ``timestamp, equity`` frame the risk
    stage reads from the lake.

    Kept in arrays sized for every decision; each decision's frame is a view of the rows
    recorded so far, which are never written again (a one-row frame and a concat per
    decision cost ~10x more).
    """

    def __init__(self, size: int) -> None:
        self.stamps = np.zeros(size, dtype=np.int64)  # microseconds since the epoch (UTC)
        self.equities = np.zeros(size)
        self.size = 0

    def append(self, at: datetime, equity: float) -> None:
        self.stamps[self.size] = (at - _EPOCH) // _MICROSECOND
        self.equities[self.size] = equity
        self.size += 1

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            [
                pl.Series("timestamp", self.stamps[: self.size]).cast(TS),
                pl.Series("equity", self.equities[: self.size]),
            ]
        )


class CachedKillSwitch(KillSwitch):
    """The backtest's kill switch, read again only when its file changed (the drawdown
    check or the venue's execution may trip it; most decisions find it as it was, and the
    inputs, the drawdown check and the pre-trade checks each read it)."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir)
        self.seen: tuple[int, int, int] | None = None
        self.state = super().status()

    def status(self) -> KillSwitchState:
        try:
            stat = self.path.stat()
            key: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            key = None
        if key != self.seen:
            self.seen, self.state = key, super().status()
        return self.state
