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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qbtc.execution.venue_rules import VenueRules, amount_to_precision
from qbtc.market.contracts import is_option_symbol, parse_option_symbol
from qbtc.market.sim.option_trading import (
    OptionFees,
    match_option,
    settle_expired,
    short_margin,
)
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

MINUTE_MS = 60_000
FUNDING_INTERVAL_MS = 8 * 3_600_000


@dataclass(frozen=True)
class VenueConfig:
    """Fees (fractions of notional), impact, liquidity and margin of the simulated venue."""

    starting_balance: float = 1_000_000.0
    maker_fee: float = 0.0002
    taker_fee: float = 0.0005
    impact: float = 0.7
    participation: float = 0.1
    default_volatility: float = 0.6
    default_quote_volume: float = 500_000_000.0
    max_leverage: float = 20.0
    option_fees: OptionFees = field(default_factory=OptionFees)


def execution_price(
    side: str,
    bid: float,
    ask: float,
    notional: float,
    *,
    volatility: float,
    quote_volume: float,
    impact: float,
) -> float:
    """Fill price of a marketable order: the touch moved by a square-root impact.

    ``volatility`` is annualised (a fraction), ``quote_volume`` the 24h volume in USDT and
    ``notional`` the order size in USDT. Buys pay more than the ask, sells get less than the bid.
    """
    sigma_daily = volatility / math.sqrt(365.0)
    slip = impact * sigma_daily * math.sqrt(max(notional, 0.0) / max(quote_volume, 1.0))
    return ask * (1.0 + slip) if side == "buy" else bid * (1.0 - slip)


def minute_liquidity(quote_volume: float, participation: float) -> float:
    """USDT one order may take per minute: ``participation`` of an average minute's volume."""
    return participation * quote_volume / 1440.0


class SimTrading:
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

    @property
    def market(self) -> MarketView:
        if self._market is None:
            raise _ccxt_error(
                "ExchangeNotAvailable",
                "the simulated venue's trading side is not attached to an exchange: build it "
                "with SimExchange(trading=SimTrading(data_dir))",
            )
        return self._market

    def _error(self, kind: str, code: int, message: str) -> Exception:
        """A ccxt exception (``kind``) with Binance's error body, as ccxt would raise it."""
        venue = getattr(self._market, "id", "sim")
        return _ccxt_error(kind, f'{venue} {{"code":{code},"msg":"{message}"}}')

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

    def _check_margin(self, account: AccountState, symbol: str, side: str, amount: float) -> None:
        """Reject when initial margin of positions, open orders and this order exceeds equity."""
        held = {s: p for s, p in account.positions.items() if p.quantity != 0}
        marks = {s: self._mark(s) for s in {*held, symbol}}
        equity = account.balance + sum(p.unrealised(marks[s]) for s, p in held.items())
        margin = sum(self._margin(s, p.quantity, marks[s]) for s, p in held.items())
        for order in account.orders.values():
            if order.status == "open":
                mark = marks.setdefault(order.symbol, self._mark(order.symbol))
                signed = order.remaining if order.side == "buy" else -order.remaining
                margin += self._margin(order.symbol, signed, mark)
        signed = amount if side == "buy" else -amount
        if margin + self._margin(symbol, signed, marks[symbol]) > equity:
            raise self._error("InsufficientFunds", -2019, "Margin is insufficient.")

    def _margin(self, symbol: str, signed: float, mark: float) -> float:
        """Initial margin (USDT) of ``signed`` contracts: perps at the venue's leverage,
        long options their premium, short options Deribit's standard margin."""
        if not is_option_symbol(symbol):
            return abs(signed) * mark / self.config.max_leverage
        if signed >= 0:
            return signed * mark
        index = float(self.market.fetch_ticker(symbol).get("indexPrice") or mark)
        return -signed * short_margin(parse_option_symbol(symbol), mark, index)

    def _advance(self, account: AccountState) -> int:
        """Bring the venue to its clock: settle funding, keep filling open orders."""
        now = self.market.milliseconds()
        self._settle_options(account, now)
        self._settle_funding(account, now)
        for order in list(account.orders.values()):
            minutes = (now - order.updated_ms) / MINUTE_MS
            open_for_a_minute = order.status == "open" and minutes >= 1.0
            if open_for_a_minute and self._match(
                account, order, now, minutes=minutes, resting=True
            ):
                account.touch(order)
        return now

    def _match(
        self, account: AccountState, order: OrderRecord, now: int, *, minutes: float, resting: bool
    ) -> bool:
        """Fill what liquidity allows over ``minutes`` at current prices; True if anything filled."""
        if is_option_symbol(order.symbol):
            return self._match_option(account, order, now, minutes=minutes, resting=resting)
        ticker = self.market.fetch_ticker(order.symbol)
        bid, ask = _touch(ticker)
        quote_volume = float(ticker.get("quoteVolume") or self.config.default_quote_volume)
        touch = ask if order.side == "buy" else bid
        capacity = minute_liquidity(quote_volume, self.config.participation) * minutes / touch
        quantity = min(order.remaining, capacity)
        if quantity < order.remaining:  # a partial fill is a whole number of lots, as on a venue
            quantity = self._whole_lots(order.symbol, quantity)
            if quantity <= 0:
                return False
        price = execution_price(
            order.side,
            bid,
            ask,
            quantity * touch,
            volatility=self._volatility(ticker),
            quote_volume=quote_volume,
            impact=self.config.impact,
        )
        maker = False
        if order.price is not None:
            if (price - order.price) * (1 if order.side == "buy" else -1) > 0:
                return False
            # An order resting in the book fills at its own price, as a maker.
            price, maker = (order.price, True) if resting else (price, False)
        fee = quantity * price * (self.config.maker_fee if maker else self.config.taker_fee)
        order.add_fill(quantity, price, fee, now)
        account.apply_fill(order.symbol, order.side, quantity, price, fee)
        return True

    def _whole_lots(self, symbol: str, quantity: float) -> float:
        """``quantity`` truncated to the market's lot (unchanged when it has none)."""
        lot = VenueRules.from_market(self.market.market(symbol)).amount_step
        return quantity if lot is None else amount_to_precision(quantity, lot)

    def _match_option(
        self, account: AccountState, order: OrderRecord, now: int, *, minutes: float, resting: bool
    ) -> bool:
        """Fill an option order against the chain's quote and its size."""
        ticker = self.market.fetch_ticker(order.symbol)
        fees = self.config.option_fees
        return match_option(
            account, order, ticker, now, minutes=minutes, resting=resting, fees=fees
        )

    def _settle_options(self, account: AccountState, now: int) -> None:
        """Settle every option position whose expiry has passed; expire its open orders."""
        market = self.market
        settle_expired(
            account, now, lambda u, at: market.delivery_price(u, at), self.config.option_fees
        )

    def _settle_funding(self, account: AccountState, now: int) -> None:
        """Pay or receive funding at every 8h boundary passed since the last settlement."""
        if account.last_funding_ms is None:
            account.last_funding_ms = now - now % FUNDING_INTERVAL_MS
            return
        boundary = account.last_funding_ms + FUNDING_INTERVAL_MS
        while boundary <= now:
            for symbol, position in account.positions.items():
                if position.quantity != 0 and not is_option_symbol(symbol):
                    rate, mark = self._funding(symbol, boundary)
                    account.apply_funding(symbol, -position.quantity * mark * rate)
            account.last_funding_ms = boundary
            boundary += FUNDING_INTERVAL_MS

    def _funding(self, symbol: str, at_ms: int) -> tuple[float, float]:
        """Funding rate (a fraction per interval) and mark price settled at ``at_ms``."""
        history = getattr(self.market, "fetch_funding_rate_history", None)
        for row in history(symbol, since=at_ms, limit=1) if history is not None else []:
            if int(row["timestamp"]) == at_ms:
                info = row.get("info") or {}
                mark = info.get("markPrice") or row.get("markPrice") or self._mark(symbol)
                return float(row["fundingRate"]), float(mark)
        return 0.0, self._mark(symbol)

    def _mark(self, symbol: str) -> float:
        ticker = self.market.fetch_ticker(symbol)
        mark = ticker.get("markPrice") or ticker.get("last")
        if mark is None:
            bid, ask = _touch(ticker)
            mark = 0.5 * (bid + ask)
        return float(mark)

    def _volatility(self, ticker: dict[str, Any]) -> float:
        info = ticker.get("info")
        value = info.get("volatility") if isinstance(info, dict) else None
        return float(value) if value else self.config.default_volatility

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


def _ccxt_error(kind: str, message: str) -> Exception:
    """A ccxt exception, importing ccxt (seconds) only when an error is actually raised."""
    import ccxt

    error: type[Exception] = getattr(ccxt, kind)
    return error(message)


def _touch(ticker: dict[str, Any]) -> tuple[float, float]:
    """Best bid and ask of a ticker (the last price when a side is missing)."""
    last = ticker.get("last") or ticker.get("markPrice")
    bid = ticker.get("bid") or last
    ask = ticker.get("ask") or last
    if bid is None or ask is None:
        raise _ccxt_error(
            "ExchangeNotAvailable", f"the venue has no price for {ticker.get('symbol')}"
        )
    return float(bid), float(ask)
