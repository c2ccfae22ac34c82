"""User strategies: loading by module:Class and entry point, and the guardrails."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from qbtc.signals import StrategyLoadError, StrategyProvider, load_strategy, make_provider
from qbtc.signals.plugins import DirectionalView, StrategyViews, VolatilityView
from tests.signals.snapshots import make_snapshot

MODULE = """
from qbtc.signals.plugins import DirectionalView, StrategyViews

class Fixed:
    name = "fixed"

    def __init__(self):
        self.answer = None

    def views(self, snapshot):
        if self.answer is not None:
            return self.answer(snapshot)
        return StrategyViews([DirectionalView(s, 0.5, 0.8) for s in snapshot.perps["symbol"]])

class Broken:
    def __init__(self):
        raise RuntimeError("needs a licence key")
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "my_strategies.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _provider(answer, fallback="rules") -> StrategyProvider:
    strategy = load_strategy("my_strategies:Fixed")
    strategy.answer = answer  # type: ignore[attr-defined]
    return StrategyProvider(strategy, "my_strategies:Fixed", fallback)  # type: ignore[arg-type]


def test_a_strategy_loads_from_module_and_class_and_signals_every_symbol(plugin_dir):
    snapshot = make_snapshot()
    result = _provider(None).propose(snapshot, run_id="r")
    assert result.fallback_reason is None
    assert {s.direction for s in result.signals} == {"long"}
    assert {s.strength for s in result.signals} == {0.5}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module:X", "cannot import module 'no_such_module'"),
        ("my_strategies:Missing", "has no 'Missing'"),
        ("my_strategies:Broken", "RuntimeError when creating it: needs a licence key"),
        ("nothing-registered", "neither module:Class nor an installed qbtc.strategies"),
    ],
)
def test_a_strategy_that_cannot_load_says_why_in_one_line(plugin_dir, spec, message):
    with pytest.raises(StrategyLoadError, match=message) as caught:
        load_strategy(spec)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda s: StrategyViews([DirectionalView("DOGE/BTC:BTC", 0.1)]), "unknown symbol"),
        (lambda s: StrategyViews([DirectionalView(s.perps["symbol"][0], 1.5)]), "outside [-1, 1]"),
        (lambda s: StrategyViews([DirectionalView(s.perps["symbol"][0], math.nan)]), "outside"),
        (lambda s: StrategyViews([DirectionalView(s.perps["symbol"][0], 0.2, 2.0)]), "confidence"),
        (lambda s: StrategyViews([], [VolatilityView("XYZ", 0.1)]), "unknown underlying"),
        (lambda s: 1 / 0, "ZeroDivisionError"),
        (lambda s: {"BTC": 1}, "not StrategyViews"),
    ],
)
def test_a_bad_answer_is_rejected_with_its_reason_and_rules_answer(plugin_dir, answer, reason):
    result = _provider(answer).propose(make_snapshot(), run_id="r")
    assert reason in (result.fallback_reason or "")
    assert result.provider == "rules"
    assert all(reason in (s.fallback_reason or "") for s in result.signals)


def test_the_flat_fallback_holds_no_position(plugin_dir):
    result = _provider(lambda s: 1 / 0, fallback="flat").propose(make_snapshot(), run_id="r")
    assert {s.direction for s in result.signals} == {"flat"}
    assert all("ZeroDivisionError" in (s.fallback_reason or "") for s in result.signals)


def test_a_symbol_left_out_is_flat(plugin_dir):
    snapshot = make_snapshot()
    first = snapshot.perps["symbol"][0]
    result = _provider(lambda s: StrategyViews([DirectionalView(first, -0.4)])).propose(
        snapshot, run_id="r"
    )
    by_symbol = {s.symbol: s for s in result.signals}
    assert by_symbol[first].direction == "short"
    assert {s.direction for n, s in by_symbol.items() if n != first} == {"flat"}


def test_a_strategy_registered_as_an_entry_point_loads_by_name(plugin_dir, monkeypatch):
    dist = plugin_dir / "my_strategies-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-strategies\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[qbtc.strategies]\nfixed = my_strategies:Fixed\n")
    assert load_strategy("fixed").name == "fixed"


def test_the_strategy_provider_is_built_by_name_for_the_live_cycle(plugin_dir, tmp_path):
    from qbtc.signals import GeminiConfig

    kwargs = {
        "gemini": GeminiConfig(model="m", api_key=None),
        "lake_dir": tmp_path,
        "state_dir": tmp_path,
    }
    provider = make_provider("strategy", strategy="my_strategies:Fixed", **kwargs)
    assert isinstance(provider, StrategyProvider)
    with pytest.raises(StrategyLoadError, match="needs a strategy"):
        make_provider("strategy", **kwargs)


def test_volatility_views_become_vol_views_and_a_missing_one_is_neutral(plugin_dir):
    snapshot = make_snapshot()
    first = sorted(set(snapshot.options["underlying"].to_list()))[0]
    result = _provider(
        lambda s: StrategyViews([], [VolatilityView(first, -0.6, 0.7, rationale="rich")])
    ).propose(snapshot, run_id="r")
    views = {v.underlying: v for v in result.vol_views}
    assert views[first].vol_view == -0.6
    assert views[first].provider == "strategy"
    assert all(v.vol_view == 0.0 for u, v in views.items() if u != first)
