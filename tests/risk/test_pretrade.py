from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from qbtc.execution.intents import OrderIntent
from qbtc.risk import (
    Book,
    KillSwitchState,
    Limits,
    OptionLegs,
    PerpLegs,
    PretradeContext,
    assess_book,
    breaches,
    check_intents,
    unit_risks,
)
from tests.risk.books import SPOT, UNDERLYINGS, model, perp_book

BAR = datetime(2026, 1, 5, 12, tzinfo=UTC)
BTC, ETH, CALL = "BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USDT:USDT-260327-50000-C"
LOOSE = Limits(
    max_gross_notional=1e9,
    max_net_notional=1e9,
    max_symbol_notional=1e9,
    max_leverage=1e3,
    max_delta_usd=1e9,
    max_gamma_usd=1e9,
    max_vega_usd=1e9,
    max_var_99=1e9,
    max_order_notional=1e9,
    max_orders_per_cycle=100,
    max_data_age_s=900,
    max_drawdown=0.15,
)


def unit_books() -> dict[str, Book]:
    def perp(symbol: str, u: int) -> Book:
        return Book(UNDERLYINGS, SPOT, PerpLegs((symbol,), [u], [1.0], [SPOT[u]]))

    call = OptionLegs((CALL,), [0], [1.0], [50_000.0], [50_000.0], [0.25], [0.5], [True])
    return {BTC: perp(BTC, 0), ETH: perp(ETH, 1), CALL: Book(UNDERLYINGS, SPOT, options=call)}


@pytest.fixture(scope="module")
def context() -> PretradeContext:
    # held: +10 BTC (500,000) and -100 ETH (-300,000): gross 800,000, net 200,000
    assessment = assess_book(perp_book(), model(), scenarios=4000, seed=3)
    return PretradeContext(
        state=assessment.state,
        units=unit_risks(unit_books(), assessment.scenarios),
        equity=1_000_000.0,
        mark_age_s={BTC: 5.0, ETH: 5.0, CALL: 30.0},
        gate_passed=True,
    )


def intent(symbol: str, side: str, quantity: float, *, leg: str = "increase", reduce_only=False):
    price = {BTC: 50_000.0, ETH: 3_000.0, CALL: 50_000.0}[symbol]
    return OrderIntent(
        run_id="r",
        portfolio_id="main",
        strategy="qbtc",
        symbol=symbol,
        leg=leg,
        decision_bar=BAR,
        side=side,  # type: ignore[arg-type]
        quantity=quantity,
        notional=quantity * price,
        reduce_only=reduce_only,
    )


def decide(context, limits, *intents):
    return check_intents(intents, context, limits)


def test_intents_within_limits_are_accepted(context):
    out = decide(context, LOOSE, intent(BTC, "buy", 1.0), intent(CALL, "sell", 2.0))
    assert [(i.status, i.reason) for i in out] == [("accepted", None), ("accepted", None)]


@pytest.mark.parametrize(
    ("limit", "value", "order", "reason"),
    [
        ("max_gross_notional", 900_000.0, (BTC, "buy", 3.0), "gross notional would be 950,000.00"),
        ("max_net_notional", 300_000.0, (BTC, "buy", 3.0), "net notional would be 350,000.00"),
        ("max_symbol_notional", 600_000.0, (BTC, "buy", 3.0), f"{BTC} notional would be 650,000"),
        ("max_leverage", 0.9, (BTC, "buy", 3.0), "leverage would be 0.95 x"),
        ("max_delta_usd", 300_000.0, (BTC, "buy", 3.0), "net delta would be 350,000.00"),
        ("max_gamma_usd", 100.0, (CALL, "buy", 1.0), "dollar gamma would be"),
        ("max_vega_usd", 50.0, (CALL, "sell", 1.0), "vega would be"),
        ("max_var_99", 20_000.0, (BTC, "buy", 5.0), "1-day VaR would be"),
        ("max_order_notional", 100_000.0, (BTC, "buy", 3.0), "order notional 150,000.00 USDT"),
    ],
)
def test_each_limit_refuses_with_its_reason(context, limit, value, order, reason):
    limits = dataclasses.replace(LOOSE, **{limit: value})
    (out,) = decide(context, limits, intent(*order))
    assert out.status == "refused"
    assert reason in (out.reason or "")
    (fine,) = decide(context, LOOSE, intent(*order))
    assert fine.status == "accepted"


def test_a_trade_reducing_an_exceeded_limit_passes(context):
    limits = dataclasses.replace(LOOSE, max_gross_notional=500_000.0)
    assert breaches(context.state, limits, 1e6)[0].limit == "max_gross_notional"
    (out,) = decide(context, limits, intent(BTC, "sell", 2.0, leg="reduce", reduce_only=True))
    assert out.status == "accepted"


def test_accepted_orders_use_up_the_room_of_later_ones(context):
    limits = dataclasses.replace(LOOSE, max_symbol_notional=620_000.0)
    first, second = decide(
        context, limits, intent(BTC, "buy", 2.0), intent(BTC, "buy", 1.0, leg="more")
    )
    assert (first.status, second.status) == ("accepted", "refused")


def test_orders_per_cycle(context):
    limits = dataclasses.replace(LOOSE, max_orders_per_cycle=2)
    out = decide(context, limits, *(intent(ETH, "buy", 1.0, leg=str(k)) for k in range(3)))
    assert [i.status for i in out] == ["accepted", "accepted", "refused"]
    assert out[2].reason == "orders per cycle limit 2 reached"


def test_stale_or_missing_marks_and_failed_gate_refuse(context):
    stale = dataclasses.replace(context, mark_age_s={BTC: 1000.0, ETH: 5.0})
    (out,) = decide(stale, LOOSE, intent(BTC, "buy", 1.0))
    assert out.reason == f"stale data: mark of {BTC} is 1,000 s old (limit 900 s)"
    (missing,) = decide(stale, LOOSE, intent(CALL, "buy", 1.0))
    assert missing.reason == f"no mark for {CALL}: cannot value the order"
    gate = dataclasses.replace(context, gate_passed=False, gate_reasons=("ohlcv: 3% bad rows",))
    (failed,) = decide(gate, LOOSE, intent(BTC, "sell", 1.0, reduce_only=True))
    assert failed.reason == "quality gate failed: ohlcv: 3% bad rows"


def test_kill_switch_lets_only_reduce_only_intents_through(context):
    since = datetime(2026, 1, 5, 11, tzinfo=UTC)
    on = dataclasses.replace(context, kill_switch=KillSwitchState(True, "drawdown 16%", since))
    out = decide(
        on,
        LOOSE,
        intent(BTC, "buy", 1.0),
        intent(BTC, "sell", 1.0, leg="reduce", reduce_only=True),
        intent(ETH, "buy", 10.0, leg="reduce", reduce_only=True),
    )
    assert [i.status for i in out] == ["refused", "accepted", "accepted"]
    assert out[0].reason == (
        "kill switch on since 2026-01-05T11:00:00+00:00 (drawdown 16%): "
        "only reduce-only orders pass"
    )


def test_breaches_of_the_current_book(context):
    limits = dataclasses.replace(
        LOOSE, max_symbol_notional=400_000.0, max_var_99=1.0, max_leverage=0.5
    )
    found = {b.limit: b for b in breaches(context.state, limits, 1_000_000.0)}
    assert set(found) == {"max_symbol_notional", "max_var_99", "max_leverage"}
    assert found["max_leverage"].value == pytest.approx(0.8)
    assert found["max_symbol_notional"].message.startswith(f"{BTC} notional 500,000.00 USDT")
    assert np.isclose(found["max_var_99"].value, context.state.var)


def walked_one_by_one(intents, context, limits):
    """The checks' rule for single intents written plainly: every state measured afresh."""
    from qbtc.risk.limits import LABELS, measures, underlying_measures

    state, out = context.state, []
    for order in intents:
        unit = context.units[order.symbol]
        after = state.after(unit, order.quantity if order.side == "buy" else -order.quantity)
        pre, post = measures(state, context.equity), measures(after, context.equity)
        checked = [(LABELS[n], n, v, u, pre[n][0]) for n, (v, u) in post.items()]
        was = abs(state.by_symbol.get(order.symbol, 0.0))
        value = abs(after.by_symbol.get(order.symbol, 0.0))
        checked.append((f"{order.symbol} notional", "max_symbol_notional", value, "USDT", was))
        before_greeks = underlying_measures(state, unit.underlying)
        for n, (v, u) in underlying_measures(after, unit.underlying).items():
            checked.append((f"{unit.underlying} {LABELS[n]}", n, v, u, before_greeks[n][0]))
        reasons = [
            f"{label} would be {v:,.2f} {u}, above the limit {getattr(limits, n):,.2f} {u}"
            for label, n, v, u, w in checked
            if v > getattr(limits, n) and v > w + 1e-9
        ]
        if reasons:
            out.append(("refused", "; ".join(reasons)))
        else:
            out.append(("accepted", None))
            state = after
    return out


@pytest.mark.parametrize("seed", range(8))
def test_checks_measure_each_state_as_a_fresh_walk_does(context, seed):
    """The checks measure each state once and carry it to the next intent: the outcome is
    that of measuring every state afresh, on random orders against tight limits."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.6, 1.6)
    limits = dataclasses.replace(
        LOOSE,
        max_gross_notional=900_000.0 * scale,
        max_net_notional=300_000.0 * scale,
        max_symbol_notional=600_000.0 * scale,
        max_delta_usd=300_000.0 * scale,
        max_gamma_usd=400.0 * scale,
        max_vega_usd=400.0 * scale,
        max_var_99=rng.uniform(0.5, 2.0) * context.state.var,
        max_gamma_usd_underlying=300.0 * scale,
    )
    symbols = [BTC, ETH, CALL]
    orders = [
        intent(
            symbols[int(rng.integers(3))],
            "buy" if rng.random() < 0.5 else "sell",
            float(rng.uniform(0.1, 6.0)),
            leg=str(k),
        )
        for k in range(25)
    ]
    got = [(i.status, i.reason) for i in decide(context, limits, *orders)]
    assert got == walked_one_by_one(orders, context, limits)
    assert {status for status, _ in got} == {"accepted", "refused"}
