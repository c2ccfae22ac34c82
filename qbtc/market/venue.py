"""Open the venue a run uses: the simulated venue (``sim``) or a ccxt exchange."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from qbtc.market.protocol import Exchange
from qbtc.market.sim.options import ChainDepth
from qbtc.market.sim.seam import TradingBackend

SIM = "sim"
#: Appended to the venue id in the ``source`` of rows from a testnet or demo environment.


def source_of(exchange: Exchange) -> str:
    """The ``source`` of rows fetched from ``exchange``: its id, ``<id>-testnet`` when the
    venue is a testnet or demo environment (so such rows never pass for real-venue rows)."""
    return str(getattr(exchange, "source", exchange.id))


def open_exchange(
    exchange_id: str,
    *,
    seed: int,
    as_of: datetime | None,
    symbols: Sequence[str],
    api_key: str | None = None,
    secret: str | None = None,
    testnet: bool = True,
    timeout_ms: int = 10_000,
    max_retries: int = 4,
    trading: TradingBackend | None = None,
    chain_depth: ChainDepth = "standard",
) -> Exchange:
    """The venue called ``exchange_id``.

    ``sim`` opens :class:`~qbtc.market.sim.SimExchange` (offline, deterministic in ``seed``,
    clock fixed at ``as_of`` or the wall clock) with ``trading`` as its trading side and
    option chains of ``chain_depth``. Any
    other id opens that ccxt exchange through :class:`~qbtc.market.ccxt_adapter.CcxtExchange`
    on its test environment unless ``testnet`` is False; ``as_of`` must then be None (a real
    venue has no fixed clock), ``seed`` and ``trading`` are ignored.
    Unknown symbols raise :class:`~qbtc.market.errors.UnknownSymbolError` (at once for the
    simulated venue, when markets load for a ccxt one).
    """
    if exchange_id == SIM:
        from qbtc.market.sim import SimExchange

        return SimExchange(
            seed=seed,
            as_of=as_of,
            symbols=tuple(symbols),
            trading=trading,
            chain_depth=chain_depth,
        )
    if as_of is not None:
        raise ValueError(
            f"--as-of replays the simulated venue only; {exchange_id} is a real venue whose "
            "clock cannot be fixed: drop --as-of or use --exchange sim"
        )
    from qbtc.market.ccxt_adapter import CcxtExchange

    return CcxtExchange.create(
        exchange_id,
        api_key=api_key,
        secret=secret,
        testnet=testnet,
        timeout_ms=timeout_ms,
        max_retries=max_retries,
        symbols=tuple(symbols),
    )
