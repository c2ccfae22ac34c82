"""Reconciliation of the ledger with the venue, at the start of every cycle.

The venue is the truth. In order:

1. orders the ledger has in flight (submitted or open) are fetched by client order id and
   their fills and state recorded; an order the venue never received stays pending (a re-run
   of its decision may submit it) until it is a day old, then it is cancelled;
2. open orders on the venue the ledger does not know are adopted;
3. option settlements: the venue's settlements of options the ledger holds past expiry are
   recorded in the ledger (``settlements``, :mod:`qbtc.execution.settlements`);
4. positions: the ledger's (from fills and settlements) against the venue's; a difference is
   repaired with a ``reconciled`` fill at the venue's entry price;
5. the equity: the venue's, in USD over every collateral currency at its marks
   (:meth:`qbtc.execution.brokers.Broker.equity`), against ``capital + realised - fees +
   funding + adjustments + unrealised``; a difference is recorded as a ``reconciled``
   adjustment (the first reconciliation records the starting balance the same way). Coin
   collateral is revalued with the market, so only an all-stablecoin account's difference
   can trip the kill switch.

Each repair writes a ``reconciled`` event with the reason. A position difference worth more
than ``position_tolerance_usd`` or a balance difference beyond ``balance_tolerance_usd`` trips
the kill switch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from qbtc.execution.brokers import Broker
from qbtc.execution.ledger import BALANCE_ID, Fill, Ledger, OrderEvent, OrderState
from qbtc.execution.pnl import PositionPnl
from qbtc.execution.settlements import expired_holdings, fetch_settlements
from qbtc.execution.submit import KillSwitchLike
from qbtc.execution.tracking import LedgerBatch

_STALE = timedelta(days=1)


@dataclass(frozen=True)
class Tolerance:
    """Differences (USDT) beyond which reconciliation trips the kill switch."""

    position_usd: float = 10.0
    balance_usd: float = 100.0


@dataclass(frozen=True)
class ReconcileReport:
    """What reconciliation found and repaired (one line per repair) and whether it tripped."""

    orders_checked: int
    repairs: tuple[str, ...]
    mismatches: tuple[str, ...]
    tripped: bool


class Reconciler(LedgerBatch):
    """Compares the ledger with the venue and repairs the ledger from it."""

    def __init__(
        self,
        broker: Broker,
        ledger: Ledger,
        kill_switch: KillSwitchLike,
        *,
        run_id: str,
        capital: float,
        symbols: tuple[str, ...] = (),
        tolerance: Tolerance | None = None,
    ) -> None:
        super().__init__(broker, ledger, run_id)
        self.kill_switch = kill_switch
        self.capital = capital
        self.symbols = symbols
        self.tolerance = tolerance or Tolerance()
        self.repairs: list[str] = []
        self.mismatches: list[str] = []
        self._books: tuple[int, dict[str, PositionPnl]] | None = None
        self._recorded = 0

    def run(self) -> ReconcileReport:
        """Reconcile orders, positions and balance; trip the kill switch on a big mismatch."""
        states = self.ledger.open_order_states()
        in_flight = [s for s in states.values() if s.status in ("submitted", "open")]
        for state in in_flight:
            self._order(state)
        traded = self.ledger.traded_symbols()
        self._unknown_open_orders(traded | set(self.symbols))
        self._flush()  # positions below are computed from the repaired fills
        self._settlements()
        venue_positions = {p["symbol"]: p for p in self.broker.fetch_positions()}
        self._positions(venue_positions)
        self._flush()
        self._balance(venue_positions)
        self._flush()
        tripped = bool(self.mismatches)
        if tripped:
            self.kill_switch.trip("reconciliation mismatch: " + "; ".join(self.mismatches)[:500])
        return ReconcileReport(len(in_flight), tuple(self.repairs), tuple(self.mismatches), tripped)

    def _order(self, state: OrderState) -> None:
        order = self.broker.fetch_by_client_id(state.symbol, state.client_order_id)
        if order is None:
            self._absent(state)
            return
        filled = float(order.get("filled") or 0.0)
        same = abs(filled - state.filled_quantity) <= 1e-9 * max(state.quantity, 1.0)
        moved = not same or _status_event(order) not in (None, state.status)
        if state.status == "submitted" or moved:
            reason = f"venue: {order.get('status')}, filled {order.get('filled')}"
            self._observe(order, state, reason)

    def _absent(self, state: OrderState) -> None:
        age = datetime.now(UTC) - state.created_at
        if state.status == "open":
            self.mismatches.append(f"{state.client_order_id} acknowledged but unknown to the venue")
            event, reason = "reconciled", "acknowledged order is unknown to the venue"
        elif age > _STALE:
            event, reason = "cancelled", "never reached the venue (absent for over a day)"
        else:
            event, reason = "reconciled", "not on the venue: a re-run of its decision may submit it"
        self._events.append(self._event(state, event, reason))
        self.repairs.append(f"{state.client_order_id}: {reason}")

    def _unknown_open_orders(self, symbols: set[str]) -> None:
        for order in self.broker.fetch_open_orders(symbols):
            cid = str(order.get("clientOrderId") or "")
            if cid and not self.ledger.has_order(cid):
                self._observe(order, None, "open on the venue, unknown to the ledger: adopted")

    def _observe(self, order: dict[str, Any], state: OrderState | None, reason: str | None) -> None:
        super()._observe(order, state, reason)
        self.repairs.append(f"{order.get('clientOrderId')}: {reason}")

    def _flush(self) -> None:
        self._recorded += len(self._fills)
        super()._flush()

    def _ledger_books(self) -> dict[str, PositionPnl]:
        """The ledger's positions and PnL, computed again only when fills were recorded since."""
        if self._books is None or self._books[0] != self._recorded:
            self._books = (self._recorded, self.ledger.positions())
        return self._books[1]

    def _settlements(self) -> None:
        """Record the venue's settlements of options the ledger holds past their expiry."""
        held = self._ledger_books()
        due = expired_holdings({s: b.quantity for s, b in held.items()}, self._venue_ms())
        if not due:
            return
        found = fetch_settlements(self.broker.exchange, due, portfolio_id=self.ledger.portfolio_id)
        self.ledger.record_settlements(found)
        self._recorded += len(found)
        for s in found:
            self.repairs.append(
                f"{s.symbol}: settled at expiry, {s.quantity:g} at {s.settlement_price:g} "
                f"{s.fee_currency} (delivery price {s.delivery_price:,.2f})"
            )

    def _venue_ms(self) -> int:
        return int(self.broker.exchange.milliseconds())

    def _positions(self, venue: dict[str, dict[str, Any]]) -> None:
        ledger = self._ledger_books()
        # The venue's clock, not the wall clock: an --as-of cycle's snapshot (at that clock)
        # must include the repair.
        now = datetime.fromtimestamp(self.broker.exchange.milliseconds() / 1000, tz=UTC)
        fills = []
        for symbol in sorted(set(ledger) | set(venue)):
            mine = ledger[symbol].quantity if symbol in ledger else 0.0
            theirs = _signed_contracts(venue.get(symbol))
            position = venue.get(symbol) or {}
            price = float(position.get("entryPrice") or position.get("markPrice") or 0.0)
            if not price and symbol in ledger:
                price = ledger[symbol].entry_price
            if self.broker.spec(symbol).amount_in_usd:
                # USD-sized (Deribit inverse perpetual): the venue keeps the USD size, whose
                # coins move with the price; compare USD sizes and repair in coins at the mark.
                usd_mine = self.ledger.usd_size(symbol)
                usd_theirs = float(position.get("venueSize") or 0.0)
                if abs(usd_theirs - usd_mine) <= max(1e-9 * abs(usd_mine), 1e-6):
                    continue
                mark = float(position.get("markPrice") or price or 1.0)
                difference = (usd_theirs - usd_mine) / mark
                price = mark
            else:
                difference = theirs - mine
            if abs(difference) <= 1e-9 * max(abs(mine), abs(theirs), 1.0):
                continue
            key = hashlib.sha256(f"{self.run_id}|{symbol}|{difference!r}".encode()).hexdigest()
            fills.append(
                Fill(
                    fill_id=f"reconcile:{key[:24]}",
                    client_order_id=f"reconcile:{key[:24]}",
                    venue_order_id="",
                    portfolio_id=self.ledger.portfolio_id,
                    symbol=symbol,
                    timestamp=now,
                    side="buy" if difference > 0 else "sell",
                    quantity=abs(difference),
                    price=price,
                    fee=0.0,
                    liquidity="reconciled",
                )
            )
            reason = (
                f"position {symbol}: ledger {mine:g}, venue {theirs:g}; repaired from the venue"
            )
            self.repairs.append(reason)
            if abs(difference) * price > self.tolerance.position_usd:
                self.mismatches.append(reason)
        events = [
            OrderEvent(
                client_order_id=f.client_order_id,
                run_id=self.run_id,
                event="reconciled",
                symbol=f.symbol,
                side=f.side,
                quantity=f.quantity,
                filled_quantity=f.quantity,
                price=f.price,
                reason="position difference repaired from the venue",
            )
            for f in fills
        ]
        self._events += events
        self._fills += fills

    def _balance(self, venue: dict[str, dict[str, Any]]) -> None:
        equity = self.broker.equity()
        if not equity.holdings:
            return
        total = equity.usd
        adjustments, count = self.ledger.balance_adjustments()
        books = self._ledger_books().values()
        booked = sum(b.realized_pnl - b.fees + b.funding for b in books)
        unrealised = _unrealised(books, venue)
        expected = self.capital + booked + adjustments + unrealised
        difference = total - expected
        first = count == 0
        if not first and abs(difference) < 0.01:
            return
        held = equity.describe()
        reason = (
            f"starting balance: venue {held}, capital {self.capital:.2f}"
            if first
            else f"balance: venue {held}, ledger {expected:.2f}; adjusted"
        )
        if not first and equity.coin_collateral:
            reason += " (coin collateral is revalued at the venue's marks)"
        self._events.append(self._balance_event(difference, total, reason))
        if not first:
            self.repairs.append(reason)
        # Coin collateral changes its USD value with the market, which the ledger does not
        # book: only an all-stablecoin account's difference can mean a missing fill.
        coin = equity.coin_collateral
        if not first and not coin and abs(difference) > self.tolerance.balance_usd:
            self.mismatches.append(reason)

    def _balance_event(self, difference: float, total: float, reason: str) -> OrderEvent:
        return OrderEvent(
            client_order_id=BALANCE_ID,
            run_id=self.run_id,
            event="reconciled",
            symbol="USDT",
            side="buy" if difference > 0 else "sell",
            quantity=difference,
            filled_quantity=0.0,
            price=total,
            reason=reason,
        )

    def _event(self, state: OrderState, event: Any, reason: str) -> OrderEvent:
        return OrderEvent(
            client_order_id=state.client_order_id,
            run_id=self.run_id,
            event=event,
            symbol=state.symbol,
            side=state.side,
            quantity=state.quantity,
            filled_quantity=state.filled_quantity,
            venue_order_id=state.venue_order_id,
            reason=reason,
        )


def _unrealised(books: Iterable[PositionPnl], venue: dict[str, dict[str, Any]]) -> float:
    """Unrealised PnL (USD) of the ledger's positions at the venue's marks.

    The ledger's own entry prices, not the venue's: realised plus unrealised PnL depends only
    on the trades, while the split between them depends on the order fills are applied in,
    which two fills of the same millisecond (a resting order's fill and a new order's) do not
    fix. Mixing the ledger's realised PnL with the venue's unrealised PnL would report that
    split as a balance difference. A position without a venue mark counts the venue's figure.
    """
    total = 0.0
    for book in books:
        position = venue.get(book.symbol) or {}
        mark = position.get("markPrice")
        if book.quantity != 0 and mark is not None:
            total += book.quantity * (float(mark) - book.entry_price)
        else:
            total += float(position.get("unrealizedPnl") or 0.0)
    return total


def _signed_contracts(position: dict[str, Any] | None) -> float:
    """Signed coins of a position in the book's units (``contracts`` positive, ``side``)."""
    if not position:
        return 0.0
    contracts = abs(float(position.get("contracts") or 0.0))
    contracts *= float(position.get("contractSize") or 1.0)
    return -contracts if position.get("side") == "short" else contracts


def _status_event(order: dict[str, Any]) -> str | None:
    return {
        "open": "open",
        "closed": "filled",
        "canceled": "cancelled",
        "expired": "cancelled",
        "rejected": "rejected",
    }.get(str(order.get("status")))
