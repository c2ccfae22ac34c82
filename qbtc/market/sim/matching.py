"""How the simulated venue fills, charges and settles: prices, liquidity, margin, funding.

:class:`VenueMatching` is the venue's matching engine and its accounting on an account
(:class:`~qbtc.market.sim.trading_state.AccountState`);
:class:`~qbtc.market.sim.trading.SimTrading` puts the ccxt trading API and the venue's
storage in front of it (the execution model is described there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from qbtc.execution.venue_rules import VenueRules, amount_to_precision
from qbtc.market.contracts import is_option_symbol, parse_option_symbol
from qbtc.market.sim.option_trading import (
    OptionFees,
    match_option,
    settle_expired,
    short_margin,
)
from qbtc.market.sim.seam import MarketView
from qbtc.market.sim.trading_state import AccountState, OrderRecord
from qbtc.market.sim.universe import MINUTE_MS

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


class VenueMatching:
    """Matching and accounting of the simulated venue against ``market`` (prices, clock)."""

    config: VenueConfig
    _market: MarketView | None

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
