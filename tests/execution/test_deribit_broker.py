"""The Deribit path: the real ccxt ``deribit`` client against a local stub (tests/market/deribit_stub.py).

Facts about Deribit this relies on, from its API docs (https://docs.deribit.com):
- ``private/buy``/``sell`` take the client's id as ``label`` (at most 64 characters) and
  have no ``clientOrderId``; labels are not unique, so qbtc looks before it sends;
- ``private/get_order_state_by_label`` (``currency``, ``label``) lists the orders with a label;
- futures and perpetual ``amount``/``size`` are USD; option amounts are in the base coin;
- option prices, premiums and fees (``commission``) are in the base coin (BTC), and an
  option's USD value uses the ``underlying_price`` quoted with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import polars as pl
import pytest

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import (
    ExecutionConfig,
    reconcile_book,
    snapshot_positions,
    submit_intents,
    venue_marks,
)
from qbtc.execution.intents import OrderIntent
from qbtc.risk.killswitch import KillSwitch
from tests.execution.conftest import make_intent
from tests.market.deribit_stub import (
    FORWARD,
    NOW_MS,
    OPTION,
    OPTION_MARK,
    OPTION_SYMBOL,
    PERP,
    PERP_MARK,
    PERP_SYMBOL,
    DeribitVenue,
    deribit_exchange,
    running_deribit,
)


@pytest.fixture
def config(config: ExecutionConfig) -> ExecutionConfig:
    return dataclasses.replace(config, symbols=(PERP_SYMBOL,))


@pytest.fixture
def deribit() -> Iterator[tuple[DeribitVenue, Broker]]:
    with running_deribit() as (venue, url):
        yield venue, Broker(deribit_exchange(url), paper=False)


def option_intent(quantity: float = 0.5, **kwargs: object) -> OrderIntent:
    intent = make_intent(OPTION_SYMBOL, quantity=quantity, leg="straddle-call", **kwargs)  # type: ignore[arg-type]
    return dataclasses.replace(
        intent, order_type="limit", limit_price=0.217, notional=quantity * 0.217 * FORWARD
    )


def perp_intent(usd: float = 50.0, **kwargs: object) -> OrderIntent:
    intent = make_intent(PERP_SYMBOL, quantity=usd / PERP_MARK, leg="hedge", **kwargs)  # type: ignore[arg-type]
    return dataclasses.replace(intent, notional=usd)


def test_an_option_order_carries_the_client_id_in_label_and_fills_in_usd(
    deribit: tuple[DeribitVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = deribit
    intent = option_intent()
    [result] = submit_intents(broker, config, [intent], run_id="live", kill_switch=kill_switch)
    assert (result.action, result.status) == ("submitted", "filled")
    [sent] = venue.calls("/api/v2/private/buy")
    assert sent["label"] == intent.client_order_id
    assert "clientOrderId" not in sent
    assert "newClientOrderId" not in sent
    assert (sent["instrument_name"], float(sent["amount"]), float(sent["price"])) == (
        OPTION,
        0.5,
        0.217,
    )
    fill = config.ledger().fills().row(0, named=True)
    assert fill["quantity"] == 0.5  # coins of BTC, as Deribit sizes options
    assert fill["price"] == pytest.approx(0.217 * FORWARD)  # USD per BTC of underlying
    fee_btc = min(0.0003 * 0.5, 0.125 * 0.217 * 0.5)
    assert fill["fee"] == pytest.approx(fee_btc * FORWARD)
    assert (fill["fee_currency"], fill["liquidity"]) == ("USD", "venue")


def test_a_rerun_finds_the_order_by_label_and_never_sends_it_twice(
    deribit: tuple[DeribitVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = deribit
    venue.script.append("open")
    intent = option_intent()
    first = submit_intents(broker, config, [intent], run_id="a", kill_switch=kill_switch)[0]
    assert (first.action, first.status) == ("submitted", "open")
    again = submit_intents(broker, config, [intent], run_id="b", kill_switch=kill_switch)[0]
    assert again.action == "none"
    report = reconcile_book(broker, config, run_id="c", kill_switch=kill_switch)
    assert report.orders_checked == 1
    lookups = venue.calls("/api/v2/private/get_order_state_by_label")
    assert {q["label"] for q in lookups} == {intent.client_order_id}
    assert {q["currency"] for q in lookups} == {"BTC"}
    assert len(venue.calls("/api/v2/private/buy")) == 1
    assert not venue.calls("/api/v2/private/get_order_state")  # no look-up by a made-up id


def test_a_label_look_up_the_venue_answers_with_an_error_is_unknown_never_rejected(
    deribit: tuple[DeribitVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = deribit
    venue.lookup_errors.append((10040, "retry"))
    intent = option_intent()
    result = submit_intents(broker, config, [intent], run_id="a", kill_switch=kill_switch)[0]
    assert (result.action, result.status) == ("deferred", "pending")
    assert not venue.calls("/api/v2/private/buy")
    events = config.ledger().events()
    assert "rejected" not in events["event"].to_list()
    retried = submit_intents(broker, config, [intent], run_id="b", kill_switch=kill_switch)[0]
    assert (retried.action, retried.status) == ("submitted", "filled")


def test_a_perpetual_is_sized_in_usd_and_booked_in_coins(
    deribit: tuple[DeribitVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = deribit
    [result] = submit_intents(
        broker, config, [perp_intent(50.0)], run_id="live", kill_switch=kill_switch
    )
    assert result.status == "filled"
    [sent] = venue.calls("/api/v2/private/buy")
    assert (sent["instrument_name"], sent["amount"]) == (PERP, "50")  # 50 USD, not 50 BTC
    fill = config.ledger().fills().row(0, named=True)
    assert fill["quantity"] == pytest.approx(50.0 / PERP_MARK)  # about 0.00137 BTC
    assert fill["price"] == PERP_MARK
    fee_btc = round(0.0005 * 50.0 / PERP_MARK, 8)  # 0.05% of 50 USD, paid in BTC
    assert fill["fee"] == pytest.approx(fee_btc * PERP_MARK)
    report = reconcile_book(broker, config, run_id="next", kill_switch=kill_switch)
    assert not [r for r in report.repairs if r.startswith("position")], report.repairs
    assert not report.tripped


def test_positions_are_in_coins_with_usd_marks_and_greeks(
    deribit: tuple[DeribitVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    _, broker = deribit
    intents = [option_intent(0.5), perp_intent(50.0)]
    submit_intents(broker, config, intents, run_id="live", kill_switch=kill_switch)
    venue_positions = {p["symbol"]: p for p in broker.fetch_positions()}
    assert venue_positions[OPTION_SYMBOL]["contracts"] == 0.5
    assert venue_positions[PERP_SYMBOL]["contracts"] == pytest.approx(50.0 / PERP_MARK, rel=1e-4)
    marks, option_marks = venue_marks(broker, [OPTION_SYMBOL, PERP_SYMBOL])
    assert marks[OPTION_SYMBOL] == pytest.approx(OPTION_MARK * FORWARD)  # 8,453.62 USD, not 0.2168
    assert marks[PERP_SYMBOL] == PERP_MARK
    assert option_marks[OPTION_SYMBOL].mark_iv == pytest.approx(0.6127)
    assert option_marks[OPTION_SYMBOL].forward == FORWARD
    at = datetime.fromtimestamp(NOW_MS / 1000, UTC)  # the payloads' moment, before expiry
    book = snapshot_positions(broker, config, timestamp=at)
    book = book.filter(pl.col("symbol") == OPTION_SYMBOL)
    row = book.row(0, named=True)
    assert row["mark_price"] == pytest.approx(8_453.62, abs=0.01)
    assert row["unrealized_pnl"] == pytest.approx(0.5 * (OPTION_MARK - 0.217) * FORWARD)
    assert None not in (row["delta"], row["gamma"], row["vega"], row["theta"])
    assert 0.25 < row["delta"] < 0.35  # 0.5 BTC of a call with delta about 0.6
    # in coin, as Deribit counts it: premium 0.217 BTC, mark 0.2168 BTC, fee in BTC
    fee_btc = min(0.0003 * 0.5, 0.125 * 0.217 * 0.5)
    assert row["pnl_coin"] == pytest.approx(0.5 * (OPTION_MARK - 0.217) - fee_btc)
    assert row["pnl_coin_currency"] == "BTC"
    assert row["pnl_usd"] == pytest.approx(row["unrealized_pnl"] - fee_btc * FORWARD)
    fill = config.ledger().fills().filter(pl.col("symbol") == OPTION_SYMBOL).row(0, named=True)
    assert fill["underlying_price"] == FORWARD  # what the coin premium was converted at


def test_equity_counts_every_collateral_currency_at_marks(
    deribit: tuple[DeribitVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = deribit
    equity = broker.equity()
    assert equity.usd == pytest.approx(2.5 * PERP_MARK + 1_500.0)
    assert equity.holdings["BTC"] == (2.5, PERP_MARK)
    assert equity.holdings["USDC"] == (1_500.0, 1.0)
    assert "ETH" not in equity.holdings  # a zero balance
    report = reconcile_book(broker, config, run_id="first", kill_switch=kill_switch)
    assert not report.tripped
    events = config.ledger().events().filter(pl.col("client_order_id") == "balance:USDT")
    assert events["price"].to_list() == [pytest.approx(equity.usd)]
    venue.balances["BTC"] = 2.4  # coin collateral moved (revaluation, coin PnL): booked, no trip
    report = reconcile_book(broker, config, run_id="second", kill_switch=kill_switch)
    assert not report.tripped
    assert any("coin collateral" in r for r in report.repairs)


def test_venue_rules_read_a_usd_sized_perpetual_in_coins(
    deribit: tuple[DeribitVenue, Broker],
) -> None:
    """Deribit's BTC-PERPETUAL trades in multiples of 10 USD: in coins that is no fixed lot,
    so its rules keep no coin grid and a minimum notional of 10 USD; options keep theirs
    (0.1 BTC lots, ticks in BTC, as their limit prices are quoted)."""
    from qbtc.execution.ruled_intents import rule_intent
    from qbtc.execution.venue_rules import load_venue_rules

    _, broker = deribit
    rules = load_venue_rules(broker.exchange, [PERP_SYMBOL, OPTION_SYMBOL])
    perp, option = rules[PERP_SYMBOL], rules[OPTION_SYMBOL]
    assert (perp.amount_step, perp.contract_size, perp.min_cost) == (None, 1.0, 10.0)
    assert (option.amount_step, option.price_step, option.min_amount) == (0.1, 0.0005, 0.1)
    half_btc = rule_intent(perp_intent(0.5 * PERP_MARK), perp, reference_price=PERP_MARK)
    assert (half_btc.status, half_btc.quantity) == ("accepted", 0.5)
    dust = rule_intent(perp_intent(5.0), perp, reference_price=PERP_MARK)
    assert dust.status == "refused"
    assert "below the venue minimum 10" in (dust.reason or "")
