"""Pre-trade checks of option structures: the legs of a structure are checked together.

A delta-neutral straddle is measured on the book after both legs, so its first leg alone
(a directional call) does not get it refused or half-accepted; a structure passes whole or
is refused whole, with the reason on every leg; the kill switch still lets reduce-only legs
(closing a held structure) through.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from qbtc.risk import Book, OptionLegs, assess_book
from qbtc.risk.assessment import unit_risks
from qbtc.risk.killswitch import KillSwitchState
from qbtc.risk.pretrade import PretradeContext, check_in_order, check_intents
from tests.risk.books import SPOT, UNDERLYINGS, model, perp_book
from tests.risk.test_pretrade import BTC, CALL, LOOSE, intent, unit_books

PUT = "BTC/USDT:USDT-260327-50000-P"
SID = "os-straddle"


@pytest.fixture(scope="module")
def context() -> PretradeContext:
    assessment = assess_book(perp_book(), model(), scenarios=2000, seed=3)
    put = OptionLegs((PUT,), [0], [1.0], [50_000.0], [50_000.0], [0.25], [0.5], [False])
    books = {**unit_books(), PUT: Book(UNDERLYINGS, SPOT, options=put)}
    return PretradeContext(
        state=assessment.state,
        units=unit_risks(books, assessment.scenarios),
        equity=1_000_000.0,
        mark_age_s={BTC: 5.0, CALL: 30.0, PUT: 30.0},
        gate_passed=True,
    )


def leg(symbol: str, side: str, quantity: float, **changes):
    base = intent(CALL, side, quantity, leg=f"straddle-{'call' if symbol == CALL else 'put'}")
    return dataclasses.replace(base, symbol=symbol, structure_id=SID, **changes)


def straddle(side: str = "buy", quantity: float = 1.0, **changes):
    return [leg(CALL, side, quantity, **changes), leg(PUT, side, quantity, **changes)]


def test_a_straddle_is_measured_on_both_legs_not_its_directional_first_leg(context):
    call, put = context.units[CALL], context.units[PUT]
    net = call.delta_usd + put.delta_usd
    assert call.delta_usd > 4 * abs(net)  # the first leg alone looks directional
    # room for the straddle's small net delta, not for its call alone
    limits = dataclasses.replace(LOOSE, max_delta_usd=context.state.delta_usd + 2 * abs(net))
    checked = check_in_order(straddle(), context, limits)
    assert [i.status for i in checked.intents] == ["accepted", "accepted"]
    assert checked.accepted == 2
    assert checked.state.delta_usd == pytest.approx(context.state.delta_usd + net)


def test_a_structure_over_a_limit_is_refused_whole_with_the_reason_on_each_leg(context):
    vega = context.units[CALL].vega_usd
    assert vega > 0
    # room for one leg's vega, not for both: no leg may trade alone
    limits = dataclasses.replace(LOOSE, max_vega_usd_underlying=1.5 * vega)
    checked = check_in_order(straddle(), context, limits)
    assert [i.status for i in checked.intents] == ["refused", "refused"]
    for out in checked.intents:
        assert "2 legs together" in (out.reason or "")
        assert "BTC vega would be" in (out.reason or "")
    assert checked.accepted == 0
    assert checked.state is context.state


def test_a_leg_refused_upstream_refuses_its_sibling(context):
    call, put = straddle()
    below = dataclasses.replace(put, status="refused", reason="venue rules: below the minimum")
    out = check_intents([call, below], context, LOOSE)
    assert [i.status for i in out] == ["refused", "refused"]
    assert out[1].reason == "venue rules: below the minimum"
    assert PUT in (out[0].reason or "")
    assert "venue rules: below the minimum" in (out[0].reason or "")


def test_a_structure_needs_room_for_all_its_legs_in_the_orders_per_cycle(context):
    limits = dataclasses.replace(LOOSE, max_orders_per_cycle=1)
    out = check_intents(straddle(), context, limits)
    assert [i.status for i in out] == ["refused", "refused"]
    assert "orders per cycle limit 1 reached" in (out[1].reason or "")
    assert "structure refused with its other leg(s)" in (out[0].reason or "")


def test_legs_are_grouped_by_structure_and_other_intents_keep_their_place(context):
    perp = intent(BTC, "buy", 1.0)
    other = dataclasses.replace(leg(CALL, "sell", 1.0), structure_id="os-other")
    out = check_intents([leg(CALL, "buy", 1.0), perp, other, leg(PUT, "buy", 1.0)], context, LOOSE)
    assert [(i.symbol, i.structure_id) for i in out] == [
        (CALL, SID),
        (BTC, None),
        (CALL, "os-other"),
        (PUT, SID),
    ]
    assert all(i.status == "accepted" for i in out)


def test_kill_switch_passes_a_closing_structure_and_refuses_an_opening_one(context):
    switch = KillSwitchState(on=True, reason="drill", since=datetime(2026, 1, 1, tzinfo=UTC))
    tripped = dataclasses.replace(context, kill_switch=switch)
    closing = straddle("sell", leg="close", reduce_only=True)
    out = check_intents(closing, tripped, LOOSE)
    assert [i.status for i in out] == ["accepted", "accepted"]
    opening = check_intents(straddle(), tripped, LOOSE)
    assert [i.status for i in opening] == ["refused", "refused"]
    assert all("kill switch on" in (i.reason or "") for i in opening)
