"""Lopsided option structures (one leg filled, the other in part or not at all): found,
completed next cycle when kept (less what a working order still brings), closed whole
otherwise, and never ordered twice while an order on the leg still works at the venue."""

from __future__ import annotations

import pytest

from qbtc.portfolio.chain import chain_quotes
from qbtc.portfolio.legs import describe_missing, missing_legs
from qbtc.portfolio.option_plan import OptionBook
from qbtc.portfolio.options import plan_option_intents
from tests.portfolio.test_options import CONFIG, DECISION, EQUITY, chain_frame, opened, view

C, P = "BTC/USDT:USDT-261225-90000-C", "BTC/USDT:USDT-261225-90000-P"


def test_missing_legs_of_a_structure_held_lopsided():
    ids = {C: "os1", P: "os1"}
    assert missing_legs({C: -2.0, P: -2.0}, ids) == {}
    assert missing_legs({C: -2.0, P: -0.5}, ids) == {"os1": {P: pytest.approx(-1.5)}}
    assert missing_legs({C: 3.0}, ids) == {"os1": {P: 3.0}}  # the put never filled
    assert missing_legs({}, ids) == {}  # closed: nothing held, nothing missing
    text = describe_missing({P: -1.5}, {C: -2.0, P: -0.5})
    assert text == f"{P} held -0.5, -1.5 to the structure's size"


def planned(holdings, ids, vol_view=0.5, working=None):
    frame = chain_frame()
    book = OptionBook(
        {"BTC": view(vol_view)}, chain_quotes(frame), holdings, ids, EQUITY, working or {}
    )
    return plan_option_intents(book, CONFIG, DECISION)


def test_a_kept_structure_whose_put_filled_in_part_is_completed():
    holdings, ids = opened(chain_frame())
    put = next(s for s in holdings if s.endswith("-P"))
    size = holdings[put]
    lopsided = {**holdings, put: size * 0.25}
    result = planned(lopsided, ids)
    (order,) = result.intents
    assert (order.symbol, order.leg, order.side, order.reduce_only) == (
        put,
        "complete",
        "buy",
        False,
    )
    assert order.quantity == pytest.approx(size * 0.75)
    assert order.structure_id == ids[put]
    assert order.status == "pending"
    assert order.limit_price is not None
    (row,) = result.structures
    assert row["action"] == "complete"
    assert put in row["reason"]


def test_no_second_order_while_the_first_still_works_at_the_venue():
    holdings, ids = opened(chain_frame())
    put = next(s for s in holdings if s.endswith("-P"))
    size = holdings[put]
    lopsided = {**holdings, put: size * 0.25}
    # the opening order rests with 0.75 x size still to buy: nothing more is ordered
    result = planned(lopsided, ids, working={put: size * 0.75})
    assert result.intents == []
    (row,) = result.structures
    assert row["action"] == "keep"
    assert "held" in row["reason"]
    # a working order for part of it: only the rest is ordered
    (order,) = planned(lopsided, ids, working={put: size * 0.5}).intents
    assert order.quantity == pytest.approx(size * 0.25)


def test_a_lopsided_structure_the_view_no_longer_wants_is_closed_whole():
    holdings, ids = opened(chain_frame())
    put = next(s for s in holdings if s.endswith("-P"))
    lopsided = {**holdings, put: holdings[put] * 0.25}
    result = planned(lopsided, ids, vol_view=0.0)
    assert {i.leg for i in result.intents} == {"close"}
    assert {i.symbol: i.quantity for i in result.intents} == lopsided


def test_a_close_order_still_working_is_not_sent_again():
    holdings, ids = opened(chain_frame())
    call = next(s for s in holdings if s.endswith("-C"))
    # last cycle's close of the call filled in part and rests for the rest
    left = {call: holdings[call] * 0.3}
    result = planned(left, ids, vol_view=0.0, working={call: -holdings[call] * 0.3})
    assert result.intents == []
    assert [r["action"] for r in result.structures] == ["close"]
