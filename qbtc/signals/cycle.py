"""One signal cycle: pick a provider, ask it, store its signals and LLM calls.

Also the guard every trading stage applies first: on a failed quality gate the cycle is
refused with :func:`refusal_message` (the flow records it as an alert and fails the run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import polars as pl

from qbtc.config import SignalProviderName
from qbtc.lake import scan_dataset, write_dataset
from qbtc.signals.cache import LlmCache
from qbtc.signals.calls import llm_calls_frame
from qbtc.signals.gemini import GeminiConfig, GeminiProvider
from qbtc.signals.model import SignalProvider, SnapshotLike, signals_frame
from qbtc.signals.plugins import (
    StrategyFallback,
    StrategyLoadError,
    StrategyProvider,
    load_strategy,
)
from qbtc.signals.replay import ReplayProvider
from qbtc.signals.rules import RulesProvider
from qbtc.signals.volview import vol_views_frame

#: ``rules`` | ``gemini`` | ``replay`` | ``strategy`` (the ``QBTC_LLM_PROVIDER`` setting).
ProviderName = SignalProviderName


class GateLike(Protocol):
    """The shape of :class:`qbtc.quality.GateStatus` used here."""

    @property
    def passed(self) -> bool: ...

    @property
    def run_id(self) -> str | None: ...

    @property
    def reasons(self) -> tuple[str, ...]: ...


class SignalsRefusedError(RuntimeError):
    """The signal cycle refused to run (failed quality gate); the message says why."""


def refusal_message(gate: GateLike) -> str:
    """One line: why signals refuse to run on this gate."""
    reasons = "; ".join(gate.reasons) or "no reason given"
    return f"signals refused: the quality gate failed ({reasons}); fix the data and re-run ingest"


def make_provider(
    name: ProviderName,
    *,
    gemini: GeminiConfig,
    lake_dir: Path,
    state_dir: Path,
    symbols: Sequence[str] | None = None,
    underlyings: Sequence[str] | None = None,
    replay_run_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    strategy: str | None = None,
    strategy_fallback: StrategyFallback = "rules",
) -> SignalProvider:
    """The provider called ``name`` (a fresh one per run: it holds the run's token budget).

    ``strategy`` (``module:Class`` or an entry point name) is the user strategy of the
    ``strategy`` provider; loading it may raise :class:`StrategyLoadError`.
    """
    rules = RulesProvider(
        symbols=tuple(symbols) if symbols else None,
        underlyings=tuple(underlyings) if underlyings else None,
    )
    if name == "rules":
        return rules
    if name == "strategy":
        if not strategy:
            raise StrategyLoadError(
                "the strategy provider needs a strategy: set QBTC_STRATEGY=module:Class "
                "(or pass --strategy)"
            )
        return StrategyProvider(load_strategy(strategy), strategy, strategy_fallback, rules)
    if name == "gemini":
        cache = LlmCache.in_state_dir(state_dir)
        return GeminiProvider(gemini, cache=cache, rules=rules, sleep=sleep)
    if name == "replay":
        return ReplayProvider(lake_dir, gemini.model, source_run_id=replay_run_id, rules=rules)
    raise ValueError(f"unknown signal provider {name!r}: use rules, gemini, replay or strategy")


@dataclass(frozen=True)
class CycleResult:
    """What a cycle stored. ``signals`` is the stored frame; tokens and cost over all calls.

    ``vol_views`` is the stored ``vol_views`` frame (one per option underlying).
    ``requested`` is the provider asked, ``provider`` the one whose signals were stored
    (``rules`` after a fallback, with ``fallback_reason`` set).
    """

    run_id: str
    requested: str
    provider: str
    model: str | None
    decision_bar: datetime
    snapshot_id: str
    signals: pl.DataFrame
    vol_views: pl.DataFrame
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    fallback_reason: str | None


def new_signals(lake_dir: Path, frame: pl.DataFrame, decision_bar: datetime) -> pl.DataFrame:
    """The rows of ``frame`` whose ``signal_id`` is not stored yet."""
    stored = scan_dataset(lake_dir, "signals", start=decision_bar, end=decision_bar)
    ids = stored.select("signal_id").collect()["signal_id"]
    return frame.filter(~pl.col("signal_id").is_in(ids.implode()))


def run_signal_cycle(
    snapshot: SnapshotLike, provider: SignalProvider, *, lake_dir: Path, run_id: str
) -> CycleResult:
    """Ask ``provider`` about ``snapshot``, then store its LLM calls, vol views and new signals.

    A signal already stored (same provider, model, symbol, bar and snapshot: a re-run of a
    decided bar) keeps its row and its run id: orders decided on it trace back to it.
    """
    result = provider.propose(snapshot, run_id=run_id)
    write_dataset(lake_dir, "llm_calls", llm_calls_frame(result.calls))
    views = vol_views_frame(result.vol_views)
    write_dataset(lake_dir, "vol_views", views)
    frame = signals_frame(result.signals)
    write_dataset(lake_dir, "signals", new_signals(lake_dir, frame, snapshot.timestamp))
    return CycleResult(
        run_id=run_id,
        requested=provider.name,
        provider=result.provider,
        model=result.model,
        decision_bar=snapshot.timestamp,
        snapshot_id=snapshot.snapshot_id,
        signals=frame,
        vol_views=views,
        calls=len(result.calls),
        input_tokens=sum(call.input_tokens for call in result.calls),
        output_tokens=sum(call.output_tokens for call in result.calls),
        cost_usd=sum(call.cost_usd for call in result.calls),
        fallback_reason=result.fallback_reason,
    )
