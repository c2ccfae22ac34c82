"""The risk stage puts every intent on the order venue's grid before the pre-trade checks."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from qbtc.config import load_settings
from qbtc.risk.cycle_inputs import RiskConfig
from qbtc.risk.venue_grid import CycleVenueRules, apply_venue_rules_to
from tests.execution.conftest import make_intent
from tests.risk.lake import AS_OF, BTC, ETH

ADA = "ADA/USDT:USDT"


def config_for(data_dir: Path, **settings: object) -> RiskConfig:
    return RiskConfig.from_settings(load_settings(data_dir=data_dir, symbols=f"{BTC},{ETH}"))


def test_intents_are_rounded_to_lots_and_small_ones_refused(data_dir: Path) -> None:
    config = config_for(data_dir)
    intents = [
        make_intent(ADA, "sell", 65815.293856, leg="a"),
        make_intent(BTC, "buy", 0.0123456, leg="b"),
        make_intent(ETH, "buy", 0.0049, leg="c"),
    ]
    prices = {ADA: 0.7, BTC: 90_000.0, ETH: 3_000.0}
    ada, btc, eth = apply_venue_rules_to(intents, config, AS_OF, prices)
    assert (ada.status, ada.quantity) == ("accepted", 65815.0)
    assert (btc.status, btc.quantity) == ("accepted", 0.012)
    assert eth.status == "refused"
    assert eth.reason is not None
    assert eth.reason.startswith("venue rules: notional 12.0000 below the venue minimum 20")


def test_an_option_the_venue_does_not_list_is_refused(data_dir: Path) -> None:
    config = config_for(data_dir)
    gone = make_intent("BTC/USDT:USDT-250101-90000-C", leg="x")
    (out,) = apply_venue_rules_to([gone], config, AS_OF, {})
    assert out.status == "refused"
    assert out.reason == "venue rules: BTC/USDT:USDT-250101-90000-C is not listed on the venue"


def test_unreadable_markets_refuse_every_intent_with_the_reason(data_dir: Path) -> None:
    config = dataclasses.replace(config_for(data_dir), exchange="no-such-venue")
    (out,) = apply_venue_rules_to([make_intent(BTC)], config, AS_OF, {BTC: 90_000.0})
    assert out.status == "refused"
    assert out.reason is not None
    assert out.reason.startswith("venue rules: the markets of no-such-venue could not be loaded")


def test_the_simulated_markets_are_read_once_per_clock_and_universe(
    data_dir: Path, monkeypatch
) -> None:
    import qbtc.market.venue as venue

    opened = []
    real = venue.open_exchange

    def counted(*args, **kwargs):
        opened.append(kwargs.get("as_of"))
        return real(*args, **kwargs)

    monkeypatch.setattr(venue, "open_exchange", counted)
    config = config_for(data_dir)
    later = AS_OF + timedelta(minutes=7)  # a clock no other test reads
    intents = [make_intent(BTC, "buy", 0.0123456, leg="b")]
    first = CycleVenueRules(config, later)(intents, {BTC: 90_000.0})
    # another stage of the same cycle (the hedge): the same rules, no second listing
    again = apply_venue_rules_to(intents, config, later, {BTC: 90_000.0})
    assert again == first
    assert opened == [later]
    apply_venue_rules_to(intents, config, later + timedelta(minutes=1), {BTC: 90_000.0})
    assert len(opened) == 2
