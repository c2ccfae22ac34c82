"""How a backtest's accepted intents become fills: two fill models, one interface.

``bars``
    Every accepted intent fills in full at its symbol's last close at the decision time,
    moved by ``slippage_bps`` against the order, with ``fee_rate`` of its notional as fee;
    funding settles at its timestamps (:class:`~qbtc.backtest.book.BarBook`). Works on any
    data in the lake (simulated or imported Binance bars) and is fast.
``venue``
    The live execution stage itself: reconcile, submit and snapshot the book
    (:mod:`qbtc.execution.cycle`) through the paper broker on the simulated venue, its clock
    set to each decision time, in a scratch directory. Fills are the simulated venue's
    (touch, square-root impact, participation limits, partial fills that keep filling, the
    venue's fees and funding). This is what ``qbtc run --as-of t`` does on the simulator, so
    it is what the parity test compares; it needs the simulated venue's data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import polars as pl

from qbtc.backtest.book import BarBook, SimFill
from qbtc.execution.intents import OrderIntent
from qbtc.schemas import FUNDING_RATES


@dataclass(frozen=True)
class FillMarket:
    """What a fill model sees at a decision time: each perp's last close and mark (USDT) and
    the funding stamped since the previous decision (``timestamp, symbol, rate, mark``)."""

    closes: Mapping[str, float]
    marks: Mapping[str, float]
    funding: Sequence[tuple[datetime, str, float, float | None]] = ()


class Execution(Protocol):
    """Turns a decision's accepted intents into fills and the book's positions after them.

    A decision time may call :meth:`step` twice: the cycle's orders, then the hedge
    stage's top-up orders on the book they left (with no funding the second time).
    """

    def step(
        self, at: datetime, intents: Sequence[OrderIntent], market: FillMarket
    ) -> tuple[list[SimFill], pl.DataFrame]: ...

    def working_orders(self) -> dict[str, float]:
        """Signed quantity still to fill of the option orders working at the venue."""
        ...


class BarExecution:
    """The ``bars`` fill model (see the module docstring)."""

    def __init__(
        self, *, capital: float, portfolio_id: str, fee_rate: float, slippage_bps: float
    ) -> None:
        self.book = BarBook(capital=capital, portfolio_id=portfolio_id)
        self.fee_rate = fee_rate
        self.slippage_bps = slippage_bps

    def step(
        self, at: datetime, intents: Sequence[OrderIntent], market: FillMarket
    ) -> tuple[list[SimFill], pl.DataFrame]:
        self.book.settle_funding(market.funding)
        fills = self.book.fill(
            intents, market.closes, at, fee_rate=self.fee_rate, slippage_bps=self.slippage_bps
        )
        return fills, self.book.positions(market.marks, at)

    def working_orders(self) -> dict[str, float]:
        """None: every intent fills in full at once."""
        return {}


class VenueExecution:
    """The ``venue`` fill model: the live execution stage on the simulated venue."""

    def __init__(
        self,
        scratch: Path,
        *,
        seed: int,
        symbols: Sequence[str],
        capital: float,
        portfolio_id: str,
        funding: pl.DataFrame,
        max_decision_age_s: float,
        run_id: str,
    ) -> None:
        from qbtc.execution.cycle import ExecutionConfig
        from qbtc.lake import write_dataset

        self.seed = seed
        self.symbols = tuple(symbols)
        self.scratch = scratch
        self.run_id = run_id
        self.config = ExecutionConfig(
            lake_dir=scratch / "lake",
            state_dir=scratch / "state",
            portfolio_id=portfolio_id,
            capital=capital,
            symbols=self.symbols,
            max_decision_age_s=max_decision_age_s,
        )
        if funding.height:
            write_dataset(self.config.lake_dir, FUNDING_RATES, funding)
        self._seen: set[str] = set()
        self._intents: dict[str, OrderIntent] = {}

    def step(
        self, at: datetime, intents: Sequence[OrderIntent], market: FillMarket
    ) -> tuple[list[SimFill], pl.DataFrame]:
        """One run of the ``orders`` stage at ``at``: reconcile, submit, snapshot (the venue
        settles its own funding, so ``market`` is not needed)."""
        from qbtc.execution.brokers import Broker
        from qbtc.execution.cycle import reconcile_book, snapshot_positions, submit_intents
        from qbtc.market.sim.trading import SimTrading, VenueConfig
        from qbtc.market.venue import open_exchange
        from qbtc.risk.killswitch import KillSwitch

        config = self.config
        trading = SimTrading(self.scratch, config=VenueConfig(starting_balance=config.capital))
        exchange = open_exchange(
            "sim", seed=self.seed, as_of=at, symbols=self.symbols, trading=trading
        )
        broker = Broker(exchange, paper=True, taker_fee=trading.config.taker_fee)
        switch = KillSwitch(config.state_dir)
        reconcile_book(broker, config, run_id=self.run_id, kill_switch=switch)
        submit_intents(broker, config, list(intents), run_id=self.run_id, kill_switch=switch)
        positions = snapshot_positions(broker, config)
        return self._new_fills(intents), positions

    def working_orders(self) -> dict[str, float]:
        """The option orders resting at the simulated venue, as its ledger last saw them
        (what the live risk stage reads before the orders stage)."""
        from qbtc.risk.inputs import load_working_orders

        return load_working_orders(self.config.lake_dir, self.config.portfolio_id)

    def _new_fills(self, intents: Sequence[OrderIntent]) -> list[SimFill]:
        """Fills the venue reported since the last step (a partial fill keeps filling)."""
        self._intents |= {i.client_order_id: i for i in intents}
        stored = self.config.ledger().fills().filter(~pl.col("fill_id").is_in(list(self._seen)))
        by_id = self._intents
        out = []
        for row in stored.sort("timestamp", "fill_id").iter_rows(named=True):
            self._seen.add(row["fill_id"])
            out.append(
                SimFill(
                    by_id[row["client_order_id"]],
                    row["timestamp"],
                    row["quantity"],
                    row["price"],
                    row["fee"],
                    row["fill_id"],
                )
            )
        return out
