"""API models are checked against the dataset schemas (names, nullability, kinds)."""

from __future__ import annotations

import types
import typing
from datetime import datetime

import polars as pl
import pytest

from qbtc.api.models import (
    Alert,
    BacktestEquityPoint,
    BacktestMetric,
    BacktestSummary,
    BacktestTrade,
    FillRow,
    LlmCallRow,
    OptionQuote,
    Order,
    OrderEventRow,
    Position,
    RiskMetric,
    Run,
    SignalRow,
    UnderlyingGreeksRow,
    VolViewRow,
)
from qbtc.schemas import get_dataset

_KINDS: dict[type[pl.DataType], tuple[type, ...]] = {
    pl.String: (str,),
    pl.Float64: (float,),
    pl.Int64: (int,),
    pl.Boolean: (bool,),
    pl.Datetime: (datetime,),
}

CASES = [
    (Position, "positions", set()),
    (RiskMetric, "risk_metrics", set()),
    (SignalRow, "signals", set()),
    (Run, "runs", {"parameters", "package_versions", "snapshots", "stage_durations"}),
    (Alert, "alerts", set()),
    (Order, "order_intents", set()),
    (OptionQuote, "option_quotes", {"underlying", "source"}),
    (OrderEventRow, "order_events", set()),
    (FillRow, "fills", set()),
    (LlmCallRow, "llm_calls", set()),
    (VolViewRow, "vol_views", set()),
    (UnderlyingGreeksRow, "book_greeks", set()),
    (BacktestSummary, "backtests", {"parameters"}),
    (BacktestEquityPoint, "backtest_equity", set()),
    (BacktestTrade, "backtest_trades", set()),
    (BacktestMetric, "backtest_metrics", {"value"}),
]

#: Fields a row model has beyond its dataset: computed by the API (from other datasets or
#: from the row), never stored in the dataset itself.
DERIVED: dict[type, set[str]] = {
    Position: {"structure_id", "structure_state"},
    Order: {"filled_quantity", "last_event", "last_event_at", "last_price", "venue_order_id"},
    OptionQuote: {"delta", "gamma", "vega", "theta", "expiry_years"},
    BacktestSummary: {
        "strategy",
        "created_at",
        "tear_sheet_url",
        "total_return",
        "annual_return",
        "sharpe",
        "max_drawdown",
    },
}


def _allowed(annotation: object) -> tuple[set[type], bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = {a for a in args if a is not type(None)}
        return kinds, type(None) in args
    return {annotation}, False  # type: ignore[arg-type]


@pytest.mark.parametrize(("model", "dataset", "special"), CASES)
def test_row_models_follow_their_dataset(model, dataset, special):
    ds = get_dataset(dataset)
    fields = model.model_fields
    for column, dtype in ds.columns.items():
        if column in special:
            continue
        assert column in fields, f"{model.__name__} lacks {dataset}.{column}"
        kinds, nullable = _allowed(fields[column].annotation)
        assert kinds <= set(_KINDS[type(dtype)]), (column, kinds)
        if column in ds.nullable:
            assert nullable, f"{model.__name__}.{column} must be nullable like the dataset"
        if dtype == pl.String() and column not in ds.nullable:
            assert not nullable, f"{model.__name__}.{column} is never null in the lake"


@pytest.mark.parametrize(("model", "dataset", "special"), CASES)
def test_row_models_add_only_their_derived_fields(model, dataset, special):
    beyond = set(model.model_fields) - set(get_dataset(dataset).columns)
    assert beyond == DERIVED.get(model, set()), f"{model.__name__} fields not in {dataset}"
