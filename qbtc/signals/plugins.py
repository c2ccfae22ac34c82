"""User strategies: a typed interface, loading by ``module:Class`` or entry point, guardrails.

A strategy is any object with a ``name`` and a ``views(snapshot)`` method (see
:class:`Strategy`). It receives the same feature snapshot the ``rules`` and LLM providers
get (``snapshot.perps``: one ``features`` row per symbol at the decision bar;
``snapshot.options``: the option-surface rows of the underlyings) and returns
:class:`StrategyViews`: a directional view per perp (strength in [-1, 1], confidence in
[0, 1]) and, optionally, a volatility view per option underlying.

Load one with ``QBTC_STRATEGY=module:Class`` (or ``--strategy`` on the command line; the
class is instantiated without arguments), or by the name it registers under the Python
entry-point group ``qbtc.strategies``. The live cycle (``QBTC_LLM_PROVIDER=strategy``) and
the backtest (``--provider module:Class``) run it through :class:`StrategyProvider`, which
applies the LLM answers' guardrails: an unknown symbol, a value out of range or not a
number, or an exception in the strategy rejects the answer with a reason, and the
``QBTC_STRATEGY_FALLBACK`` answer (``rules``, or ``flat``: no position) is used instead.
A symbol the strategy leaves out gets a flat signal, an option underlying a neutral vol view;
volatility views become ``vol_views`` rows like the rules' and the LLM's.
"""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Literal, Protocol, runtime_checkable

from qbtc.signals.model import ProviderResult, Signal, SnapshotLike, signal_id
from qbtc.signals.rules import RulesProvider, fall_back
from qbtc.signals.volview import VolView, collect_underlying_inputs, vol_view_id
from qbtc.symbols import base_currency

ENTRY_POINT_GROUP = "qbtc.strategies"
StrategyFallback = Literal["rules", "flat"]


@dataclass(frozen=True)
class DirectionalView:
    """A view on one perp: ``strength`` in [-1, 1] (positive long, 0 flat), ``confidence``
    in [0, 1], how long it should hold (minutes) and why."""

    symbol: str
    strength: float
    confidence: float = 1.0
    horizon_minutes: int = 240
    rationale: str = ""


@dataclass(frozen=True)
class VolatilityView:
    """A view on an option underlying's implied volatility: ``view`` in [-1, 1] (positive:
    implied vol is cheap, buy it; negative: rich, sell it), ``confidence`` in [0, 1]."""

    underlying: str
    view: float
    confidence: float = 1.0
    horizon_minutes: int = 1440
    rationale: str = ""


@dataclass(frozen=True)
class StrategyViews:
    """What a strategy answers for one snapshot."""

    directional: Sequence[DirectionalView]
    volatility: Sequence[VolatilityView] = ()


@runtime_checkable
class Strategy(Protocol):
    """The interface a user strategy implements."""

    name: str

    def views(self, snapshot: SnapshotLike) -> StrategyViews: ...


class StrategyLoadError(ValueError):
    """The strategy cannot be loaded; the message says which and what to do (one line)."""


class StrategyRejectedError(ValueError):
    """A strategy's answer failed the guardrails; the message is the reason."""


def load_strategy(spec: str) -> Strategy:
    """The strategy ``module:Class`` (instantiated) or the entry point named ``spec``."""
    spec = spec.strip()
    if ":" in spec:
        module_name, _, attribute = spec.partition(":")
        try:
            module = _import(module_name)
        except Exception as exc:
            raise StrategyLoadError(
                f"strategy {spec!r}: cannot import module {module_name!r} "
                f"({type(exc).__name__}: {exc}); check the name and that it is on PYTHONPATH"
            ) from None
        target = getattr(module, attribute, None)
        if target is None:
            raise StrategyLoadError(
                f"strategy {spec!r}: module {module_name!r} has no {attribute!r}"
            )
    else:
        found = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == spec]
        if not found:
            known = sorted(e.name for e in entry_points(group=ENTRY_POINT_GROUP))
            raise StrategyLoadError(
                f"strategy {spec!r} is neither module:Class nor an installed "
                f"{ENTRY_POINT_GROUP} entry point (installed: {', '.join(known) or 'none'})"
            )
        try:
            target = found[0].load()
        except Exception as exc:
            raise StrategyLoadError(
                f"strategy {spec!r}: entry point failed to load ({type(exc).__name__}: {exc})"
            ) from None
    try:
        strategy = target() if isinstance(target, type) else target
    except Exception as exc:
        raise StrategyLoadError(
            f"strategy {spec!r}: {type(exc).__name__} when creating it: {exc}"
        ) from None
    if not isinstance(strategy, Strategy):
        raise StrategyLoadError(
            f"strategy {spec!r} has no `name` and `views(snapshot)`: see qbtc.signals.plugins"
        )
    return strategy


def _import(module_name: str) -> ModuleType:
    """Import ``module_name``; like ``python -m``, a module in the working directory counts."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError:
        here = str(Path.cwd())
        if here in sys.path:
            raise
        sys.path.insert(0, here)
        return importlib.import_module(module_name)


def _unit(value: object, low: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StrategyRejectedError(f"{what} is not a number: {value!r}")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= 1.0:
        raise StrategyRejectedError(f"{what} = {number!r} is outside [{low:g}, 1]")
    return number


def check_views(answer: object, universe: Sequence[str]) -> StrategyViews:
    """The answer if it passes the guardrails, else :class:`StrategyRejectedError`."""
    if not isinstance(answer, StrategyViews):
        raise StrategyRejectedError(f"answer is {type(answer).__name__}, not StrategyViews")
    seen: set[str] = set()
    for view in answer.directional:
        if view.symbol not in universe:
            raise StrategyRejectedError(f"unknown symbol {view.symbol!r} (not in the universe)")
        if view.symbol in seen:
            raise StrategyRejectedError(f"symbol {view.symbol} answered twice")
        seen.add(view.symbol)
        _unit(view.strength, -1.0, f"{view.symbol} strength")
        _unit(view.confidence, 0.0, f"{view.symbol} confidence")
        if not isinstance(view.horizon_minutes, int) or view.horizon_minutes < 1:
            raise StrategyRejectedError(f"{view.symbol} horizon_minutes must be a positive int")
    bases = {base_currency(s) for s in universe}
    for vol in answer.volatility:
        if vol.underlying not in bases:
            raise StrategyRejectedError(f"unknown underlying {vol.underlying!r} in a vol view")
        _unit(vol.view, -1.0, f"{vol.underlying} vol view")
        _unit(vol.confidence, 0.0, f"{vol.underlying} vol confidence")
        if not isinstance(vol.horizon_minutes, int) or vol.horizon_minutes < 1:
            raise StrategyRejectedError(f"{vol.underlying} horizon_minutes must be a positive int")
    return answer


@dataclass(frozen=True)
class StrategyProvider:
    """A user strategy as a signal provider (see the module docstring)."""

    strategy: Strategy
    spec: str
    fallback: StrategyFallback = "rules"
    rules: RulesProvider = field(default_factory=RulesProvider)

    @property
    def name(self) -> str:
        return "strategy"

    def propose(self, snapshot: SnapshotLike, *, run_id: str) -> ProviderResult:
        universe = list(self.rules.symbols or snapshot.perps["symbol"].to_list())
        try:
            views = check_views(self.strategy.views(snapshot), universe)
        except Exception as exc:  # the user's code may raise anything: reject with why
            reason = f"strategy {self.strategy.name}: {type(exc).__name__}: {exc}"
            return self._fall_back(snapshot, run_id, reason)
        given = {v.symbol: v for v in views.directional}
        signals = tuple(self._signal(given.get(s), s, snapshot, run_id) for s in sorted(universe))
        vols = {v.underlying: v for v in views.volatility}
        return ProviderResult(
            self.name, self.spec, signals, vol_views=self._vol_views(vols, snapshot, run_id)
        )

    def _vol_views(
        self, given: dict[str, VolatilityView], snapshot: SnapshotLike, run_id: str
    ) -> tuple[VolView, ...]:
        """One vol view per option underlying of the snapshot (neutral when not given)."""
        out = []
        for inputs in collect_underlying_inputs(snapshot, self.rules.underlyings):
            view = given.get(inputs.underlying)
            out.append(
                VolView(
                    view_id=vol_view_id(
                        self.name,
                        self.spec,
                        inputs.underlying,
                        snapshot.timestamp,
                        snapshot.snapshot_id,
                    ),
                    run_id=run_id,
                    inputs=inputs,
                    timestamp=snapshot.timestamp,
                    vol_view=float(view.view) if view else 0.0,
                    confidence=float(view.confidence) if view else 0.0,
                    horizon_minutes=view.horizon_minutes if view else 1440,
                    provider=self.name,
                    model=self.spec,
                    rationale=(view.rationale if view else "") or "no vol view: neutral",
                    feature_snapshot=snapshot.snapshot_id,
                )
            )
        return tuple(out)

    def _signal(
        self,
        view: DirectionalView | None,
        symbol: str,
        snapshot: SnapshotLike,
        run_id: str,
    ) -> Signal:
        strength = round(float(view.strength), 6) if view else 0.0
        rationale = (view.rationale if view else "") or "no view: flat"
        return Signal(
            signal_id=signal_id(
                self.name, self.spec, symbol, snapshot.timestamp, snapshot.snapshot_id
            ),
            run_id=run_id,
            symbol=symbol,
            timestamp=snapshot.timestamp,
            direction="long" if strength > 0 else "short" if strength < 0 else "flat",
            strength=strength,
            confidence=float(view.confidence) if view else 0.0,
            horizon_minutes=view.horizon_minutes if view else 240,
            provider=self.name,
            model=self.spec,
            rationale=rationale,
            feature_snapshot=snapshot.snapshot_id,
        )

    def _fall_back(self, snapshot: SnapshotLike, run_id: str, reason: str) -> ProviderResult:
        if self.fallback == "rules":
            return fall_back(self.rules, snapshot, run_id=run_id, reason=reason)
        universe = sorted(self.rules.symbols or snapshot.perps["symbol"].to_list())
        flat = tuple(
            replace(self._signal(None, s, snapshot, run_id), fallback_reason=reason)
            for s in universe
        )
        neutral = tuple(
            replace(v, fallback_reason=reason) for v in self._vol_views({}, snapshot, run_id)
        )
        return ProviderResult(self.name, self.spec, flat, (), reason, vol_views=neutral)
