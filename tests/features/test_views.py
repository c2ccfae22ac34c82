"""The ``features`` and ``option_features`` catalog views (sql/views) over the lake."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from qbtc.features import compute_perp_features
from qbtc.lake import LakeReader, write_dataset
from qbtc.schemas import FEATURES, OPTION_FEATURES
from tests.features.fixtures import bars, funding, tickers
from tests.features.test_options import chain, features, skewed


def test_views_are_typed_and_empty_before_any_run(lake_dir: Path):
    reader = LakeReader(lake_dir)
    assert reader.query("SELECT * FROM features").schema == FEATURES.schema
    assert reader.query("SELECT * FROM option_features").schema == OPTION_FEATURES.schema


def test_views_return_the_stored_rows(lake_dir: Path):
    ohlcv = bars(n=80)
    perps = compute_perp_features(
        ohlcv.lazy(), tickers=tickers(ohlcv).lazy(), funding=funding().lazy()
    ).collect()
    surface = features(pl.concat([chain(skewed, 7), chain(skewed, 30)]))
    write_dataset(lake_dir, FEATURES, perps)
    write_dataset(lake_dir, OPTION_FEATURES, surface)
    reader = LakeReader(lake_dir)
    stored = reader.query('SELECT * FROM features ORDER BY symbol, "timestamp"')
    assert_frame_equal(stored, perps)
    options = reader.query("SELECT * FROM option_features ORDER BY expiry")
    assert_frame_equal(options, surface.sort("expiry"))
    assert options.get_column("underlying").to_list() == ["BTC", "BTC"]
