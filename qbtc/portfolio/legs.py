"""Incomplete option structures: a leg held at less than the structure's size.

Every leg of a straddle or strangle has one size. Option limit orders at the touch often
fill one side only (the rest of an order rests at the venue, or is gone), so a structure can
be held lopsided: one leg at its size, another at less or not at all. The legs of a structure
are the symbols its accepted intents traded (``structure_ids``: symbol -> structure id); its
size is its largest held leg, and its direction that leg's sign.

The rule (see the README, "The options leg"): the hedge keeps the book's delta inside its band
meanwhile; the next cycle completes a structure it keeps (an order for the missing quantity
of each short leg at the quote then, leg ``complete``), less what an order still working at
the venue will bring; a structure it closes or rolls is closed whole, as any other. The book
as shown flags every incomplete structure.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Relative difference of two legs' sizes still counted as equal (lot rounding aside).
SIZE_TOLERANCE = 1e-9


def missing_legs(
    holdings: Mapping[str, float], structure_ids: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """``structure id -> {leg symbol: signed quantity missing}`` of every held structure
    with a leg short of its size (coins; a long structure misses positive quantities)."""
    legs_of: dict[str, list[str]] = {}
    for symbol, sid in structure_ids.items():
        legs_of.setdefault(sid, []).append(symbol)
    out: dict[str, dict[str, float]] = {}
    for sid, symbols in sorted(legs_of.items()):
        held = {s: float(holdings.get(s, 0.0)) for s in sorted(symbols)}
        largest = max(held.values(), key=abs)
        size = abs(largest)
        if size == 0:
            continue
        sign = 1.0 if largest > 0 else -1.0
        missing = {
            s: sign * (size - abs(q))
            for s, q in held.items()
            if size - abs(q) > SIZE_TOLERANCE * size
        }
        if missing:
            out[sid] = missing
    return out


def describe_missing(missing: Mapping[str, float], holdings: Mapping[str, float]) -> str:
    """One line: each short leg, what is held of it and the size it lacks."""
    return "; ".join(
        f"{symbol} held {holdings.get(symbol, 0.0):g}, {quantity:+g} to the structure's size"
        for symbol, quantity in sorted(missing.items())
    )
