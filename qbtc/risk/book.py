"""The book as arrays: perpetual and option legs grouped by underlying, ready to revalue.

Quantities are signed (long > 0) in coins of the underlying (one option contract = one coin).
Prices are in USDT. Option values are the Black-76 USDT value of one contract, for linear and
inverse (coin-settled) options alike: an inverse option pays ``max(S - K, 0) / S`` coins,
which is worth the same ``max(S - K, 0)`` USDT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def _floats(values: ArrayLike, n: int, name: str) -> Floats:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.shape != (n,) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold {n} finite values, got {array.shape}")
    return array


@dataclass(frozen=True)
class PerpLegs:
    """Perpetual positions: symbol, underlying index, signed quantity (coins), mark (USDT)."""

    symbols: tuple[str, ...] = ()
    underlying: Ints = field(default_factory=lambda: np.zeros(0, np.int64))
    quantity: Floats = field(default_factory=lambda: np.zeros(0))
    price: Floats = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        n = len(self.symbols)
        object.__setattr__(self, "underlying", np.asarray(self.underlying, np.int64).reshape(n))
        object.__setattr__(self, "quantity", _floats(self.quantity, n, "perp quantity"))
        object.__setattr__(self, "price", _floats(self.price, n, "perp price"))
        if np.any(self.price <= 0):
            raise ValueError("perp mark prices must be positive")

    @property
    def size(self) -> int:
        return len(self.symbols)


@dataclass(frozen=True)
class OptionLegs:
    """Option positions and their marks.

    ``forward`` and ``strike`` in USDT, ``expiry`` in years (ACT/365) from the valuation
    time, ``vol`` the annualised implied vol (fraction), ``is_call`` booleans.
    """

    symbols: tuple[str, ...] = ()
    underlying: Ints = field(default_factory=lambda: np.zeros(0, np.int64))
    quantity: Floats = field(default_factory=lambda: np.zeros(0))
    forward: Floats = field(default_factory=lambda: np.zeros(0))
    strike: Floats = field(default_factory=lambda: np.zeros(0))
    expiry: Floats = field(default_factory=lambda: np.zeros(0))
    vol: Floats = field(default_factory=lambda: np.zeros(0))
    is_call: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        n = len(self.symbols)
        object.__setattr__(self, "underlying", np.asarray(self.underlying, np.int64).reshape(n))
        for name in ("quantity", "forward", "strike", "expiry", "vol"):
            object.__setattr__(self, name, _floats(getattr(self, name), n, f"option {name}"))
        object.__setattr__(self, "is_call", np.asarray(self.is_call, bool).reshape(n))
        if np.any(self.forward <= 0) or np.any(self.strike <= 0):
            raise ValueError("option forwards and strikes must be positive")
        if np.any(self.vol <= 0) or np.any(self.expiry < 0):
            raise ValueError("option vols must be positive and expiries non-negative")

    @property
    def size(self) -> int:
        return len(self.symbols)


#: No leg: the default of a book without perps or without options (one shared instance,
#: not validated again for every one-leg book a cycle builds).
NO_PERPS = PerpLegs()
NO_OPTIONS = OptionLegs()


@dataclass(frozen=True)
class Book:
    """Positions of one portfolio on one set of marks.

    ``spot`` holds one USDT price per underlying (the perp mark or the index), in the order
    of ``underlyings``; legs refer to underlyings by index.
    """

    underlyings: tuple[str, ...]
    spot: Floats
    perps: PerpLegs = field(default_factory=lambda: NO_PERPS)
    options: OptionLegs = field(default_factory=lambda: NO_OPTIONS)

    def __post_init__(self) -> None:
        u = len(self.underlyings)
        object.__setattr__(self, "spot", _floats(self.spot, u, "spot"))
        if np.any(self.spot <= 0):
            raise ValueError("spot prices must be positive")
        for legs in (self.perps, self.options):
            if legs.size and (legs.underlying.min() < 0 or legs.underlying.max() >= u):
                raise ValueError("a leg refers to an unknown underlying index")

    @property
    def is_empty(self) -> bool:
        return self.perps.size == 0 and self.options.size == 0

    def with_perp_trade(self, symbol: str, underlying: str, quantity: float, price: float) -> Book:
        """A copy with ``quantity`` coins of perp ``symbol`` added (a new leg when not held)."""
        u = self.underlyings.index(underlying)
        legs = self.perps
        if symbol in legs.symbols:
            qty = legs.quantity.copy()
            qty[legs.symbols.index(symbol)] += quantity
            perps = PerpLegs(legs.symbols, legs.underlying, qty, legs.price)
        else:
            perps = PerpLegs(
                (*legs.symbols, symbol),
                np.append(legs.underlying, u),
                np.append(legs.quantity, quantity),
                np.append(legs.price, price),
            )
        return Book(self.underlyings, self.spot, perps, self.options)


def one_coin_perps(
    symbols: Sequence[str],
    underlying: Sequence[int],
    price: Sequence[float],
    underlyings: tuple[str, ...],
    spot: Floats,
) -> list[Book]:
    """A book of one coin long of each perp ``symbols[k]`` (underlying index, mark).

    The same books as ``Book(underlyings, spot, PerpLegs((symbol,), [index], [1.0],
    [price]))`` one by one, whose checks are made here once over all of them (a cycle builds
    one per tradable perp); when a check fails, the books are built one by one and the first
    bad one says what is wrong.
    """
    n = len(symbols)
    index = np.asarray(underlying, dtype=np.int64).reshape(-1)
    prices = np.asarray(price, dtype=np.float64).reshape(-1)
    spots = np.asarray(spot, dtype=np.float64).reshape(-1)
    u = len(underlyings)
    valid = (
        index.shape == (n,)
        and prices.shape == (n,)
        and spots.shape == (u,)
        and bool(np.all(np.isfinite(prices)) and np.all(prices > 0))
        and bool(np.all(np.isfinite(spots)) and np.all(spots > 0))
        and (n == 0 or (int(index.min()) >= 0 and int(index.max()) < u))
    )
    if not valid:
        return [
            Book(underlyings, spot, PerpLegs((s,), np.array([i]), np.ones(1), np.array([p])))
            for s, i, p in zip(symbols, underlying, price, strict=True)
        ]
    quantity = np.ones(n)
    books = []
    for k, symbol in enumerate(symbols):
        # the instances made without __post_init__: its checks were made above, over all
        legs = object.__new__(PerpLegs)
        legs.__dict__.update(
            symbols=(symbol,),
            underlying=index[k : k + 1],
            quantity=quantity[k : k + 1],
            price=prices[k : k + 1],
        )
        book = object.__new__(Book)
        book.__dict__.update(underlyings=underlyings, spot=spots, perps=legs, options=NO_OPTIONS)
        books.append(book)
    return books
