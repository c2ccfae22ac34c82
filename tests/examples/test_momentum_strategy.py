"""The example strategy in ``examples/``: its views, and it running through the provider."""

from __future__ import annotations

import math

from examples.momentum_strategy import MomentumStrategy
from qbtc.signals import StrategyProvider, load_strategy
from qbtc.signals.plugins import check_views
from tests.signals.snapshots import make_snapshot


def test_the_example_loads_by_module_and_class():
    strategy = load_strategy("examples.momentum_strategy:MomentumStrategy")
    assert isinstance(strategy, MomentumStrategy)


def test_its_views_pass_the_guardrails_and_follow_the_move():
    snapshot = make_snapshot()
    views = check_views(MomentumStrategy().views(snapshot), snapshot.perps["symbol"].to_list())
    for view, row in zip(views.directional, snapshot.perps.iter_rows(named=True), strict=True):
        if row["ret_240"]:
            assert math.copysign(1, view.strength) == math.copysign(1, row["ret_240"])
    assert {v.underlying for v in views.volatility} <= {"BTC", "ETH"}


def test_it_gives_one_signal_per_symbol_through_the_provider():
    snapshot = make_snapshot()
    spec = "examples.momentum_strategy:MomentumStrategy"
    result = StrategyProvider(load_strategy(spec), spec).propose(snapshot, run_id="r1")
    assert result.fallback_reason is None
    assert sorted(s.symbol for s in result.signals) == sorted(snapshot.perps["symbol"].to_list())
    assert all(s.provider == "strategy" and s.model == spec for s in result.signals)
