"""The options leg in a backtest: vol views become option structures, filled by the
simulated venue against its chains, with theta and vega PnL in the metrics."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qbtc.backtest.config import BacktestInputError
from qbtc.backtest.runner import measure, simulate
from qbtc.backtest.window import load_window
from qbtc.config import load_settings
from qbtc.market.contracts import is_option_symbol
from qbtc.portfolio.structures import StructureConfig
from qbtc.signals import DirectionalView, StrategyProvider, StrategyViews, VolatilityView
from tests.backtest.helpers import MAX_GAP, config, risk
from tests.backtest.lake import START, SYMBOLS, sim_frames, write_frames


class BuysBitcoinVol:
    """Flat perps; implied vol of BTC cheap (a strong long-vol view)."""

    name = "buys-btc-vol"

    def views(self, snapshot):
        flat = [DirectionalView(s, 0.0, 0.5) for s in snapshot.perps["symbol"]]
        return StrategyViews(flat, [VolatilityView("BTC", 0.9, 0.9, rationale="cheap")])


def test_options_need_the_venue_fill_model():
    with pytest.raises(BacktestInputError, match="--fills venue"):
        config(options=True)


def test_a_long_vol_view_buys_an_option_structure_filled_by_the_venue(lake_dir: Path):
    write_frames(lake_dir, sim_frames(end=START.replace(hour=3), chains=True))
    cfg = config(end=START.replace(hour=2), options=True, fill_model="venue", provider="x:Y")
    settings = load_settings(data_dir=lake_dir.parent, symbols=list(SYMBOLS))
    knobs = StructureConfig.from_settings(settings.model_copy(update={"options_enabled": True}))
    provider = StrategyProvider(BuysBitcoinVol(), "x:Y")
    window = load_window(lake_dir, cfg, max_gap=MAX_GAP)
    run = simulate(cfg, window, provider, risk(lake_dir), options=knobs)
    legs = [i for i in run.intents if is_option_symbol(i.symbol)]
    assert legs, "a 0.9 long-vol view must plan an option structure"
    assert all(i.structure_id for i in legs)
    accepted = [i for i in legs if i.status == "accepted"]
    assert accepted, [i.reason for i in legs]
    assert any(is_option_symbol(f.intent.symbol) for f in run.fills)
    names = {m.name for m in measure(run)}
    assert {"option_theta_pnl", "option_vega_pnl"} <= names
    perps_only = simulate(replace(cfg, options=False), window, provider, risk(lake_dir))
    assert not any(is_option_symbol(i.symbol) for i in perps_only.intents)
