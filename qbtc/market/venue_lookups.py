"""Venue-specific calls of :class:`~qbtc.market.ccxt_adapter.CcxtExchange`: what ccxt has
no unified method for, made through each venue's own endpoints with the real ccxt client.

- client order ids where each venue keeps them (Deribit ``label``, Bybit ``orderLinkId``);
- Deribit's delivery prices (``public/get_delivery_prices``);
- the account's option settlements (:meth:`VenueLookups.fetch_my_settlement_history`):
  Deribit's ``private/get_settlement_history_by_currency`` (ccxt has no unified settlement
  history for Deribit; its implicit API has the endpoint), Bybit through ccxt's
  ``fetch_my_settlement_history`` (``/v5/asset/delivery-record``), other venues through
  ccxt's unified call with Binance's exercise record. Each answer is read into one shape
  (:mod:`qbtc.market.venue_settlements`).

Every request goes through the adapter's retrying, serialised ``_call``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ccxt

from qbtc.market.contracts import parse_option_symbol
from qbtc.market.venue_settlements import (
    binance_settlement,
    bybit_settlement,
    deribit_settlement,
    option_key,
)

DERIBIT_SETTLEMENT_PAGES = 10
DERIBIT_PAGE_SIZE = 100
"""Delivery records read back per page (newest first), at most this many pages for one option."""
BYBIT_SETTLEMENT_LIMIT = 50
"""Bybit's delivery records read back (its most per page; newest first)."""


class VenueLookups:
    """Venue-specific calls, mixed into :class:`~qbtc.market.ccxt_adapter.CcxtExchange`."""

    client: ccxt.Exchange

    if TYPE_CHECKING:  # provided by CcxtExchange, the one class this is mixed into

        def _call(
            self, operation: str, function: Callable[[], Any], *, idempotent: bool = True
        ) -> Any: ...

        def _trading_client(self) -> ccxt.Exchange: ...

        def _check_symbol(self, symbol: str) -> None: ...

    def fetch_delivery_price(self, underlying: str, expiry_ms: int) -> float:
        """Deribit's delivery price (USD) of ``underlying`` on the day of ``expiry_ms``
        (``public/get_delivery_prices``, index ``btc_usd``); an error elsewhere or before it
        is published, never a made-up price."""
        client = self.client
        if self.client.id != "deribit":
            raise ccxt.NotSupported(
                f"{self.client.id}: no delivery prices in ccxt; its expired options settle on the venue"
            )
        day = time.strftime("%Y-%m-%d", time.gmtime(expiry_ms / 1000))
        request = {"index_name": f"{underlying.lower()}_usd", "count": 30}
        response = self._call(
            "get_delivery_prices", lambda: client.publicGetGetDeliveryPrices(request)
        )
        for row in (response.get("result") or {}).get("data") or []:
            if row.get("date") == day:
                return float(row["delivery_price"])
        raise ccxt.BadRequest(f"deribit has no delivery price of {underlying} for {day} yet")

    def fetch_orders_by_client_id(self, symbol: str, client_order_id: str) -> list[dict[str, Any]]:
        """The orders of ``symbol`` with this client order id (newest last; empty: none).

        Each venue is asked where it keeps the id: Deribit by ``label``
        (:meth:`fetch_orders_by_label`), Bybit by ``orderLinkId`` on ``/v5/order/realtime``
        (open and recent orders of a unified account), others through ccxt's
        ``fetch_order`` with ``clientOrderId`` (Binance's ``origClientOrderId``). A venue
        error raises: a failed look-up is "unknown, look again", never "no such order".
        """
        if self.client.id == "deribit":
            return self.fetch_orders_by_label(symbol, client_order_id)
        client = self._trading_client()
        self._check_symbol(symbol)
        if self.client.id == "bybit":
            market = client.market(symbol)
            category = client.get_bybit_type("fetchOrder", market, {})[0]
            request = {"category": category, "symbol": market["id"]}
            request["orderLinkId"] = client_order_id
            response = self._call(
                "order_realtime", lambda: client.privateGetV5OrderRealtime(request)
            )
            rows = (response.get("result") or {}).get("list") or []
            return [dict(o) for o in client.parse_orders(rows, market)]
        try:
            order = self._call(
                "fetch_order",
                lambda: client.fetch_order("", symbol, {"clientOrderId": client_order_id}),
            )
        except ccxt.OrderNotFound:
            return []
        return [dict(order)]

    def fetch_orders_by_label(self, symbol: str, label: str) -> list[dict[str, Any]]:
        """Deribit: the orders of ``symbol`` whose ``label`` (Deribit's client order id) is
        ``label``, newest last (``private/get_order_state_by_label``; ccxt has no unified
        call for it). An empty list when the venue has none; a venue error raises."""
        client = self._trading_client()
        self._check_symbol(symbol)
        market = client.market(symbol)
        request = {"currency": market["settleId"], "label": label}
        response = self._call(
            "get_order_state_by_label", lambda: client.privateGetGetOrderStateByLabel(request)
        )
        orders = client.parse_orders(response.get("result") or [], market)
        return sorted(
            (dict(o) for o in orders if o.get("symbol") == symbol),
            key=lambda o: o.get("timestamp") or 0,
        )

    def fetch_my_settlement_history(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The account's settlements of the option ``symbol`` (held past its expiry), in
        qbtc's shape (:mod:`qbtc.market.venue_settlements`); empty while the venue has not
        settled it. ``symbol`` is required: expired options are found by their contract
        (underlying, settle currency, expiry, strike, kind), whatever symbol ccxt rebuilds
        for them."""
        if symbol is None:
            raise ccxt.ArgumentsRequired("fetch_my_settlement_history needs the option's symbol")
        client = self._trading_client()
        wanted = option_key(symbol)
        if wanted is None:
            return []
        if client.id == "deribit":
            return self._deribit_settlements(symbol)
        if client.id == "bybit":
            rows = self._call(
                "fetch_my_settlement_history",
                lambda: client.fetch_my_settlement_history(
                    None, None, BYBIT_SETTLEMENT_LIMIT, {"type": "option"}
                ),
            )
            return [bybit_settlement(r, symbol) for r in rows if option_key(r["symbol"]) == wanted]
        if not client.has.get("fetchMySettlementHistory"):
            raise ccxt.NotSupported(f"{client.id} reports no option settlements in ccxt")
        rows = self._call(
            "fetch_my_settlement_history", lambda: client.fetch_my_settlement_history(symbol)
        )
        return [binance_settlement(r) for r in rows if option_key(str(r["symbol"])) == wanted]

    def _deribit_settlements(self, symbol: str) -> list[dict[str, Any]]:
        """Deribit's delivery records of ``symbol``'s contract, paging back (newest first)
        until the records are older than its expiry."""
        client = self.client
        contract = parse_option_symbol(symbol)
        wanted, expiry_ms = option_key(symbol), contract.expiry.timestamp() * 1000
        request: dict[str, Any] = {
            "currency": contract.settle,
            "type": "delivery",
            "count": DERIBIT_PAGE_SIZE,
        }
        found: list[dict[str, Any]] = []
        for _ in range(DERIBIT_SETTLEMENT_PAGES):
            response = self._call(
                "get_settlement_history_by_currency",
                lambda: client.privateGetGetSettlementHistoryByCurrency(dict(request)),
            )
            result = response.get("result") or {}
            records = result.get("settlements") or []
            for record in records:
                name = str(record.get("instrument_name") or "")
                if option_key(str(client.safe_symbol(name))) == wanted:
                    found.append(deribit_settlement(record, symbol))
            continuation = result.get("continuation")
            oldest = min((int(r.get("timestamp") or 0) for r in records), default=0)
            if found or not records or continuation in (None, "", "none") or oldest < expiry_ms:
                break
            request["continuation"] = continuation
        return found
