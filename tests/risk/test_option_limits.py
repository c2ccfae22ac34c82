"""Option limits before trading: gamma, vega and theta per underlying and for the book,
premium at risk, short-option margin; order size of an option is its premium; the kill
switch lets only reduce-only option legs through; legs the planner refused stay refused."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from qbtc.risk import assess_book
from qbtc.risk.assessment import unit_risks
from qbtc.risk.killswitch import KillSwitchState
from qbtc.risk.limits import breaches, short_option_margin
from qbtc.risk.pretrade import PretradeContext, check_in_order, check_intents
from tests.risk.books import model, perp_book
from tests.risk.test_pretrade import BTC, CALL, LOOSE, intent, unit_books


@pytest.fixture(scope="module")
def context() -> PretradeContext:
    assessment = assess_book(perp_book(), model(), scenarios=2000, seed=3)
    return PretradeContext(
        state=assessment.state,
        units=unit_risks(unit_books(), assessment.scenarios),
        equity=1_000_000.0,
        mark_age_s={BTC: 5.0, CALL: 30.0},
        gate_passed=True,
    )


def test_the_call_unit_carries_premium_margin_theta_and_its_underlying(context):
    unit = context.units[CALL]
    assert unit.underlying == "BTC"
    assert 4_000 < unit.premium < 6_000  # ATM, 3 months, 50% vol on 50,000
    assert unit.short_margin == pytest.approx(
        short_option_margin(unit.premium, 50_000, 50_000, True)
    )
    assert unit.theta_usd < 0 < unit.vega_usd


def test_short_option_margin_shape():
    assert short_option_margin(100.0, 50_000, 50_000, True) == 100.0 + 7_500.0
    # far out of the money: the 10% floor
    assert short_option_margin(10.0, 50_000, 60_000, True) == 10.0 + 5_000.0
    assert short_option_margin(10.0, 50_000, 48_000, False) == 10.0 + 5_500.0


@pytest.mark.parametrize(
    ("limit", "value", "side", "reason"),
    [
        ("max_vega_usd_underlying", 150.0, "buy", "BTC vega would be"),
        ("max_gamma_usd_underlying", 10.0, "buy", "BTC dollar gamma would be"),
        ("max_theta_usd_underlying", 20.0, "buy", "BTC theta would be"),
        ("max_theta_usd", 20.0, "buy", "theta would be"),
        ("max_premium_at_risk", 8_000.0, "buy", "premium at risk would be"),
        ("max_short_option_margin", 20_000.0, "sell", "short option margin would be"),
        ("max_order_notional", 9_000.0, "buy", "order notional"),
    ],
)
def test_each_option_limit_refuses_with_its_reason(context, limit, value, side, reason):
    limits = dataclasses.replace(LOOSE, **{limit: value})
    (out,) = check_intents([intent(CALL, side, 2.0)], context, limits)
    assert out.status == "refused"
    assert reason in (out.reason or "")
    (fine,) = check_intents([intent(CALL, side, 2.0)], context, LOOSE)
    assert fine.status == "accepted"


def test_order_size_of_an_option_is_its_premium_not_the_underlying(context):
    limits = dataclasses.replace(LOOSE, max_order_notional=50_000.0)
    (out,) = check_intents([intent(CALL, "buy", 5.0)], context, limits)  # 250,000 underlying
    assert out.status == "accepted"


def test_accepted_legs_use_up_the_room_and_a_closing_leg_passes(context):
    limits = dataclasses.replace(LOOSE, max_vega_usd_underlying=250.0)
    checked = check_in_order([intent(CALL, "buy", 2.0), intent(CALL, "buy", 2.0)], context, limits)
    assert [i.status for i in checked.intents] == ["accepted", "refused"]
    assert checked.accepted == 1
    assert checked.state.options[CALL][0] == 2.0
    assert breaches(checked.state, dataclasses.replace(limits, max_vega_usd_underlying=100.0), 1e6)
    later = dataclasses.replace(context, state=checked.state)
    tighter = dataclasses.replace(limits, max_vega_usd_underlying=100.0)
    close = intent(CALL, "sell", 1.0, leg="close", reduce_only=True)
    (out,) = check_intents([close], later, tighter)
    assert out.status == "accepted"  # reduces a limit already exceeded


def test_kill_switch_passes_only_reduce_only_option_legs(context):
    switch = KillSwitchState(on=True, reason="drill", since=datetime(2026, 1, 1, tzinfo=UTC))
    tripped = dataclasses.replace(context, kill_switch=switch)
    opening = intent(CALL, "sell", 1.0, leg="straddle-call")
    closing = intent(CALL, "buy", 1.0, leg="close", reduce_only=True)
    out = check_intents([opening, closing], tripped, LOOSE)
    assert [i.status for i in out] == ["refused", "accepted"]
    assert "kill switch on" in (out[0].reason or "")


def test_a_leg_refused_by_the_planner_stays_refused(context):
    planned = dataclasses.replace(
        intent(CALL, "buy", 1.0), status="refused", reason="no bid quoted (illiquid)"
    )
    (out,) = check_intents([planned], context, LOOSE)
    assert (out.status, out.reason) == ("refused", "no bid quoted (illiquid)")
