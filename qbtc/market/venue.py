"""Open the venue a run uses: the simulated venue (``sim``) or a ccxt exchange."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import polars as pl

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
    base_url: str | None = None,
) -> Exchange:
    """The venue called ``exchange_id``.

    ``sim`` opens :class:`~qbtc.market.sim.SimExchange` (offline, deterministic in ``seed``,
    clock fixed at ``as_of`` or the wall clock) with ``trading`` as its trading side and
    option chains of ``chain_depth``. Any
    other id opens that ccxt exchange through :class:`~qbtc.market.ccxt_adapter.CcxtExchange`
    on its test environment unless ``testnet`` is False; ``as_of`` must then be None (a real
    venue has no fixed clock), ``seed`` and ``trading`` are ignored; ``base_url`` sends its
    requests to a gateway (or a local stub) instead of the venue's own hosts.
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
        base_url=base_url,
    )


SIM_VENUE_FILE = "sim_venue.json"
"""State file (under the data dir's state directory) naming the seed of its simulated market."""


class VenueSeedError(ValueError):
    """A run asked for another seed of the simulated venue than its data dir holds."""


def check_sim_seed(state_dir: Path, seed: int, *, lake_dir: Path | None = None) -> None:
    """Bind the simulated venue's seed to its data dir: record it on first use, refuse another.

    The simulated market is one price path per seed. Bars, tickers, option quotes, fills and
    the equity history of a data dir all come from that path; a second seed would mix two
    markets in one book (its bars quarantined as jumps, its marks valuing the positions).
    A data dir from before this record is bound to the seed of its first recorded run
    (``lake_dir``'s ``runs``).
    """
    from qbtc.statefile import exclusive_lock, write_json_atomic

    path = state_dir / SIM_VENUE_FILE
    with exclusive_lock(state_dir / f"{SIM_VENUE_FILE}.lock"):
        if path.exists():
            try:
                held = int(json.loads(path.read_text(encoding="utf-8"))["seed"])
            except (ValueError, KeyError, TypeError) as exc:
                raise VenueSeedError(
                    f"{path} is unreadable ({exc}): restore it or delete it to bind this data "
                    "dir to a seed again"
                ) from None
            if held != seed:
                raise VenueSeedError(
                    f"this data dir holds the simulated market of seed {held}; seed {seed} would "
                    f"mix two price paths in one book: use seed {held}, or another QBTC_DATA_DIR "
                    f"for seed {seed}"
                )
            return
        first = first_run_seed(lake_dir) if lake_dir is not None else None
        write_json_atomic(path, {"exchange": SIM, "seed": int(seed if first is None else first)})
    if first is not None and first != seed:
        check_sim_seed(state_dir, seed)  # refuses, naming the recorded seed


def first_run_seed(lake_dir: Path) -> int | None:
    """The seed of the first cycle recorded in the lake, or None when there is none."""
    from qbtc.lake import read_dataset

    runs = read_dataset(lake_dir, "runs").filter(pl.col("seed").is_not_null())
    if runs.is_empty():
        return None
    return int(runs.sort("timestamp")["seed"][0])
