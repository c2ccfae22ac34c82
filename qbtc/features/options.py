"""The ``option_features`` dataset: the implied-vol surface summarised per underlying and expiry.

For each option chain snapshot (``underlying``, ``expiry``, ``timestamp``) of ``option_quotes``:

- ``forward``: the median ``underlying_price`` of the expiry's quotes (the venue's forward for
  that expiry; USDT per coin). ``tenor_days``: ``expiry - timestamp`` in days (ACT/365 years
  are ``tenor_days / 365``).
- The smile: one mark IV per strike, from the out-of-the-money option (put below the forward,
  call at or above it; the other one when only it is quoted), both types averaged at most.
- ``atm_iv``: the smile interpolated linearly in log-moneyness ``ln(K / F)`` at the forward;
  no extrapolation: a snapshot without strikes on both sides of the forward has no row.
- 25-delta points: each strike's Black-76 forward delta (undiscounted, not premium-adjusted,
  computed with ``qbtc.pricing.greeks`` at the strike's own IV) for the OTM call or put; the
  IV is interpolated linearly in delta at +0.25 (calls) and -0.25 (puts), taking the crossing
  nearest the money. ``rr_25d = iv(25d call) - iv(25d put)``;
  ``bf_25d = (iv(25d call) + iv(25d put)) / 2 - atm_iv``. Null when a wing does not reach
  25 delta.
- ``term_slope``: ``d atm_iv / d years`` towards the next longer expiry of the same snapshot
  (the longest expiry uses the previous one); null with a single expiry.
- ``iv_minus_rv``: ``atm_iv`` minus the realised vol of the underlying's perp (by default
  ``rv_cc_1440`` of ``<UNDERLYING>/USDT:USDT`` from ``features``) at the last bar closed by the
  snapshot time (bar open + 1 minute <= timestamp). Null when that bar is older than
  ``max_realised_age``.

All IVs and vols are annualised fractions.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from qbtc.features.bars import BAR
from qbtc.schemas import OPTION_FEATURES

GROUP = ("underlying", "expiry", "timestamp")
DELTA_TARGET = 0.25
MICROSECONDS_PER_YEAR = 365.0 * 86_400.0 * 1e6
DEFAULT_MAX_REALISED_AGE = timedelta(minutes=15)
#: The perp whose realised vol an underlying's options are compared with: ``BTC`` ->
#: ``BTC/USDT:USDT``.
PERP_SUFFIX = "/USDT:USDT"


def perp_symbol(underlying: str) -> str:
    """The USDT-margined perp of an option underlying (``BTC`` -> ``BTC/USDT:USDT``)."""
    return f"{underlying}{PERP_SUFFIX}"


def _forward_delta(points: pl.Series) -> pl.Series:
    """Black-76 forward delta of a struct series (forward, strike, years, iv, is_call)."""
    from qbtc.pricing import greeks  # numpy/scipy, loaded only when a smile is built

    if points.len() == 0:
        return pl.Series([], dtype=pl.Float64)
    f, k, t, v, c = (points.struct.field(n).to_numpy() for n in points.struct.fields)
    delta = greeks(f, k, t, v, c.astype(bool)).delta
    return pl.Series(np.asarray(delta, dtype=np.float64), dtype=pl.Float64)


def build_smile(quotes: pl.LazyFrame) -> pl.LazyFrame:
    """One smile point per snapshot and strike: forward, years, OTM IV, log-moneyness, delta.

    Quotes without a positive finite mark IV, forward and strike, or already expired, are
    left out.
    """
    usable = quotes.filter(
        pl.col("mark_iv").is_finite()
        & (pl.col("mark_iv") > 0)
        & (pl.col("underlying_price") > 0)
        & (pl.col("strike") > 0)
        & (pl.col("expiry") > pl.col("timestamp"))
        & pl.col("option_type").is_in(["call", "put"])
    )
    forward = pl.col("underlying_price").median().over(GROUP)
    years = (pl.col("expiry") - pl.col("timestamp")).dt.total_microseconds()
    is_call = pl.col("option_type") == "call"
    points = (
        usable.with_columns(
            forward.alias("forward"), (years / MICROSECONDS_PER_YEAR).alias("years")
        )
        .with_columns((is_call == (pl.col("strike") >= pl.col("forward"))).alias("_otm"))
        .group_by(*GROUP, "strike")
        .agg(
            pl.col("forward").first(),
            pl.col("years").first(),
            pl.coalesce(
                pl.col("mark_iv").filter(pl.col("_otm")).mean(), pl.col("mark_iv").mean()
            ).alias("iv"),
        )
        .with_columns(
            (pl.col("strike") >= pl.col("forward")).alias("call_side"),
            (pl.col("strike") / pl.col("forward")).log().alias("log_moneyness"),
        )
    )
    inputs = pl.struct("forward", "strike", "years", "iv", "call_side")
    delta = inputs.map_batches(_forward_delta, return_dtype=pl.Float64)
    return points.with_columns(delta.alias("delta"))


def interpolate_at(
    points: pl.LazyFrame, *, x: str, y: str, target: float, descending: bool, name: str
) -> pl.LazyFrame:
    """``y`` linearly interpolated at ``x == target`` per snapshot group, as column ``name``.

    Points are walked by strike (``descending`` or not); the first segment that brackets
    ``target`` wins. Groups where no segment brackets it have no row.
    """
    ordered = points.sort(*GROUP, "strike", descending=[False] * len(GROUP) + [descending])
    x0, y0 = pl.col(x), pl.col(y)
    x1, y1 = x0.shift(-1).over(GROUP), y0.shift(-1).over(GROUP)
    brackets = ((x0 - target) * (x1 - target) <= 0) & (x1 != x0)
    value = pl.when(x0 == target).then(y0).otherwise(y0 + (y1 - y0) * (target - x0) / (x1 - x0))
    return (
        ordered.with_columns(value.alias(name), ((x0 == target) | brackets).alias("_hit"))
        .filter(pl.col("_hit"))
        .group_by(GROUP)
        .agg(pl.col(name).first())
    )


def surface_points(smile: pl.LazyFrame) -> pl.LazyFrame:
    """ATM IV and the 25-delta call and put IVs per snapshot group."""
    calls = smile.filter(pl.col("call_side"))
    puts = smile.filter(~pl.col("call_side"))
    base = smile.group_by(GROUP).agg(pl.col("forward").first(), pl.col("years").first())
    atm = interpolate_at(
        smile, x="log_moneyness", y="iv", target=0.0, descending=False, name="atm_iv"
    )
    call_25 = interpolate_at(
        calls, x="delta", y="iv", target=DELTA_TARGET, descending=False, name="_call_iv"
    )
    put_25 = interpolate_at(
        puts, x="delta", y="iv", target=-DELTA_TARGET, descending=True, name="_put_iv"
    )
    joined = base.join(atm, on=GROUP, how="inner")
    for wing in (call_25, put_25):
        joined = joined.join(wing, on=GROUP, how="left", nulls_equal=True)
    call_iv, put_iv = pl.col("_call_iv"), pl.col("_put_iv")
    return joined.with_columns(
        (call_iv - put_iv).alias("rr_25d"),
        ((call_iv + put_iv) / 2.0 - pl.col("atm_iv")).alias("bf_25d"),
    ).drop("_call_iv", "_put_iv")


def add_term_slope(surface: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``term_slope``: change of ATM IV per year of tenor to the neighbouring expiry."""
    snapshot = ("underlying", "timestamp")
    ordered = surface.sort(*snapshot, "years")
    iv, years = pl.col("atm_iv"), pl.col("years")
    ahead = (iv.shift(-1) - iv) / (years.shift(-1) - years)
    behind = (iv - iv.shift(1)) / (years - years.shift(1))
    slope = pl.coalesce(ahead.over(snapshot), behind.over(snapshot))
    return ordered.with_columns(pl.when(slope.is_finite()).then(slope).alias("term_slope"))


def add_implied_minus_realised(
    surface: pl.LazyFrame,
    realised: pl.LazyFrame,
    *,
    column: str = "rv_cc_1440",
    perp_suffix: str = PERP_SUFFIX,
    max_age: timedelta = DEFAULT_MAX_REALISED_AGE,
) -> pl.LazyFrame:
    """Add ``iv_minus_rv``: ATM IV minus the perp's realised vol known at the snapshot.

    ``realised`` holds ``features`` rows (``symbol``, ``timestamp``, ``column``); a bar's
    value is known at its close (``timestamp + 1 minute``).
    """
    perps = (
        realised.filter(pl.col("symbol").str.ends_with(perp_suffix))
        .select(
            pl.col("symbol").str.strip_suffix(perp_suffix).alias("underlying"),
            (pl.col("timestamp") + BAR).alias("_known_at"),
            pl.col(column).alias("_realised"),
        )
        .drop_nulls("_realised")
        .sort("_known_at")
    )
    joined = surface.sort("timestamp").join_asof(
        perps,
        left_on="timestamp",
        right_on="_known_at",
        by="underlying",
        strategy="backward",
        tolerance=max_age,
        check_sortedness=False,
    )
    return joined.with_columns((pl.col("atm_iv") - pl.col("_realised")).alias("iv_minus_rv"))


def compute_option_features(
    quotes: pl.LazyFrame,
    *,
    realised: pl.LazyFrame,
    max_realised_age: timedelta = DEFAULT_MAX_REALISED_AGE,
) -> pl.LazyFrame:
    """Rows of the ``option_features`` dataset from ``option_quotes`` rows (see module doc).

    Parameters
    ----------
    quotes
        Rows of the ``option_quotes`` dataset, any order.
    realised
        Rows of the ``features`` dataset (at least ``symbol``, ``timestamp``, ``rv_cc_1440``)
        covering the snapshots' times.
    max_realised_age
        Realised vol from a bar older than this gives a null ``iv_minus_rv``.

    Returns
    -------
    A lazy frame with exactly the ``option_features`` schema, sorted by its primary key.
    """
    surface = add_term_slope(surface_points(build_smile(quotes)))
    surface = add_implied_minus_realised(surface, realised, max_age=max_realised_age)
    tenor_days = (pl.col("years") * 365.0).alias("tenor_days")
    return (
        surface.with_columns(tenor_days)
        .select(list(OPTION_FEATURES.columns))
        .sort(*OPTION_FEATURES.primary_key)
    )
