"""What a backtest is asked to do, checked before anything is read or written."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

FillModel = Literal["bars", "venue"]
FILL_MODELS: tuple[FillModel, ...] = ("bars", "venue")
_INTERVAL = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
#: The longest window a backtest may cover (the lake keeps years; this keeps typos harmless).
MAX_DECISIONS = 200_000


class BacktestInputError(ValueError):
    """The backtest cannot run as asked; the message (one line) says what to do."""


def parse_interval(text: str) -> timedelta:
    """``"5m"``, ``"1h"``, ``"1d"`` to a timedelta (whole minutes, at least one)."""
    match = _INTERVAL.match(text.strip()) if isinstance(text, str) else None
    if not match or int(match.group(1)) < 1:
        raise BacktestInputError(
            f"decision interval {text!r} is not valid: use a number of minutes, hours or days "
            "such as 5m, 1h or 1d"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (naive input is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class BacktestConfig:
    """Plain parameters of one backtest (entry points build it from flow or CLI input).

    Money in USDT. ``fee_rate`` is a fraction of notional, ``slippage_bps`` basis points of
    the price (``bars`` fills only: the ``venue`` model charges what the simulated venue
    charges). ``var_scenarios`` is the Monte Carlo VaR the pre-trade checks run at every
    decision (the live cycle runs ``QBTC_MC_SCENARIOS``, 10,000 by default); fewer makes a
    long backtest cheaper and is reported with the results. ``target_vol`` (annualised)
    overrides the live sizing target (``QBTC_TARGET_VOL``) when set.
    """

    start: datetime
    end: datetime
    interval: str
    symbols: tuple[str, ...]
    provider: str = "rules"
    seed: int = 7
    initial_equity: float = 1_000_000.0
    fill_model: FillModel = "bars"
    fee_rate: float = 0.0005
    slippage_bps: float = 0.0
    var_scenarios: int = 10_000
    options: bool = False
    target_vol: float | None = None
    replay_run_id: str | None = None
    llm_budget_usd: float = 1.0
    portfolio_id: str = "main"
    strategy: str = "qbtc"
    sweep_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))
        check_config(self)

    @property
    def step(self) -> timedelta:
        return parse_interval(self.interval)

    def decision_times(self) -> list[datetime]:
        """Every decision time from ``start`` to ``end`` (both included) at the interval."""
        times, moment, step = [], self.start, self.step
        while moment <= self.end:
            times.append(moment)
            moment += step
        return times

    def parameters(self) -> dict[str, Any]:
        """The parameters as plain JSON values (stored with the results)."""
        out = asdict(self)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        out["symbols"] = list(self.symbols)
        return out

    def backtest_id(self, data_snapshot: str) -> str:
        """Deterministic id: the same parameters on the same data give the same id."""
        key = json.dumps(
            {k: v for k, v in self.parameters().items() if k != "sweep_id"}, sort_keys=True
        )
        digest = hashlib.sha256(f"{key}\x1f{data_snapshot}".encode()).hexdigest()
        return "bt" + digest[:24]


def check_config(config: BacktestConfig) -> None:
    """Raise :class:`BacktestInputError` on parameters no backtest can run with."""
    if config.end < config.start:
        raise BacktestInputError(
            f"end {config.end.isoformat()} is before start {config.start.isoformat()}: "
            "swap them or pick a later end"
        )
    step = parse_interval(config.interval)
    if (config.end - config.start) / step + 1 > MAX_DECISIONS:
        raise BacktestInputError(
            f"{config.interval} decisions from {config.start:%Y-%m-%d} to {config.end:%Y-%m-%d} "
            f"are more than {MAX_DECISIONS:,}: use a longer interval or a shorter window"
        )
    if config.start.second or config.start.microsecond:
        raise BacktestInputError("start must fall on a whole minute (UTC), e.g. 2026-11-01T00:00Z")
    if not config.symbols:
        raise BacktestInputError("a backtest needs at least one symbol, e.g. BTC/USDT:USDT")
    if config.fill_model not in FILL_MODELS:
        raise BacktestInputError(
            f"fill model {config.fill_model!r} is unknown: use {' or '.join(FILL_MODELS)}"
        )
    if config.initial_equity <= 0:
        raise BacktestInputError("initial equity must be positive (USDT)")
    if not 0 <= config.fee_rate < 0.1 or not 0 <= config.slippage_bps < 1000:
        raise BacktestInputError(
            "fee rate must be a fraction in [0, 0.1) (0.0005 = 5 bps) and slippage in [0, 1000) bps"
        )
    if config.target_vol is not None and not 0 < config.target_vol <= 5:
        raise BacktestInputError("target_vol must be an annualised fraction in (0, 5], e.g. 0.2")
    if config.var_scenarios < 100:
        raise BacktestInputError("var_scenarios must be at least 100")
    if config.options and config.fill_model != "venue":
        raise BacktestInputError(
            "the options leg fills against the simulated venue's option chains: run it with "
            "the venue fill model (--fills venue), or without --options"
        )
