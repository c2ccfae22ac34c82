"""Delta hedging with perps: keep each underlying's net delta near its directional target.

The directional target of an underlying is the perp position its signal asks for. Options
on that underlying add their delta, so the perp that carries the view must also offset it:
``perp target = directional target - options delta`` (coins). To avoid trading on every
small move, the perp is only re-traded when it is more than ``band_usd`` away from that
target; inside the band the current position stays.
"""

from __future__ import annotations

from collections.abc import Mapping


def hedged_perp_targets(
    directional: Mapping[str, float],
    current: Mapping[str, float],
    options_delta: Mapping[str, float],
    prices: Mapping[str, float],
    *,
    band_usd: float,
) -> dict[str, float]:
    """Perp targets (coins, signed) per symbol after delta hedging.

    Parameters
    ----------
    directional : mapping
        Perp symbol -> target position (coins) from signals. Symbols absent here keep their
        current position (no view this cycle: no trade, no hedge).
    current : mapping
        Perp symbol -> current position (coins).
    options_delta : mapping
        Perp symbol used as hedge -> net delta of the options on its underlying (coins).
    prices : mapping
        Perp symbol -> mark price (USDT).
    band_usd : float
        No-trade band: the largest tolerated gap between position and target, in USDT of
        delta.
    """
    if band_usd < 0:
        raise ValueError(f"band_usd must be non-negative, got {band_usd}")
    targets = {}
    for symbol, wanted in directional.items():
        target = wanted - options_delta.get(symbol, 0.0)
        held = current.get(symbol, 0.0)
        gap = abs(target - held) * prices[symbol]
        targets[symbol] = held if gap <= band_usd else target
    return targets
