"""The ``rules`` provider over many feature snapshots at once: one vectorised pass.

A backtest asks the rules at every decision time; :func:`rules_signal_frames` answers all of
them from one frame of feature rows instead of one snapshot at a time. The arithmetic is
:func:`qbtc.signals.rules.decide`'s, operation for operation and in the same order (weighted
sums from zero, ``math.tanh``, Python's ``round``), so every strength, confidence and
rationale equals the per-snapshot answer to the bit (``tests/signals/test_rules_batch.py``
compares them). Option surfaces (the skew component and the rich-IV multiplier of BTC and
ETH) are taken per snapshot as :func:`~qbtc.signals.inputs.surface_by_underlying` picks them,
and the volatility views per snapshot as :meth:`RulesProvider.vol_views` gives them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby, repeat
from operator import itemgetter

import numpy as np
import polars as pl

from qbtc.schemas import SIGNALS, VOL_VIEWS
from qbtc.signals.inputs import surface_by_underlying, universe_of
from qbtc.signals.model import SnapshotLike, signal_ids
from qbtc.signals.rules import FUNDINGS_PER_YEAR, RULES_MODEL, RuleParameters, RulesProvider
from qbtc.signals.volview import vol_views_frame
from qbtc.symbols import base_currency

#: The option surface inputs the rules read (see :class:`qbtc.signals.inputs.SymbolInputs`).
SURFACE_FIELDS = ("atm_iv", "rr_25d", "iv_minus_rv")


def _values(frame: pl.DataFrame, name: str) -> np.ndarray:
    """A column as floats, NaN where the per-row inputs hold ``None`` (null or not finite)."""
    values = frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
    return np.where(np.isfinite(values), values, np.nan)


def _optional(frame: pl.DataFrame, name: str) -> np.ndarray:
    """:func:`_values` of a column the frame may lack (all NaN then)."""
    return _values(frame, name) if name in frame.columns else np.full(frame.height, np.nan)


def _tanh(values: np.ndarray) -> np.ndarray:
    """``math.tanh`` element-wise (NaN stays NaN): the per-row rules' function exactly."""
    return np.fromiter(map(math.tanh, values.tolist()), dtype=np.float64, count=values.size)


def _rounded(values: np.ndarray) -> list[float]:
    return list(map(round, values.tolist(), repeat(4)))


def _signed(value: float) -> str:
    return f"{value:+.2f}"


def _ratio_text(value: float) -> str:
    return "na" if math.isnan(value) else f"{value:.2f}"


def decide_frame(perps: pl.DataFrame, params: RuleParameters) -> pl.DataFrame:
    """:func:`~qbtc.signals.rules.decide` on every ``features`` row of ``perps`` (with the
    :data:`SURFACE_FIELDS` of its underlying as columns where it has an option surface):
    ``direction``, ``strength``, ``confidence`` and ``rationale`` per row, in order."""
    zscore, momentum = _values(perps, "zscore_240"), _values(perps, "momentum_240")
    trend = _tanh(zscore / params.trend_z_scale)
    trend = np.where(momentum * zscore < 0, trend * 0.5, trend)
    funding = _values(perps, "funding_rate") * FUNDINGS_PER_YEAR
    basis = _values(perps, "basis_annualized")
    has_f, has_b = ~np.isnan(funding), ~np.isnan(basis)
    count = has_f.astype(np.float64) + has_b
    summed = (0.0 + np.where(has_f, funding, 0.0)) + np.where(has_b, basis, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        carry = -_tanh(np.where(count > 0, summed / count, np.nan) / params.carry_scale)
    rr, atm = _optional(perps, "rr_25d"), _optional(perps, "atm_iv")
    has_options = ~np.isnan(rr) | ~np.isnan(atm)
    skew = _tanh(rr / params.skew_scale)
    parts = (
        ("trend", params.trend_weight, trend, np.ones(perps.height, dtype=bool)),
        ("carry", params.carry_weight, carry, np.ones(perps.height, dtype=bool)),
        ("skew", params.skew_weight, skew, has_options),
    )
    applicable = np.where(
        has_options,
        0.0 + params.trend_weight + params.carry_weight + params.skew_weight,
        0.0 + params.trend_weight + params.carry_weight,
    )
    weight_sum = weighted = absolute = np.zeros(perps.height)
    for _, weight, component, applies in parts:
        present = ~np.isnan(component) & applies
        weight_sum = weight_sum + np.where(present, weight, 0.0)
        weighted = weighted + np.where(present, weight * component, 0.0)
        absolute = absolute + np.where(present, weight * np.abs(component), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(weight_sum != 0, weighted / weight_sum, 0.0)
        agreement = np.where(absolute != 0, np.abs(weighted) / absolute, 0.0)
        rv, ewma = _values(perps, "rv_cc_60"), _values(perps, "ewma_vol")
        ratio = np.where(~np.isnan(rv) & ~np.isnan(ewma) & (ewma != 0), rv / ewma, np.nan)
    rank = _values(perps, "rank_rv_cc_60")
    stressed = (ratio >= params.stress_ratio) | (rank >= params.stress_rank)
    multiplier = np.where(stressed, 1.0 * params.stress_multiplier, 1.0)
    iv_spread = _optional(perps, "iv_minus_rv")
    rich = iv_spread >= params.rich_iv_spread
    multiplier = np.where(rich, multiplier * params.rich_iv_multiplier, multiplier)
    confidence = _rounded(agreement * weight_sum / applicable)
    strength = [
        0.0 if abs(s) < params.flat_threshold else s
        for s in _rounded(np.maximum(-1.0, np.minimum(1.0, score * multiplier)))
    ]
    # the rationale's words a column at a time from Python floats (None where a row has none)
    words = [
        [
            f"{name} {_signed(v)}" if shown else None
            for v, shown in zip(c.tolist(), shows, strict=True)
        ]
        for name, _, c, applies in parts
        for shows in [(applies & ~np.isnan(c)).tolist()]
    ]
    words.append(
        [
            f"stressed vol (rv/ewma={_ratio_text(r)}, rank={_ratio_text(k)})" if shown else None
            for r, k, shown in zip(ratio.tolist(), rank.tolist(), stressed.tolist(), strict=True)
        ]
    )
    words.append(
        [
            f"rich implied vol (iv-rv={v:+.3f})" if shown else None
            for v, shown in zip(iv_spread.tolist(), rich.tolist(), strict=True)
        ]
    )
    words.append([f"score {v:+.3f}" for v in score.tolist()])
    rationale = ["; ".join(filter(None, row)) for row in zip(*words, strict=True)]
    return pl.DataFrame(
        {
            "direction": ["long" if s > 0 else "short" if s < 0 else "flat" for s in strength],
            "strength": strength,
            "confidence": confidence,
            "rationale": rationale,
        },
        schema={k: SIGNALS.schema[k] for k in ("direction", "strength", "confidence", "rationale")},
    )


def rules_signal_frames(
    provider: RulesProvider, snapshots: Sequence[SnapshotLike], *, run_id: str
) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """The ``signals`` and ``vol_views`` rows :meth:`RulesProvider.propose` gives for each
    snapshot (sorted by symbol and underlying; ``created_at`` now), the signals from one
    pass over all of them."""
    if not snapshots:
        return []
    heights = [s.perps.height for s in snapshots]
    rows = pl.concat([s.perps for s in snapshots], how="vertical_relaxed").with_columns(
        _index=pl.Series(np.repeat(np.arange(len(snapshots)), heights), dtype=pl.Int64)
    )
    if provider.symbols is not None:
        rows = rows.filter(pl.col("symbol").is_in(list(provider.symbols)))
    if not _by_index_and_symbol(rows):  # one row per symbol, the newest
        rows = (
            rows.sort("_index", "timestamp")
            .unique(subset=["_index", "symbol"], keep="last")
            .sort("_index", "symbol")
        )
    counts = np.bincount(rows["_index"].to_numpy(), minlength=len(snapshots))
    for position, snapshot in enumerate(snapshots):
        if not counts[position]:
            universe_of(snapshot, provider.symbols)  # raises with what to run first
    index = rows["_index"].to_list()
    symbols = rows["symbol"].to_list()
    decided = decide_frame(
        rows.with_columns(**_surface_columns(snapshots, index, symbols)), provider.parameters
    )
    bars = [s.timestamp for s in snapshots]
    ids = [s.snapshot_id for s in snapshots]
    names: list[str] = []
    for i, group in groupby(zip(index, symbols, strict=True), key=itemgetter(0)):
        named = [symbol for _, symbol in group]
        names += signal_ids(provider.name, RULES_MODEL, named, bars[i], ids[i])
    created = datetime.now(UTC)
    at = rows["_index"]
    frame = decided.with_columns(
        signal_id=pl.Series(names, dtype=pl.String),
        run_id=pl.lit(run_id, pl.String),
        symbol=rows["symbol"],
        timestamp=pl.Series(bars, dtype=SIGNALS.schema["timestamp"]).gather(at),
        horizon_minutes=pl.lit(provider.parameters.horizon_minutes, pl.Int64),
        provider=pl.lit(provider.name, pl.String),
        model=pl.lit(RULES_MODEL, pl.String),
        feature_snapshot=pl.Series(ids, dtype=pl.String).gather(at),
        fallback_reason=pl.lit(None, pl.String),
        created_at=pl.lit(created, SIGNALS.schema["created_at"]),
    ).select(list(SIGNALS.columns))
    ends = np.cumsum(counts).tolist()
    no_signals, no_views = SIGNALS.empty(), VOL_VIEWS.empty()  # shared: frames are immutable
    return [
        (
            frame.slice(end - n, n) if n else no_signals,
            _vol_views(provider, snapshot, run_id) if snapshot.options.height else no_views,
        )
        for snapshot, n, end in zip(snapshots, counts.tolist(), ends, strict=True)
    ]


def _by_index_and_symbol(rows: pl.DataFrame) -> bool:
    """Whether ``rows`` are in (``_index``, ``symbol``) order with no pair twice (as the
    snapshots give them): then there is nothing to sort or drop."""
    step = pl.col("_index").diff()
    ordered = (step > 0) | ((step == 0) & (pl.col("symbol") > pl.col("symbol").shift()))
    return bool(rows.select(ordered.fill_null(True).all()).item())


def _surface_columns(
    snapshots: Sequence[SnapshotLike], index: list[int], symbols: list[str]
) -> dict[str, pl.Series]:
    """Each row's option surface inputs (those of its symbol's underlying in its snapshot)."""
    surfaces = [surface_by_underlying(s.options) if s.options.height else {} for s in snapshots]
    if not any(surfaces):  # no option chains (a perps-only universe): every input is null
        nulls = pl.Series([None] * len(index), dtype=pl.Float64)
        return dict.fromkeys(SURFACE_FIELDS, nulls)
    picked = [
        surfaces[i].get(base_currency(symbol), {}) for i, symbol in zip(index, symbols, strict=True)
    ]
    return {
        name: pl.Series([surface.get(name) for surface in picked], dtype=pl.Float64)
        for name in SURFACE_FIELDS
    }


def _vol_views(provider: RulesProvider, snapshot: SnapshotLike, run_id: str) -> pl.DataFrame:
    return vol_views_frame(provider.vol_views(snapshot, run_id=run_id)).sort("underlying")
