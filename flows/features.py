"""Flow ``features``: clean lake market data in, ``features`` and ``option_features`` out.

Two stages, one task each (all symbols at once): per-perp features from ``ohlcv``,
``tickers`` and ``funding_rates``, then option-surface features from ``option_quotes`` (which
reads the realised vols the first stage stored). Each stage computes incrementally: the bars
(or chain snapshots) not yet featurised, plus the warm-up window they need, up to the last
bar closed at ``as_of``. Writes are idempotent upserts, so a retried or repeated run stores
nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.cluster import heavy_mapper
from flows.common import flow_settings, publish_table
from qbtc.features import compute_option_update, compute_perp_update
from qbtc.lake import write_dataset
from qbtc.parallel import Mapper, map_in_process
from qbtc.schemas import FEATURES, OPTION_FEATURES


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, timeout_seconds=1800)
def perp_features_task(
    lake_dir: Path,
    symbols: list[str],
    as_of: datetime,
    since: datetime | None = None,
    mapper: Mapper | None = None,
) -> dict[str, Any]:
    """Compute and store the ``features`` rows of every symbol not yet computed (the chunks
    of symbols on Dask when ``mapper`` sends them there)."""
    update = compute_perp_update(
        lake_dir, symbols, as_of=as_of, since=since, mapper=mapper or map_in_process
    )
    return update.summary(write_dataset(lake_dir, FEATURES, update.frame).rows_written)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, timeout_seconds=600)
def option_features_task(
    lake_dir: Path, underlyings: list[str], as_of: datetime, since: datetime | None = None
) -> dict[str, Any]:
    """Compute and store the ``option_features`` rows of new chain snapshots."""
    update = compute_option_update(lake_dir, underlyings, as_of=as_of, since=since)
    return update.summary(write_dataset(lake_dir, OPTION_FEATURES, update.frame).rows_written)


@flow(name="features")
def features(
    as_of: datetime | None = None,
    symbols: list[str] | None = None,
    underlyings: list[str] | None = None,
    since: datetime | None = None,
    data_dir: str | None = None,
) -> dict[str, Any]:
    """Bring ``features`` and ``option_features`` up to the last bar closed at ``as_of``.

    ``as_of`` defaults to ``QBTC_AS_OF`` or the wall clock; ``symbols`` and ``underlyings``
    to ``QBTC_SYMBOLS`` and ``QBTC_OPTION_UNDERLYINGS``. ``since`` recomputes every bar and
    chain snapshot from that time on (back-fills, late data).
    """
    settings = flow_settings(
        as_of=as_of,
        symbols=symbols,
        option_underlyings=underlyings,
        data_dir=Path(data_dir) if data_dir else None,
    )
    moment = settings.as_of or datetime.now(UTC)
    with heavy_mapper(settings) as mapper:
        perps = perp_features_task(settings.lake_dir, settings.symbols, moment, since, mapper)
    options = option_features_task(settings.lake_dir, settings.option_underlyings, moment, since)
    rows = [{k: v for k, v in stage.items() if k != "keys"} for stage in (perps, options)]
    publish_table("features", rows, f"Features up to {moment:%Y-%m-%d %H:%M} UTC")
    return {"as_of": moment.isoformat(), "features": perps, "option_features": options}
