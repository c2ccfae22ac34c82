from __future__ import annotations

import polars as pl
import pytest

from qbtc.schemas import DATASETS, F64, STR, TS, Dataset, Partition


def test_a_partition_named_like_a_column_is_refused():
    with pytest.raises(ValueError, match="partition names"):
        Dataset(
            name="bad",
            columns={"underlying": STR, "timestamp": TS, "x": F64},
            primary_key=("underlying", "timestamp"),
            mode="append",
            partition_by=(Partition("underlying", "underlying", "value"),),
        )


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_is_consistent(name: str):
    ds = DATASETS[name]
    assert ds.schema[ds.time_column] == pl.Datetime("us", "UTC")
    assert not set(ds.primary_key) & ds.nullable
    assert not set(ds.partition_names) & set(ds.columns)
