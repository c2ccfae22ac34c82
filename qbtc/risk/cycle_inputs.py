"""The risk stage's settings and what one cycle reads: positions, marks, signals, prices,
equity history, gate and kill switch, from the lake and the state directory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from qbtc.execution.modes import data_on_testnet, trading_mode
from qbtc.parallel import Mapper
from qbtc.quality import GateStatus, latest_gate
from qbtc.risk.inputs import (
    Marks,
    PriceHistory,
    close_expired_options,
    load_closes,
    load_equity_history,
    load_marks,
    load_positions,
    load_signals,
    load_structure_ids,
    load_vol_views,
    load_working_orders,
)
from qbtc.risk.killswitch import KillSwitch, KillSwitchState
from qbtc.risk.limits import Limits


@dataclass(frozen=True)
class RiskConfig:
    """Plain settings of the risk stage (built from ``qbtc.config.Settings`` by entry points)."""

    lake_dir: Path
    state_dir: Path
    portfolio_id: str
    capital: float
    target_vol: float
    symbols: tuple[str, ...]
    timeframe: str
    limits: Limits
    band_usd: float
    scenarios: int
    seed: int
    confidence: float = 0.99
    horizon_days: float = 1.0
    price_bars: int = 1440
    threads: int = 2
    mapper: Mapper | None = None
    strategy: str = "qbtc"
    min_order_notional: float = 10.0
    exchange: str = "sim"
    exchange_testnet: bool = True
    """Whether the venue's markets are read from its testnet (only when orders go there)."""
    exchange_base_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> RiskConfig:
        """The stage's config from a ``Settings`` object, with explicit overrides."""
        config = cls(
            lake_dir=settings.lake_dir,
            state_dir=settings.state_dir,
            portfolio_id=settings.portfolio_id,
            capital=settings.capital,
            target_vol=settings.target_vol,
            symbols=tuple(settings.symbols),
            timeframe=settings.timeframe,
            limits=Limits.from_settings(settings),
            band_usd=settings.delta_hedge_band_usd,
            scenarios=settings.mc_scenarios,
            seed=settings.seed,
            exchange=settings.exchange,
            exchange_testnet=data_on_testnet(
                trading_mode(
                    settings.exchange, live=settings.live, testnet=settings.exchange_testnet
                )
            ),
            exchange_base_url=settings.exchange_base_url,
        )
        return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class CycleInputs:
    """Everything read from the lake and the state directory for one cycle."""

    as_of: datetime
    positions: pl.DataFrame
    marks: Marks
    signals: pl.DataFrame
    prices: PriceHistory
    equity_history: pl.DataFrame
    gate: GateStatus
    kill_switch: KillSwitchState
    vol_views: pl.DataFrame = dataclasses.field(default_factory=pl.DataFrame)
    structure_ids: dict[str, str] = dataclasses.field(default_factory=dict)
    working_orders: dict[str, float] = dataclasses.field(default_factory=dict)


def hedge_symbols(symbols: tuple[str, ...], positions: pl.DataFrame) -> list[str]:
    """Perps whose prices drive risk: the configured ones plus any held perp."""
    held = positions.filter((pl.col("quantity") != 0) & (pl.col("type") == "perp"))
    return list(dict.fromkeys([*symbols, *held["symbol"].to_list()]))


def load_cycle_inputs(config: RiskConfig, as_of: datetime) -> CycleInputs:
    """Read positions, marks, signals, prices, equity history, gate and kill switch."""
    positions = close_expired_options(
        load_positions(config.lake_dir, config.portfolio_id, as_of), as_of
    )
    perps = hedge_symbols(config.symbols, positions)
    prices = load_closes(
        config.lake_dir, perps, as_of, timeframe=config.timeframe, bars=config.price_bars
    )
    return CycleInputs(
        as_of=as_of,
        positions=positions,
        marks=load_marks(config.lake_dir, as_of),
        signals=load_signals(config.lake_dir, as_of),
        prices=prices,
        equity_history=load_equity_history(config.lake_dir, config.portfolio_id, as_of),
        gate=latest_gate(config.lake_dir),
        kill_switch=KillSwitch(config.state_dir).status(),
        vol_views=load_vol_views(config.lake_dir, as_of),
        structure_ids=load_structure_ids(config.lake_dir, config.portfolio_id),
        working_orders=load_working_orders(config.lake_dir, config.portfolio_id),
    )
