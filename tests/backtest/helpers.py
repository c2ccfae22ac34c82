"""Build and run a backtest the way the flow does, without Prefect."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from qbtc.backtest.config import BacktestConfig
from qbtc.backtest.engine import BacktestRun
from qbtc.backtest.runner import simulate
from qbtc.backtest.window import load_window
from qbtc.config import load_settings
from qbtc.risk.cycle_inputs import RiskConfig
from qbtc.signals import RulesProvider, SignalProvider
from tests.backtest.lake import END, START, SYMBOLS

MAX_GAP = timedelta(minutes=15)


def config(**changes: Any) -> BacktestConfig:
    base = BacktestConfig(start=START, end=END, interval="1h", symbols=SYMBOLS, var_scenarios=500)
    return replace(base, **changes)


def risk(lake_dir: Path) -> RiskConfig:
    settings = load_settings(data_dir=lake_dir.parent, symbols=list(SYMBOLS))
    return RiskConfig.from_settings(settings)


def run(
    lake_dir: Path, cfg: BacktestConfig | None = None, provider: SignalProvider | None = None
) -> BacktestRun:
    cfg = cfg or config()
    window = load_window(lake_dir, cfg, max_gap=MAX_GAP)
    return simulate(cfg, window, provider or RulesProvider(symbols=cfg.symbols), risk(lake_dir))
