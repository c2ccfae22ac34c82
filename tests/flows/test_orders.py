"""Flow ``orders``: tasks through ``.fn()``, then end to end under the Prefect harness.

Each case ends with exactly one venue order per decision: a task retry after the venue
acknowledged, a re-run of the flow, two runs at once.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from qbtc.config import load_settings
from qbtc.execution import submit
from qbtc.execution.intents import OrderIntent, intents_frame
from qbtc.lake import read_dataset, write_dataset
from qbtc.schemas import QUALITY_RESULTS

AS_OF = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BAR = datetime(2026, 1, 5, 11, 59, tzinfo=UTC)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")


def intent(symbol: str, side: str, quantity: float, leg: str = "perp") -> OrderIntent:
    return OrderIntent(
        run_id="risk-1",
        portfolio_id="main",
        strategy="trend",
        symbol=symbol,
        leg=leg,
        decision_bar=BAR,
        side=side,  # type: ignore[arg-type]
        quantity=quantity,
        notional=quantity * 1_000.0,
        status="accepted",
    )


def write_gate(lake_dir: Path, status: str) -> None:
    row = {
        "run_id": f"gate-{status}",
        "dataset": "*",
        "check": "gate",
        "level": "dataset",
        "status": status,
        "element_count": 1,
        "unexpected_count": 0,
        "details": '{"reasons": ["ohlcv: stale"]}' if status == "fail" else "{}",
        "timestamp": datetime.now(UTC),
    }
    write_dataset(lake_dir, QUALITY_RESULTS, pl.DataFrame([row], schema=QUALITY_RESULTS.schema))


@pytest.fixture
def desk(lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[OrderIntent]:
    monkeypatch.setenv("QBTC_SYMBOLS", ",".join(SYMBOLS))
    monkeypatch.setenv("QBTC_AS_OF", AS_OF.isoformat())
    intents = [intent(SYMBOLS[0], "buy", 0.3), intent(SYMBOLS[1], "sell", 4.0)]
    write_dataset(lake_dir, "order_intents", intents_frame(intents))
    write_gate(lake_dir, "pass")
    return intents


def venue_ids(lake_dir: Path) -> list[str]:
    return sorted(read_dataset(lake_dir, "sim_venue_orders")["client_order_id"].to_list())


def ledger_submissions(lake_dir: Path) -> pl.DataFrame:
    events = read_dataset(lake_dir, "order_events")
    return events.filter(pl.col("event") == "submitted").group_by("client_order_id").len()


def test_tasks_through_fn(desk: list[OrderIntent], lake_dir: Path) -> None:
    from flows import orders as orders_flow

    settings = load_settings()
    config = orders_flow.execution_config(settings)
    broker = orders_flow.open_broker(orders_flow.broker_settings(settings, live=False))
    report = orders_flow.reconcile_task.fn(broker, config, "fn")
    assert report.orders_checked == 0
    results = orders_flow.submit_task.fn(broker, config, desk, "fn")
    assert [r.status for r in results] == ["filled", "filled"]
    assert orders_flow.positions_task.fn(broker, config) == 2
    assert venue_ids(lake_dir) == sorted(i.client_order_id for i in desk)


def test_a_failed_gate_holds_every_order_and_says_why(
    desk: list[OrderIntent], lake_dir: Path
) -> None:
    from flows import orders as orders_flow

    write_gate(lake_dir, "fail")
    hold = orders_flow.gate_hold(lake_dir)
    assert hold == "quality gate failed: ohlcv: stale"
    settings = load_settings()
    results = orders_flow.submit_task.fn(
        orders_flow.open_broker(orders_flow.broker_settings(settings, live=False)),
        orders_flow.execution_config(settings),
        desk,
        "held",
        hold,
    )
    assert {r.action for r in results} == {"blocked"}
    assert not (lake_dir / "sim_venue_orders").exists()
    reasons = read_dataset(lake_dir, "order_events")["reason"].drop_nulls().to_list()
    assert any("quality gate failed" in reason for reason in reasons)


def test_live_trading_on_the_simulator_is_refused_clearly(desk: list[OrderIntent]) -> None:
    from flows import orders as orders_flow
    from qbtc.execution.brokers import BrokerConfigError

    with pytest.raises(BrokerConfigError, match="QBTC_EXCHANGE"):
        orders_flow.open_broker(orders_flow.broker_settings(load_settings(), live=True))


def test_orders_flow_end_to_end_with_a_task_retry_and_a_rerun(
    prefect_harness: None,
    desk: list[OrderIntent],
    lake_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.client.orchestration import get_client

    from flows.orders import orders, orders_limit_name

    crashes: list[str] = []

    def die_once_after_the_ack(point: str, client_order_id: str) -> None:
        if point == "after_ack" and not crashes:
            crashes.append(client_order_id)
            raise RuntimeError("worker lost right after the venue acknowledged")

    monkeypatch.setattr(submit, "fault_hook", die_once_after_the_ack)
    first = orders(intents_run_id="risk-1")
    assert crashes  # the first attempt of the submit task died, Prefect retried it
    assert first["actions"] == {"found": 1, "submitted": 1}
    assert first["positions"] == 2
    expected = sorted(i.client_order_id for i in desk)
    assert venue_ids(lake_dir) == expected
    assert ledger_submissions(lake_dir)["len"].to_list() == [1, 1]

    rerun = orders(intents_run_id="risk-1")
    assert rerun["actions"] == {"none": 2}
    assert venue_ids(lake_dir) == expected
    assert ledger_submissions(lake_dir)["len"].to_list() == [1, 1]

    with get_client(sync_client=True) as client:
        settings = load_settings()
        name = orders_limit_name(settings.data_dir, settings.portfolio_id)
        limit = client.read_global_concurrency_limit_by_name(name)
        assert limit.limit == 1
        artifacts = client.read_artifacts()
    tables = [a for a in artifacts if a.key == "orders-cycle"]
    assert tables
    assert tables[0].type == "table"


def test_two_concurrent_runs_submit_each_order_once(
    prefect_harness: None, desk: list[OrderIntent], lake_dir: Path
) -> None:
    from flows.orders import orders

    outcomes: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcomes.append(orders(intents_run_id="risk-1"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    actions = sorted(tuple(sorted(o["actions"].items())) for o in outcomes)
    assert actions == [(("none", 2),), (("submitted", 2),)]
    assert venue_ids(lake_dir) == sorted(i.client_order_id for i in desk)
    assert ledger_submissions(lake_dir)["len"].to_list() == [1, 1]


def test_the_limit_is_one_per_portfolio(tmp_path: Path) -> None:
    from flows.orders import orders_limit_name

    here, there = tmp_path / "desk-a", tmp_path / "desk-b"
    assert orders_limit_name(here, "main") == orders_limit_name(here / ".." / "desk-a", "main")
    names = {orders_limit_name(d, p) for d in (here, there) for p in ("main", "Hedge Book/2")}
    assert len(names) == 4
    assert all(n.startswith("qbtc-orders-") and re.fullmatch(r"[a-z0-9-]+", n) for n in names)


def test_orders_of_one_portfolio_serialise_and_other_portfolios_go_on(
    prefect_harness: None, tmp_path: Path
) -> None:
    """Two holders of one portfolio's slot never overlap: the second waits for the first to
    leave. A second portfolio takes its own slot while the first is held."""
    from flows.orders import order_slot

    desk = tmp_path / "desk"
    spans: dict[str, tuple[float, float]] = {}
    first_in, other_in = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold(name: str, data_dir: Path, portfolio: str, until: threading.Event | None) -> None:
        try:
            with order_slot(data_dir, portfolio):
                entered = time.monotonic()
                if name == "first":
                    first_in.set()
                if name == "other":
                    other_in.set()
                if until is not None:
                    assert until.wait(60), f"{name}: the other portfolio never got its slot"
                time.sleep(0.5)
                spans[name] = (entered, time.monotonic())
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=hold, args=("first", desk, "main", other_in))
    first.start()
    assert first_in.wait(60)
    same = threading.Thread(target=hold, args=("same", desk, "main", None))
    other = threading.Thread(target=hold, args=("other", tmp_path / "other-desk", "main", None))
    same.start()
    other.start()
    for thread in (first, same, other):
        thread.join(120)
    assert not errors
    assert spans["same"][0] >= spans["first"][1]  # waited for the first to leave
    assert spans["other"][0] < spans["first"][1]  # entered while the first held its slot
