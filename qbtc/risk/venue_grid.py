"""A cycle's intents put on the order venue's grid: lots, ticks and minimums from the
venue's markets (:mod:`qbtc.execution.venue_rules`), read once per cycle.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any

from qbtc.execution.intents import OrderIntent
from qbtc.execution.ruled_intents import refuse_all, rule_intents
from qbtc.execution.venue_rules import VenueRules, listed_rules
from qbtc.market.contracts import is_option_symbol
from qbtc.risk.cycle_inputs import RiskConfig


def apply_venue_rules_to(
    intents: list[OrderIntent], config: RiskConfig, as_of: datetime, prices: dict[str, float]
) -> tuple[OrderIntent, ...]:
    """Round the cycle's intents to the order venue's lots and ticks, refuse those below its
    minimums (:mod:`qbtc.execution.venue_rules`).

    The rules come from the markets of ``config.exchange`` (the venue orders go to) at
    ``as_of`` on the simulated venue; when they cannot be loaded every intent is refused
    with the reason (nothing is sent off the venue's grid).
    """
    return CycleVenueRules(config, as_of)(intents, prices)


class CycleVenueRules:
    """:func:`apply_venue_rules_to` for the several batches of one cycle's intents (option
    legs, then perps): the venue's markets are read once for every symbol of the universe
    and the first batch, and again only for a symbol not asked for yet."""

    def __init__(self, config: RiskConfig, as_of: datetime) -> None:
        self.config, self.as_of = config, as_of
        self.rules: dict[str, VenueRules] = {}
        self.asked: set[str] = set()

    def __call__(
        self, intents: list[OrderIntent], prices: dict[str, float]
    ) -> tuple[OrderIntent, ...]:
        if not intents:
            return ()
        symbols = [i.symbol for i in intents]
        if not self.asked.issuperset(symbols):
            try:
                self._load([*self.config.symbols, *symbols])
            except Exception as exc:
                why = f"venue rules: the markets of {self.config.exchange} could not be loaded ({exc})"
                return refuse_all(intents, why[:400])
        return rule_intents(intents, self.rules, prices)

    def _load(self, symbols: list[str]) -> None:
        from qbtc.market.venue import open_exchange

        config = self.config
        perps = [s for s in dict.fromkeys(symbols) if not is_option_symbol(s)]
        simulated = config.exchange == "sim"
        key = (config.seed, self.as_of, tuple(perps))
        listed = _SIM_MARKETS.get(key) if simulated else None
        if listed is None:
            venue = open_exchange(
                config.exchange,
                seed=config.seed,
                as_of=self.as_of if simulated else None,
                symbols=perps,
                testnet=config.exchange_testnet,
                base_url=config.exchange_base_url,
            )
            listed = (venue.id, venue.load_markets())
            if simulated:
                _SIM_MARKETS[key] = listed
                while len(_SIM_MARKETS) > _SIM_MARKETS_KEPT:
                    _SIM_MARKETS.popitem(last=False)
        self.rules.update(listed_rules(listed[1], symbols, exchange_id=listed[0]))
        self.asked.update(symbols)


#: The simulated venue lists the same markets for the same seed, clock and perps however often
#: it is asked (the listing is generated, not fetched): the stages of one cycle in one process
#: (decision, hedge) read it once. A real venue's markets are read each time.
_SIM_MARKETS: OrderedDict[tuple[int, datetime, tuple[str, ...]], tuple[str, Any]] = OrderedDict()
_SIM_MARKETS_KEPT = 4
