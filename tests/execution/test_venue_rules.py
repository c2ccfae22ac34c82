"""Venue rules: lots, ticks, contract size, minimums, and the option limit-price policy."""

from __future__ import annotations

import dataclasses

import pytest
from ccxt.base.decimal_to_precision import (
    ROUND,
    TICK_SIZE,
    TRUNCATE,
    decimal_to_precision,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from qbtc.execution.limit_prices import option_limit_price
from qbtc.execution.ruled_intents import rule_intent, rule_intents
from qbtc.execution.venue_rules import (
    VenueRules,
    amount_to_precision,
    apply_venue_rules,
    market_rules,
    price_to_precision,
)
from qbtc.market.sim.markets import option_market, perp_market
from tests.execution.conftest import make_intent

STEPS = st.sampled_from([1.0, 0.1, 0.01, 0.001, 0.0001, 5.0, 0.5, 0.0005, 25.0, 10.0, 0.2])
AMOUNTS = st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False)

#: Binance USD-M BTCUSDT as ccxt 4.5 parses it (LOT_SIZE stepSize 0.001, minQty 0.001,
#: PRICE_FILTER tickSize 0.10, MIN_NOTIONAL 100), the shape of
#: ts/src/test/static/markets/binance.json in the ccxt repository.
BINANCE_BTC = {
    "symbol": "BTC/USDT:USDT",
    "contractSize": 1.0,
    "precision": {"amount": 0.001, "price": 0.1},
    "limits": {
        "amount": {"min": 0.001, "max": 1000.0},
        "price": {"min": 556.8, "max": 4529764.0},
        "cost": {"min": 100.0, "max": None},
    },
}


@settings(max_examples=300, deadline=None)
@given(amount=AMOUNTS, step=STEPS)
def test_amount_rounding_equals_ccxt_amount_to_precision(amount: float, step: float) -> None:
    expected = float(decimal_to_precision(amount, TRUNCATE, step, TICK_SIZE))
    assert amount_to_precision(amount, step) == expected


@settings(max_examples=300, deadline=None)
@given(price=st.floats(min_value=1e-4, max_value=1e7), step=STEPS)
def test_price_rounding_equals_ccxt_price_to_precision(price: float, step: float) -> None:
    expected = float(decimal_to_precision(price, ROUND, step, TICK_SIZE))
    assert price_to_precision(price, step) == expected


@settings(max_examples=300, deadline=None)
@given(quantity=AMOUNTS, step=STEPS, size=st.sampled_from([1.0, 0.1, 10.0, 0.0001]))
def test_rounding_to_lots_never_increases_the_quantity(
    quantity: float, step: float, size: float
) -> None:
    rules = VenueRules("X/USDT:USDT", amount_step=step, contract_size=size)
    rounded = rules.round_quantity(quantity)
    assert 0.0 <= rounded <= quantity
    lots = rounded / (step * size)
    assert abs(lots - round(lots)) <= 1e-9 * max(lots, 1.0)
    assert quantity - rounded < step * size * (1 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(price=st.floats(min_value=0.01, max_value=1e6), step=STEPS)
def test_directed_price_rounding_never_crosses(price: float, step: float) -> None:
    down = price_to_precision(price, step, rounding="down")
    up = price_to_precision(price, step, rounding="up")
    assert down <= price * (1 + 1e-12)
    assert up >= price * (1 - 1e-12)
    assert round((up - down) / step) in (0, 1)


def test_the_ada_quantity_of_the_issue_is_rounded_to_whole_coins() -> None:
    rules = VenueRules.from_market(perp_market("ADA/USDT:USDT"))
    ruled = apply_venue_rules(rules, 65815.293856, reference_price=0.7, side="sell")
    assert ruled.accepted
    assert ruled.quantity == 65815.0


def test_an_order_below_the_minimum_amount_is_refused() -> None:
    rules = VenueRules.from_market(BINANCE_BTC)
    ruled = apply_venue_rules(rules, 0.0009, reference_price=90_000.0)
    assert not ruled.accepted
    assert "less than one lot" in (ruled.refusal or "")
    rules = dataclasses.replace(rules, min_amount=0.01)
    ruled = apply_venue_rules(rules, 0.005, reference_price=90_000.0)
    assert "below the venue minimum 0.01" in (ruled.refusal or "")


def test_an_order_below_the_minimum_notional_is_refused_unless_reduce_only() -> None:
    rules = VenueRules.from_market(BINANCE_BTC)
    small = apply_venue_rules(rules, 0.001, reference_price=90_000.0)
    assert small.refusal is not None
    assert "notional 90.0000 below the venue minimum 100" in (small.refusal)
    closing = apply_venue_rules(rules, 0.001, reference_price=90_000.0, reduce_only=True)
    assert closing.accepted
    assert closing.quantity == 0.001


def test_an_order_above_the_maximum_amount_is_refused() -> None:
    rules = VenueRules.from_market(BINANCE_BTC)
    ruled = apply_venue_rules(rules, 1500.0, reference_price=90_000.0)
    assert "above the venue maximum 1000" in (ruled.refusal or "")


def test_contract_size_sets_the_coin_lot() -> None:
    rules = VenueRules("BTC/USD:BTC", amount_step=1.0, contract_size=0.1, min_amount=1.0)
    assert rules.lot() == pytest.approx(0.1)
    assert rules.round_quantity(0.37) == 0.3
    assert rules.round_quantity(0.3) == 0.3  # 0.3 / 0.1 is 2.999... in floats, 3 lots here
    assert not apply_venue_rules(rules, 0.05, reference_price=1.0).accepted


def test_decimal_places_markets_are_read_as_ticks() -> None:
    market = {"symbol": "X/USDT:USDT", "precision": {"amount": 2, "price": 1}}
    rules = VenueRules.from_market(market, precision_mode="decimal_places")
    assert rules.amount_step == pytest.approx(0.01)
    assert rules.price_step == pytest.approx(0.1)


def test_limit_prices_are_rounded_so_they_never_get_worse() -> None:
    rules = VenueRules.from_market(option_market("BTC/USDT:USDT-261127-90000-C", "BTC-x"))
    buy = apply_venue_rules(
        rules, 0.5, reference_price=90_000.0, limit_price=1234.0, price_rounding="down"
    )
    sell = apply_venue_rules(
        rules, 0.5, reference_price=90_000.0, limit_price=1234.0, price_rounding="up"
    )
    assert (buy.price, sell.price) == (1230.0, 1235.0)


def test_rule_intent_rounds_and_recomputes_the_notional() -> None:
    rules = VenueRules.from_market(perp_market("BTC/USDT:USDT"))
    intent = make_intent(quantity=0.123456)
    ruled = rule_intent(intent, rules, reference_price=90_000.0)
    assert ruled.status == "accepted"
    assert ruled.quantity == 0.123
    assert ruled.notional == pytest.approx(0.123 * 90_000.0)
    assert ruled.client_order_id == intent.client_order_id


def test_rule_intent_refuses_with_the_reason_and_keeps_earlier_refusals() -> None:
    rules = VenueRules.from_market(BINANCE_BTC)
    refused = rule_intent(make_intent(quantity=0.0011), rules, reference_price=90_000.0)
    assert refused.status == "refused"
    assert refused.reason is not None
    assert refused.reason.startswith("venue rules: notional")
    earlier = dataclasses.replace(make_intent(), status="refused", reason="kill switch on")
    assert rule_intent(earlier, rules, reference_price=90_000.0) is earlier
    unlisted = rule_intent(make_intent(symbol="FOO/USDT:USDT"), None, reference_price=1.0)
    assert unlisted.reason == "venue rules: FOO/USDT:USDT is not listed on the venue"


def test_rule_intents_over_listed_markets() -> None:
    markets = {"BTC/USDT:USDT": BINANCE_BTC}
    rules = market_rules(markets, ["BTC/USDT:USDT", "ETH/USDT:USDT"])
    assert set(rules) == {"BTC/USDT:USDT"}
    out = rule_intents(
        [make_intent(quantity=0.0105), make_intent(symbol="ETH/USDT:USDT", leg="b")],
        rules,
        {"BTC/USDT:USDT": 90_000.0},
    )
    assert [i.status for i in out] == ["accepted", "refused"]
    assert out[0].quantity == 0.01


# -- the option limit-price policy -------------------------------------------------------------


def test_limit_price_takes_the_touch_with_no_improvement() -> None:
    assert option_limit_price("buy", 100.0, 110.0, inside=0.0, max_slippage=0.1).price == 110.0
    assert option_limit_price("sell", 100.0, 110.0, inside=0.0, max_slippage=0.1).price == 100.0


def test_limit_price_moves_inside_the_spread() -> None:
    buy = option_limit_price("buy", 100.0, 110.0, inside=0.25, max_slippage=1.0)
    sell = option_limit_price("sell", 100.0, 110.0, inside=0.25, max_slippage=1.0)
    assert (buy.price, sell.price, buy.mid) == (107.5, 102.5, 105.0)


def test_limit_price_is_never_worse_than_the_slippage_from_mid() -> None:
    buy = option_limit_price("buy", 50.0, 150.0, inside=0.0, max_slippage=0.1, tick=5.0)
    sell = option_limit_price("sell", 50.0, 150.0, inside=0.0, max_slippage=0.1, tick=5.0)
    assert buy.price == 110.0
    assert sell.price == 90.0


@settings(max_examples=300, deadline=None)
@given(
    bid=st.floats(min_value=0.1, max_value=1e4),
    width=st.floats(min_value=0.0, max_value=1e3),
    inside=st.floats(min_value=0.0, max_value=1.0),
    slippage=st.floats(min_value=0.0, max_value=0.5),
    tick=st.sampled_from([None, 0.1, 5.0, 0.0005]),
)
def test_limit_price_bounds(
    bid: float, width: float, inside: float, slippage: float, tick: float | None
) -> None:
    ask = bid + width
    mid = 0.5 * (bid + ask)
    buy = option_limit_price("buy", bid, ask, inside=inside, max_slippage=slippage, tick=tick)
    sell = option_limit_price("sell", bid, ask, inside=inside, max_slippage=slippage, tick=tick)
    if buy.price is not None:
        assert buy.price <= min(ask, mid * (1 + slippage)) * (1 + 1e-12)
    if sell.price is not None:
        assert sell.price >= max(bid, mid * (1 - slippage)) * (1 - 1e-12)


@pytest.mark.parametrize(
    ("bid", "ask", "reason"),
    [
        (None, 10.0, "no bid quoted"),
        (5.0, None, "no ask quoted"),
        (0.0, 10.0, "bid 0 is not positive"),
        (12.0, 10.0, "crossed quote"),
        (float("nan"), 10.0, "no bid quoted"),
    ],
)
def test_unpriceable_quotes_give_a_reason_never_a_price(
    bid: float | None, ask: float | None, reason: str
) -> None:
    quote = option_limit_price("buy", bid, ask, inside=0.0, max_slippage=0.05)
    assert quote.price is None
    assert reason in (quote.reason or "")


def test_limit_price_settings_out_of_range_raise() -> None:
    with pytest.raises(ValueError, match="inside"):
        option_limit_price("buy", 1.0, 2.0, inside=1.5, max_slippage=0.1)
    with pytest.raises(ValueError, match="max_slippage"):
        option_limit_price("buy", 1.0, 2.0, inside=0.1, max_slippage=-0.1)
