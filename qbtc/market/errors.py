"""Errors raised by qbtc's venues (simulated or ccxt), each with a message that says what to do.

They are deliberately *not* ccxt network errors: code that retries on ``ccxt.NetworkError``
must never retry an IP ban, and a venue that stayed down after bounded retries is final for
the current run.
"""

from __future__ import annotations

from collections.abc import Iterable

from qbtc.symbols import close_matches


class VenueError(Exception):
    """Base class of every venue error qbtc raises."""


class VenueBannedError(VenueError):
    """The venue answered HTTP 418: this IP is banned. Stop calling it; never retry."""

    def __init__(self, exchange_id: str, detail: str = "") -> None:
        message = (
            f"{exchange_id} answered HTTP 418: this IP address is banned for exceeding the "
            "venue's rate limits. Stop every process that calls this venue and wait for the "
            "ban to expire (Binance bans last 2 minutes to 3 days) before running again."
        )
        if detail:
            message += f" Venue said: {detail[:300]}"
        super().__init__(message)
        self.exchange_id = exchange_id


class VenueUnavailableError(VenueError):
    """The venue stayed unavailable (network, timeouts, 5xx, 429) after bounded retries."""

    def __init__(self, exchange_id: str, operation: str, attempts: int, last_error: str) -> None:
        super().__init__(
            f"{exchange_id} stayed unavailable for {operation} after {attempts} attempt(s) "
            f"(last error: {last_error[:300]}). Nothing was written; check the venue's status "
            "page and your network, then run again."
        )
        self.exchange_id = exchange_id
        self.operation = operation
        self.attempts = attempts


class UnknownSymbolError(VenueError, ValueError):
    """A symbol the venue does not list; the message names close matches."""

    def __init__(self, symbol: str, known: Iterable[str], exchange_id: str = "") -> None:
        universe = tuple(known)
        matches = close_matches(symbol, universe)
        where = f" on {exchange_id}" if exchange_id else ""
        hint = (
            f"did you mean {', '.join(matches)}?"
            if matches
            else f"known symbols include {', '.join(universe[:5])}"
        )
        super().__init__(
            f"unknown symbol {symbol!r}{where}: {hint} "
            "(symbols use the ccxt form, e.g. BTC/USDT:USDT)"
        )
        self.symbol = symbol
        self.matches = tuple(matches)


class VenueStateError(VenueError):
    """The simulated venue's own state is missing or unreadable: it refuses to trade rather
    than invent a fresh account over the orders it has already filled."""
