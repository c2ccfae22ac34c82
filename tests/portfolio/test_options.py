"""Option structures from vol views: selection, vega sizing, keep/close/roll, and bad quotes
(each skipped with its reason, never a crash or a made-up price).

Chains are the simulated venue's (``qbtc.market.sim.chain.option_chain``) normalised to
``option_quotes`` rows exactly as ingest stores them; bad quotes are edits of those rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbtc.market.options_frame import option_chain_to_frame
from qbtc.market.sim.chain import option_chain
from qbtc.portfolio.chain import ChainQuote, LiquidityRules, chain_quotes, quote_greeks
from qbtc.portfolio.option_plan import DecisionStamp, OptionBook
from qbtc.portfolio.options import plan_option_intents
from qbtc.portfolio.structures import (
    StructureConfig,
    select_structure,
    structure_quantity,
    structure_vega,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
EQUITY = 1_000_000.0
CONFIG = StructureConfig()
DECISION = DecisionStamp("run-1", "main", "qbtc", NOW - timedelta(minutes=1), NOW)


def chain_frame(at: datetime = NOW, underlying: str = "BTC") -> pl.DataFrame:
    raw = option_chain(7, underlying, int(at.timestamp() * 1000))
    return option_chain_to_frame(raw, underlying=underlying, now=at, source="sim")


def view(vol_view: float, underlying: str = "BTC") -> dict[str, Any]:
    return {"vol_view": vol_view, "view_id": f"vv-{underlying}", "feature_snapshot": "fs-1"}


def plan(
    frame: pl.DataFrame,
    views: dict[str, dict[str, Any]],
    holdings: dict[str, float] | None = None,
    structures: dict[str, str] | None = None,
    config: StructureConfig = CONFIG,
    decision: DecisionStamp = DECISION,
):
    book = OptionBook(views, chain_quotes(frame), holdings or {}, structures or {}, EQUITY)
    return plan_option_intents(book, config, decision)


def test_a_long_vol_view_buys_an_atm_straddle_sized_to_the_vega_budget() -> None:
    frame = chain_frame()
    result = plan(frame, {"BTC": view(0.5)})
    call, put = sorted(result.intents, key=lambda i: i.leg)
    assert (call.leg, put.leg) == ("straddle-call", "straddle-put")
    assert call.side == put.side == "buy"
    assert call.quantity == put.quantity > 0
    assert call.structure_id == put.structure_id is not None
    assert call.status == put.status == "pending"
    quotes = {q.symbol: q for q in chain_quotes(frame)["BTC"]}
    legs = [quotes[call.symbol], quotes[put.symbol]]
    assert legs[0].strike == legs[1].strike
    assert legs[0].expiry == legs[1].expiry == datetime(2026, 12, 25, 8, tzinfo=UTC)  # 23.8 d
    strikes = {q.strike for q in quotes.values() if q.expiry == legs[0].expiry}
    nearest = min(strikes, key=lambda k: abs(k - legs[0].forward))
    assert legs[0].strike == nearest
    vega = structure_vega(legs, NOW)
    assert vega is not None
    quoted = min(leg.ask_size for leg in legs if leg.ask_size is not None)
    sized = CONFIG.vega_budget * EQUITY / vega
    assert call.quantity == pytest.approx(min(sized, quoted), rel=1e-6)
    for intent, leg in zip((call, put), legs, strict=True):
        assert leg.bid is not None
        assert leg.ask is not None
        assert intent.limit_price is not None
        assert leg.bid <= intent.limit_price <= leg.ask
        assert intent.order_type == "limit"
        assert intent.notional == pytest.approx(intent.quantity * intent.limit_price)
    (row,) = result.structures
    assert (row["action"], row["view_id"], row["structure_id"]) == (
        "open",
        "vv-BTC",
        call.structure_id,
    )
    assert result.alerts == []


def test_short_below_minus_the_threshold_and_nothing_in_between() -> None:
    frame = chain_frame()
    short = plan(frame, {"BTC": view(-0.3)})
    assert {i.side for i in short.intents} == {"sell"}
    assert plan(frame, {"BTC": view(0.09)}).intents == []
    assert plan(frame, {"BTC": view(-0.09)}).intents == []


def test_a_strangle_takes_the_legs_nearest_the_target_delta() -> None:
    config = StructureConfig(kind="strangle", target_delta=0.25)
    frame = chain_frame()
    result = plan(frame, {"BTC": view(0.6)}, config=config)
    quotes = {q.symbol: q for q in chain_quotes(frame)["BTC"]}
    deltas = {}
    for intent in result.intents:
        g = quote_greeks(quotes[intent.symbol], NOW)
        assert g is not None
        deltas[intent.leg] = g.delta
    assert set(deltas) == {"strangle-call", "strangle-put"}
    assert abs(deltas["strangle-call"] - 0.25) < 0.08
    assert abs(deltas["strangle-put"] + 0.25) < 0.08


def opened(frame: pl.DataFrame, vol_view: float = 0.5) -> tuple[dict[str, float], dict[str, str]]:
    """Holdings and structure ids after the first plan's legs fully filled."""
    first = plan(frame, {"BTC": view(vol_view)})
    sign = 1.0 if vol_view > 0 else -1.0
    holdings = {i.symbol: sign * i.quantity for i in first.intents}
    ids = {i.symbol: i.structure_id or "" for i in first.intents}
    return holdings, ids


def test_a_held_structure_is_kept_closed_on_a_flip_and_rolled_before_expiry() -> None:
    frame = chain_frame()
    holdings, ids = opened(frame)
    kept = plan(frame, {"BTC": view(0.3)}, holdings, ids)
    assert kept.intents == []
    assert [r["action"] for r in kept.structures] == ["keep"]

    flat = plan(frame, {"BTC": view(0.0)}, holdings, ids)
    assert {(i.leg, i.side, i.reduce_only) for i in flat.intents} == {("close", "sell", True)}
    assert {i.symbol: i.quantity for i in flat.intents} == holdings
    assert {i.structure_id for i in flat.intents} == set(ids.values())

    flipped = plan(frame, {"BTC": view(-0.5)}, holdings, ids)
    closes = [i for i in flipped.intents if i.leg == "close"]
    opens = [i for i in flipped.intents if i.leg.startswith("straddle")]
    assert len(closes) == 2
    assert {i.side for i in opens} == {"sell"}
    assert {i.structure_id for i in opens}.isdisjoint(set(ids.values()))


def test_a_structure_is_rolled_before_expiry() -> None:
    later = datetime(2026, 12, 23, 10, tzinfo=UTC)  # 46 h before the 25 Dec expiry
    frame = chain_frame(later)
    expiring = frame.filter(pl.col("expiry") == datetime(2026, 12, 25, 8, tzinfo=UTC))
    held = atm_symbols(expiring)
    holdings = dict.fromkeys(held, 3.0)
    ids = dict.fromkeys(held, "os-held")
    decision = DecisionStamp("run-2", "main", "qbtc", later - timedelta(minutes=1), later)
    rolled = plan(frame, {"BTC": view(0.5)}, holdings, ids, decision=decision)
    rolls = [i for i in rolled.intents if i.leg == "roll"]
    new = [i for i in rolled.intents if i.leg.startswith("straddle")]
    assert {i.symbol for i in rolls} == set(holdings)
    assert all(i.reduce_only and i.status == "pending" for i in rolls)
    assert len(new) == 2
    assert all(i.symbol not in holdings for i in new)
    assert [r["action"] for r in rolled.structures] == ["roll", "open"]


def edit(frame: pl.DataFrame, symbols: list[str], **values: Any) -> pl.DataFrame:
    where = pl.col("symbol").is_in(symbols)
    return frame.with_columns(
        [
            pl.when(where).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
            for c, v in values.items()
        ]
    )


def atm_symbols(frame: pl.DataFrame) -> list[str]:
    """Every listed call and put at each expiry's strike nearest the forward."""
    out = []
    for _, group in frame.group_by("expiry"):
        forward = group["underlying_price"][0]
        strike = min(group["strike"].to_list(), key=lambda k: abs(k - forward))
        out += group.filter(pl.col("strike") == strike)["symbol"].to_list()
    return out


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"bid": None}, "no bid quoted (illiquid)"),
        ({"ask": None}, "no ask quoted (illiquid)"),
        ({"bid": 0.0}, "zero or negative quote"),
        ({"bid": 9_000.0, "ask": 8_000.0}, "crossed quote (bid 9000 above ask 8000)"),
        ({"bid": 10.0, "ask": 4_000.0}, "spread"),
        ({"mark_iv": float("nan"), "mark": 0.0}, "the IV solver cannot invert the mark 0"),
    ],
)
def test_bad_quotes_skip_the_structure_with_the_reason_and_an_alert(
    values: dict[str, Any], reason: str
) -> None:
    frame = chain_frame()
    calls = [s for s in atm_symbols(frame) if s.endswith("-C")]
    bad = edit(frame, calls, **values)
    result = plan(bad, {"BTC": view(0.5)})
    assert len(result.intents) == 2, "both legs are recorded as refused intents"
    put = next(i for i in result.intents if i.leg == "straddle-put")
    assert (put.reason or "").startswith("structure incomplete: ")
    assert all(i.status == "refused" for i in result.intents)
    assert any(reason in (i.reason or "") for i in result.intents)
    assert all(i.limit_price is None for i in result.intents)
    assert result.alerts
    assert reason in result.alerts[0]
    assert [r["action"] for r in result.structures] == ["skip"]


def test_a_structure_no_leg_of_which_has_an_iv_is_an_alert_without_size() -> None:
    frame = chain_frame()
    bad = edit(frame, atm_symbols(frame), mark_iv=float("nan"), mark=0.0)
    result = plan(bad, {"BTC": view(0.5)})
    assert result.intents == []
    assert "the IV solver cannot invert the mark 0" in result.alerts[0]
    assert result.structures[0]["action"] == "skip"


def test_a_bad_quote_on_the_preferred_expiry_moves_to_the_next_one() -> None:
    frame = chain_frame()
    target = datetime(2026, 12, 25, 8, tzinfo=UTC)
    atm = [s for s in atm_symbols(frame) if s in frame.filter(pl.col("expiry") == target)["symbol"]]
    result = plan(edit(frame, atm, bid=None), {"BTC": view(0.5)})
    assert {i.status for i in result.intents} == {"pending"}
    assert {i.symbol for i in result.intents}.isdisjoint(atm)


def test_quoted_sizes_below_the_minimum_are_illiquid() -> None:
    quotes = [q for q in chain_quotes(chain_frame())["BTC"] if q.bid is not None]
    quote = min(quotes, key=lambda q: abs(q.strike - q.forward))  # at the money, two-sided
    thin = ChainQuote(**{**quote.__dict__, "ask_size": 0.5, "bid_size": 20.0})
    config = StructureConfig(liquidity=LiquidityRules(0.25, 1.0))
    assert select_structure([thin], "buy", NOW, config).reason is not None
    from qbtc.portfolio.chain import quote_problem

    assert "0.5 contract(s) quoted on the buy side" in (
        quote_problem(thin, "buy", NOW, config.liquidity) or ""
    )
    assert quote_problem(thin, "sell", NOW, config.liquidity) is None


def test_held_legs_that_are_no_longer_listed_or_expired_cannot_be_closed() -> None:
    frame = chain_frame()
    gone = "BTC/USDT:USDT-261225-1000-C"
    holdings = {gone: 2.0}
    result = plan(frame, {"BTC": view(0.0)}, holdings, {gone: "os-old"})
    (intent,) = result.intents
    assert intent.status == "refused"
    assert "is not listed in the chain now" in (intent.reason or "")
    expired_at = datetime(2026, 12, 2, 9, tzinfo=UTC)
    stale = frame.filter(pl.col("expiry") == datetime(2026, 12, 2, 8, tzinfo=UTC))
    symbol = stale["symbol"][0]
    decision = DecisionStamp("run-3", "main", "qbtc", expired_at, expired_at)
    result = plan(stale, {}, {symbol: 1.0}, {symbol: "os-x"}, decision=decision)
    assert result.intents == []  # past expiry: left to the venue's settlement, no order
    assert [(r["action"], r["legs"]) for r in result.structures] == [("expired", symbol)]


def test_a_structure_is_never_larger_than_its_thinnest_quoted_leg() -> None:
    frame = chain_frame().with_columns(pl.lit(0.37).alias("ask_size"))
    result = plan(frame, {"BTC": view(0.5)})
    assert {i.quantity for i in result.intents} == {0.37}
    unquoted = chain_frame().with_columns(pl.lit(None, pl.Float64).alias("ask_size"))
    budget = plan(unquoted, {"BTC": view(0.5)})
    assert {i.quantity for i in budget.intents} != {0.37}


def test_no_expiry_in_the_window_is_one_clear_reason() -> None:
    frame = chain_frame().filter(pl.col("expiry") < datetime(2026, 12, 5, tzinfo=UTC))
    result = plan(frame, {"BTC": view(0.5)})
    assert result.intents == []
    assert "no listed expiry between 7 and 45 days" in result.alerts[0]


@settings(max_examples=40, deadline=None)
@given(st.floats(1.0, 1e6), st.floats(0.01, 1e4))
def test_vega_sizing_hits_the_target(target: float, unit_vega: float) -> None:
    quantity = structure_quantity(target, unit_vega)
    assert quantity >= 0
    assert quantity * unit_vega == pytest.approx(target, rel=1e-6, abs=unit_vega * 1e-8)


def test_vega_sizing_refuses_degenerate_input() -> None:
    with pytest.raises(ValueError, match="vega must be positive"):
        structure_quantity(100.0, 0.0)
    with pytest.raises(ValueError, match="non-negative"):
        structure_quantity(-1.0, 1.0)


@settings(max_examples=15, deadline=None)
@given(st.floats(-1.0, 1.0), st.floats(0.05, 0.5))
def test_structures_follow_the_sign_of_the_view(vol_view: float, threshold: float) -> None:
    config = StructureConfig(vol_threshold=threshold)
    result = plan(FRAME, {"BTC": view(vol_view)}, config=config)
    sides = {i.side for i in result.intents}
    if vol_view >= threshold:
        assert sides == {"buy"}
    elif vol_view <= -threshold:
        assert sides == {"sell"}
    else:
        assert sides == set()
    ids = {i.structure_id for i in result.intents}
    assert len(ids) <= 1


FRAME = chain_frame()
