"""The simulated venue's trading side: its own order book, fills, balance and positions.

A real venue keeps its own state and qbtc's ledger must reconcile against it, so this backend
persists apart from the ledger: the order book as the lake dataset ``sim_venue_orders`` and
the account (balance, positions, open and recent orders, funding clock) in
``<data_dir>/venue/account.json`` (:mod:`qbtc.market.sim.venue_store`). Every call holds an
inter-process lock, so concurrent processes and threads see one venue.

Execution model (USDT-margined linear contracts, one-way mode, netted positions):

- a buy fills at the ask and a sell at the bid, moved by a square-root impact
  ``impact * sigma_daily * sqrt(notional / quote_volume_24h)`` (``sigma_daily`` = annualised
  volatility / sqrt(365)), so slippage grows with order size and volatility;
- an order takes at most ``participation`` of an average minute's volume per minute: a larger
  order fills partially now and keeps filling as the venue clock advances;
- taker fee on immediate fills, maker fee on resting limit orders filled later;
- funding settles every 8 hours: a position of ``q`` contracts receives ``-q * mark * rate``;
- a reused client order id is rejected as Binance does (-4116, ``ccxt.DuplicateOrderId``);
- every order is checked against the market's lots, ticks and minimums (Binance's codes);
- options (linear, USDT) fill against the chain's quote and its size, pay Deribit-style fees
  and settle at expiry on the 30-minute index average (:mod:`qbtc.market.sim.option_trading`);
  settlements are read back with ``fetch_my_settlement_history`` (ccxt's Binance shape).

Accounting is futures-style for options too: the premium is the entry price of the position
and the wallet moves by realised PnL and fees, so equity (wallet + unrealised) is the same as
when the premium is paid up front.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from qbtc.market.sim.matching import VenueConfig, VenueMatching
from qbtc.market.sim.order_rules import venue_refusal
from qbtc.market.sim.seam import MarketView
from qbtc.market.sim.trading_state import (
    AccountState,
    OrderRecord,
    PositionRecord,
    ms_to_datetime,
    order_structure,
    settlement_structure,
)
from qbtc.market.sim.venue_store import VenueStore


class SimTrading(VenueMatching):
    """The :class:`~qbtc.market.sim.seam.TradingBackend` of the simulated venue.

    ``data_dir`` is qbtc's data directory: the book goes to ``<data_dir>/lake/sim_venue_orders``
    and the account to ``<data_dir>/venue/``. The exchange calls :meth:`attach` with itself.
    """

    def __init__(self, data_dir: Path | str, *, config: VenueConfig | None = None) -> None:
        self.config = config or VenueConfig()
        self.store = VenueStore(Path(data_dir), starting_balance=self.config.starting_balance)
        self._market: MarketView | None = None

    def attach(self, market: MarketView) -> None:
        self._market = market

    def publish(self) -> None:
        """Bring the ``sim_venue_orders`` book up to date (any read call does it too)."""
        with self.store.locked():
            pass

    # -- ccxt trading API -------------------------------------------------------------------

    def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Place an order (params: clientOrderId, reduceOnly); market orders fill at once."""
        params = dict(params or {})
        cid = str(params.get("clientOrderId") or params.get("newClientOrderId") or "")
        reduce_only = str(params.get("reduceOnly", "false")).lower() == "true"
        self._check_order(symbol, type, side, amount, price)
        self._check_rules(symbol, side, amount, price, reduce_only)
        with self.store.locked(publish=False) as account:
            now = self._advance(account)
            if cid and self.store.find(account, client_order_id=cid) is not None:
                raise self._error("DuplicateOrderId", -4116, "ClientOrderId is duplicated.")
            position = account.positions.get(symbol, PositionRecord()).quantity
            signed = amount if side == "buy" else -amount
            if reduce_only and (position * signed >= 0 or amount > abs(position) * (1 + 1e-9)):
                raise self._error("InvalidOrder", -2022, "ReduceOnly Order is rejected.")
            if not reduce_only:
                self._check_margin(account, symbol, side, amount)
            account.order_counter += 1
            order = OrderRecord(
                order_id=str(100_000_000 + account.order_counter),
                client_order_id=cid or f"sim-{account.order_counter}",
                symbol=symbol,
                side=side,
                type=type,
                amount=float(amount),
                price=None if price is None else float(price),
                reduce_only=reduce_only,
                created_ms=now,
                updated_ms=now,
            )
            self.store.remember(order.client_order_id)
            account.touch(order)
            self._match(account, order, now, minutes=1.0, resting=False)
            return order_structure(order)

    def cancel_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Cancel an open order (by venue id or ``params['clientOrderId']``)."""
        with self.store.locked() as account:
            now = self._advance(account)
            order = self._lookup(account, id, params)
            if order.status != "open":
                raise self._error("OrderNotFound", -2011, "Unknown order sent.")
            order.status, order.updated_ms = "canceled", now
            account.touch(order)
            return order_structure(order)

    def fetch_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """An order by venue id, or by ``params['clientOrderId' | 'origClientOrderId']``."""
        with self.store.locked() as account:
            self._advance(account)
            return order_structure(self._lookup(account, id, params))

    def fetch_open_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        with self.store.locked() as account:
            self._advance(account)
            rows = sorted(
                (
                    o
                    for o in account.orders.values()
                    if o.status == "open"
                    and (symbol is None or o.symbol == symbol)
                    and (since is None or o.created_ms >= since)
                ),
                key=lambda o: o.created_ms,
            )
            return [order_structure(o) for o in rows[:limit]]

    def fetch_balance(self) -> dict[str, Any]:
        """USDT balance, ccxt shape: total = wallet + unrealised PnL, used = initial margin."""
        with self.store.locked() as account:
            now = self._advance(account)
            held = {s: p for s, p in account.positions.items() if p.quantity != 0}
            marks = {s: self._mark(s) for s in held}
            unrealised = sum(p.unrealised(marks[s]) for s, p in held.items())
            used = sum(abs(p.quantity) * marks[s] for s, p in held.items())
            used /= self.config.max_leverage
            total = account.balance + unrealised
            usdt = {"free": total - used, "used": used, "total": total}
            return {
                "info": {"walletBalance": account.balance, "unrealizedProfit": unrealised},
                "timestamp": now,
                "datetime": ms_to_datetime(now).isoformat(),
                "USDT": usdt,
                "free": {"USDT": usdt["free"]},
                "used": {"USDT": used},
                "total": {"USDT": total},
            }

    def fetch_positions(self, symbols: list[str] | None = None) -> list[dict[str, Any]]:
        """Open positions as ccxt position structures (``contracts`` absolute, ``side``)."""
        with self.store.locked() as account:
            now = self._advance(account)
            out = []
            for symbol, pos in sorted(account.positions.items()):
                if pos.quantity == 0 or (symbols is not None and symbol not in symbols):
                    continue
                mark = self._mark(symbol)
                out.append(
                    {
                        "symbol": symbol,
                        "timestamp": now,
                        "datetime": ms_to_datetime(now).isoformat(),
                        "contracts": abs(pos.quantity),
                        "contractSize": 1.0,
                        "side": "long" if pos.quantity > 0 else "short",
                        "entryPrice": pos.entry_price,
                        "markPrice": mark,
                        "notional": abs(pos.quantity) * mark,
                        "unrealizedPnl": pos.unrealised(mark),
                        "leverage": self.config.max_leverage,
                        "marginMode": "cross",
                        "info": {
                            "positionAmt": pos.quantity,
                            "realized": pos.realized,
                            "funding": pos.funding,
                        },
                    }
                )
            return out

    def fetch_my_settlement_history(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The account's option settlements, oldest first (ccxt's Binance options shape)."""
        with self.store.locked() as account:
            self._advance(account)
            rows = [
                settlement_structure(s)
                for s in account.settlements
                if (symbol is None or s["symbol"] == symbol)
                and (since is None or s["timestamp"] >= since)
            ]
            return rows[:limit] if limit else rows

    # -- matching -----------------------------------------------------------------------------

    def _check_order(
        self, symbol: str, type: str, side: str, amount: float, price: float | None
    ) -> None:
        if side not in ("buy", "sell") or type not in ("market", "limit"):
            raise self._error("InvalidOrder", -1116, f"Invalid order {type} {side}.")
        if not (amount > 0 and math.isfinite(amount)):
            raise self._error("InvalidOrder", -4003, f"Quantity {amount} must be positive.")
        if type == "limit" and not (price is not None and price > 0):
            raise self._error(
                "BadRequest",
                -1102,
                "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
            )

    def _check_rules(
        self, symbol: str, side: str, amount: float, price: float | None, reduce_only: bool
    ) -> None:
        """Refuse an order off the market's grid or outside its limits, as Binance does."""
        refusal = venue_refusal(
            self.market.market(symbol),
            amount,
            price,
            reduce_only=reduce_only,
            mark=lambda: self._mark(symbol),
        )
        if refusal is not None:
            raise self._error(*refusal)

    def _lookup(self, account: AccountState, id: str, params: dict[str, Any] | None) -> OrderRecord:
        params = params or {}
        cid = params.get("clientOrderId") or params.get("origClientOrderId")
        found = (
            self.store.find(account, client_order_id=str(cid))
            if cid
            else self.store.find(account, order_id=str(id))
        )
        if found is None:
            raise self._error("OrderNotFound", -2013, "Order does not exist.")
        return found
