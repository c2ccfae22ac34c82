"""Symbol helpers: ccxt unified symbols and their slash-free keys for partitions and URLs."""

from __future__ import annotations

import difflib
import re

_KEY_RE = re.compile(r"[^A-Za-z0-9]+")


def symbol_key(symbol: str) -> str:
    """Slash-free key of a ccxt symbol: ``BTC/USDT:USDT`` -> ``BTC-USDT-USDT``.

    Hive partition values are URL-encoded by DuckDB, so partitions use this key instead of
    the raw symbol. The mapping is one-to-one for ccxt symbols (``/``, ``:`` and ``-`` all
    become ``-``; ccxt never uses two of them in a row).
    """
    if not symbol:
        raise ValueError("empty symbol")
    return _KEY_RE.sub("-", symbol).strip("-")


def base_currency(symbol: str) -> str:
    """Base currency of a ccxt symbol: ``BTC/USDT:USDT`` -> ``BTC``."""
    return symbol.split("/", 1)[0]


def close_matches(symbol: str, universe: list[str] | tuple[str, ...], n: int = 3) -> list[str]:
    """Symbols of ``universe`` that look like ``symbol`` (for 'did you mean' errors)."""
    upper = symbol.upper()
    by_base = [s for s in universe if base_currency(s).upper() == base_currency(upper)]
    fuzzy = difflib.get_close_matches(upper, list(universe), n=n, cutoff=0.5)
    seen: dict[str, None] = dict.fromkeys(by_base + fuzzy)
    return list(seen)[:n]
