"""latest_snapshot: the rows a decision uses, closed bars only, and a stable content id."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from qbtc.features import FeatureSnapshot, FeaturesNotFoundError, latest_snapshot
from qbtc.features.snapshot import _canonical, canonical_lines, snapshot_id
from qbtc.lake import write_dataset
from qbtc.schemas import FEATURES, OPTION_FEATURES
from tests.features.fixtures import MINUTE, T0

SYMBOLS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]


def _features(symbol: str, minutes: range) -> pl.DataFrame:
    rows = [
        {"symbol": symbol, "timestamp": T0 + m * MINUTE, "close": 100.0 + m, "ret_1": 0.001 * m}
        for m in minutes
    ]
    full = [{name: row.get(name) for name in FEATURES.columns} for row in rows]
    return pl.DataFrame(full, schema=FEATURES.schema)


def _surface(underlying: str, at, expiries: tuple[int, ...] = (7, 30)) -> pl.DataFrame:
    rows = [
        {"underlying": underlying, "expiry": at + timedelta(days=d), "timestamp": at,
         "tenor_days": float(d), "forward": 50_000.0, "atm_iv": 0.5 + d / 1000, "rr_25d": None,
         "bf_25d": None, "term_slope": None, "iv_minus_rv": None}
        for d in expiries
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=OPTION_FEATURES.schema)


@pytest.fixture
def lake(lake_dir):
    write_dataset(lake_dir, FEATURES, _features("BTC/USDT:USDT", range(10)))
    write_dataset(lake_dir, FEATURES, _features("ETH/USDT:USDT", range(8)))
    write_dataset(lake_dir, FEATURES, _features("SOL/USDT:USDT", range(10)))
    for minutes in (2, 6, 20):
        write_dataset(lake_dir, OPTION_FEATURES, _surface("BTC", T0 + minutes * MINUTE))
    return lake_dir


def test_one_row_per_symbol_at_its_last_closed_bar(lake):
    snap = latest_snapshot(lake, SYMBOLS, T0 + 9 * MINUTE + timedelta(seconds=59))
    assert isinstance(snap, FeatureSnapshot)
    # Bar 9 closes at minute 10: at 9:59 the last closed BTC bar is 8; ETH's last is 7.
    assert snap.perps.get_column("symbol").to_list() == SYMBOLS
    assert snap.perps.get_column("timestamp").to_list() == [T0 + 8 * MINUTE, T0 + 7 * MINUTE]
    assert snap.timestamp == T0 + 8 * MINUTE
    assert snap.perps.schema == FEATURES.schema


def test_options_are_the_latest_chain_snapshot_at_or_before_as_of(lake):
    snap = latest_snapshot(lake, SYMBOLS, T0 + 10 * MINUTE)
    assert snap.options.height == 2
    assert set(snap.options.get_column("timestamp")) == {T0 + 6 * MINUTE}
    assert snap.options.schema == OPTION_FEATURES.schema


def test_snapshot_id_is_a_stable_hash_of_the_rows(lake):
    as_of = T0 + 9 * MINUTE
    first, again = latest_snapshot(lake, SYMBOLS, as_of), latest_snapshot(lake, SYMBOLS, as_of)
    assert first.snapshot_id == again.snapshot_id
    assert len(first.snapshot_id) == 64
    assert first.snapshot_id == snapshot_id(first.perps, first.options)
    later = latest_snapshot(lake, SYMBOLS, as_of + MINUTE)  # BTC bar 9 has closed
    assert later.snapshot_id != first.snapshot_id
    assert latest_snapshot(lake, SYMBOLS, as_of + 5 * MINUTE).snapshot_id == later.snapshot_id
    changed = first.perps.with_columns(pl.col("close") + 1e-12)
    assert snapshot_id(changed, first.options) != first.snapshot_id


def test_snapshot_id_does_not_depend_on_the_process():
    perps = _features("BTC/USDT:USDT", range(2))
    options = _surface("BTC", T0)
    # Golden value: a change of the canonical form would change every id already stored.
    assert snapshot_id(perps.clone(), options.clone()) == GOLDEN_ID


GOLDEN_ID = "2186b86acc8172e8ed4161eeecf5df93e45a362e07e0867da11e368a7f8f3276"


def test_no_features_yet_says_what_to_run(lake_dir):
    with pytest.raises(FeaturesNotFoundError, match="run `qbtc ingest` and the features flow"):
        latest_snapshot(lake_dir, SYMBOLS, T0)


def test_naive_as_of_is_refused(lake):
    with pytest.raises(ValueError, match="timezone-aware"):
        latest_snapshot(lake, SYMBOLS, T0.replace(tzinfo=None))


def _reference_id(perps: pl.DataFrame, options: pl.DataFrame) -> str:
    """snapshot_id as first written: value by value, row by row (the canonical form)."""
    digest = hashlib.sha256()
    for frame in (perps, options):
        digest.update(json.dumps(frame.columns).encode())
        for row in frame.iter_rows():
            digest.update(json.dumps([_canonical(v) for v in row]).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _odd_features() -> pl.DataFrame:
    """Rows with every value polars writes unlike Python: tiny floats, NaN, infinities,
    nulls, microseconds, a symbol that needs escapes."""
    values = [0.0, -0.0, 1e-05, -2.5e-07, 1e16, 123.456, math.nan, math.inf, -math.inf, None,
              5e-324, 0.1 + 0.2]  # fmt: skip
    names = ["BTC/USDT:USDT", 'Wéird "sym"\\', "ETH/USDT:USDT"]
    rows = []
    for i in range(len(values)):
        row: dict[str, object] = {"symbol": names[i % 3]}
        row["timestamp"] = T0 + timedelta(minutes=i, microseconds=7 * (i % 2))
        for j, name in enumerate(list(FEATURES.columns)[2:]):
            row[name] = values[(i + j) % len(values)]
        rows.append(row)
    return pl.DataFrame(rows, schema=FEATURES.schema)


def test_ids_of_odd_values_are_those_already_stored():
    options = _surface("BTC", T0).with_columns(
        rr_25d=pl.lit(-3e-05), term_slope=pl.lit(math.nan), atm_iv=pl.lit(0.55)
    )
    # pinned by the per-row form that wrote the ids in the lake; the vectorised one must agree
    assert snapshot_id(_odd_features(), options) == ODD_VALUES_ID
    assert snapshot_id(FEATURES.empty(), OPTION_FEATURES.empty()) == EMPTY_ID


ODD_VALUES_ID = "29fd1210021ac315ef68353a7904f0ecbdb03b338b2a19214185ca46e0dd6593"
EMPTY_ID = "b1300796e29f00715925aaa7f4dee41707364b93511523266dc9f17a4bcf9174"


def _random_floats(rng: np.random.Generator, n: int) -> list[float | None]:
    bits = rng.integers(0, 2**64, size=n, dtype=np.uint64).view(np.float64)
    scaled = rng.standard_normal(n) * 10.0 ** rng.integers(-12, 20, n)
    rounded = np.round(rng.standard_normal(n) * 1e4, 3)
    pool = np.concatenate([bits, scaled, rounded]).tolist()
    picked = [pool[k] for k in rng.integers(0, len(pool), n)]
    return [None if k % 17 == 0 else v for k, v in enumerate(picked)]


@pytest.mark.parametrize("seed", range(3))
def test_canonical_lines_are_the_per_value_form_on_random_frames(seed: int):
    rng = np.random.default_rng(seed)
    n = 3_000
    stamps = rng.integers(0, 4_000_000_000_000_000, n)  # microseconds, some with a fraction
    frame = pl.DataFrame(
        {
            "float": _random_floats(rng, n),
            "float32": pl.Series(rng.standard_normal(n) * 1e-5, dtype=pl.Float32),
            "int": pl.Series([None if k % 11 == 0 else int(v) for k, v in
                              enumerate(rng.integers(-(2**62), 2**62, n))], dtype=pl.Int64),
            "flag": [None if k % 5 == 0 else bool(k % 2) for k in range(n)],
            "text": [["a", 'q"uote', "back\\slash", "é", "tab\t", None, ""][k % 7]
                     for k in range(n)],
            "plain": [f"S{k}/USDT:USDT" for k in range(n)],
            "utc": pl.Series(stamps).cast(pl.Datetime("us", "UTC")),
            "naive_ms": pl.Series(stamps // 1000).cast(pl.Datetime("ms")),
            "berlin": pl.Series(stamps).cast(pl.Datetime("us", "Europe/Berlin")),
            "day": pl.Series(stamps // 86_400_000_000, dtype=pl.Int32).cast(pl.Date),
        }
    )  # fmt: skip
    frame = frame.with_columns(  # null datetimes too
        pl.when(pl.int_range(n) % 13 == 0).then(None).otherwise(pl.col("utc")).alias("utc")
    )
    dated = frame.drop("day")
    expected = [json.dumps([_canonical(v) for v in row]) for row in dated.iter_rows()]
    assert canonical_lines(dated) == expected
    assert snapshot_id(dated, dated.head(7)) == _reference_id(dated, dated.head(7))
    with pytest.raises(TypeError, match="not JSON serializable"):  # as the per-row form
        canonical_lines(frame.select("day"))
