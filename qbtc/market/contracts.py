"""Option contract symbols in ccxt form: ``BTC/USDT:USDT-261127-90000-C``.

``base/quote:settle-YYMMDD-strike-C|P``. Options expire at 08:00 UTC on their expiry date
(Binance, Deribit, OKX and Bybit all do). Settlement is ``linear`` when the premium is paid
in the settle currency that is not the base (USDT, USDC) and ``inverse`` when it is the base
(Deribit's BTC options: ``BTC/USD:BTC-...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EXPIRY_HOUR_UTC = 8
_OPTION_RE = re.compile(
    r"^(?P<base>[A-Z0-9]+)/(?P<quote>[A-Z0-9]+):(?P<settle>[A-Z0-9]+)-"
    r"(?P<date>\d{6})-(?P<strike>\d+(?:\.\d+)?)-(?P<kind>[CP])$"
)


@dataclass(frozen=True)
class OptionContract:
    """A parsed option symbol. ``strike`` in the quote currency; ``expiry`` UTC-aware."""

    symbol: str
    base: str
    quote: str
    settle: str
    expiry: datetime
    strike: float
    option_type: str

    @property
    def settlement(self) -> str:
        """``inverse`` when the option settles in its base currency, else ``linear``."""
        return "inverse" if self.settle == self.base else "linear"

    @property
    def is_call(self) -> bool:
        return self.option_type == "call"


def is_option_symbol(symbol: str) -> bool:
    """Whether ``symbol`` has the ccxt option form."""
    return _OPTION_RE.match(symbol) is not None


def parse_option_symbol(symbol: str) -> OptionContract:
    """Parse a ccxt option symbol; a clear :class:`ValueError` for anything else."""
    match = _OPTION_RE.match(symbol)
    if match is None:
        raise ValueError(
            f"{symbol!r} is not a ccxt option symbol; expected e.g. BTC/USDT:USDT-261127-90000-C"
        )
    text = match["date"]  # YYMMDD, always in the 2000s (strptime's %y would map 69-99 to 19xx)
    day = datetime(2000 + int(text[:2]), int(text[2:4]), int(text[4:]), tzinfo=UTC)
    return OptionContract(
        symbol=symbol,
        base=match["base"],
        quote=match["quote"],
        settle=match["settle"],
        expiry=day + timedelta(hours=EXPIRY_HOUR_UTC),
        strike=float(match["strike"]),
        option_type="call" if match["kind"] == "C" else "put",
    )


def format_strike(strike: float) -> str:
    """Strike as venues print it: ``90000``, ``0.65``."""
    return f"{strike:.8f}".rstrip("0").rstrip(".")


def option_symbol(base: str, settle: str, expiry: datetime, strike: float, is_call: bool) -> str:
    """The ccxt symbol of a linear option settled in ``settle`` (quote = settle)."""
    kind = "C" if is_call else "P"
    return f"{base}/{settle}:{settle}-{expiry:%y%m%d}-{format_strike(strike)}-{kind}"
