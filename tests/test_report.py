"""The cycle summary: read back from the lake, rendered for the UI and the terminal."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qbtc.report import CycleSummary, read_cycle_summary, render_markdown, render_text
from tests.api.lakedata import build_lake


@pytest.fixture
def report(data_dir: Path) -> CycleSummary:
    lake = build_lake(data_dir, days=1)
    return read_cycle_summary(lake.root, "run-2")


def test_report_reads_the_cycle_back_from_the_lake(report: CycleSummary):
    assert report.status == "completed"
    assert report.gate["status"] == "pass"
    assert report.intents["accepted"] > 0
    assert report.orders == {"filled": report.intents["accepted"]}
    # The book after the cycle's orders, not what the pre-trade checks saw.
    assert report.risk["phase"] == "book"
    assert report.risk["var"] == 12_000.0


def test_markdown_says_what_was_sent(report: CycleSummary):
    text = render_markdown(report)
    assert text.startswith("# Cycle run-2: completed")
    assert f"order events filled {report.intents['accepted']}" in text
    assert "quality gate: pass" in text


def test_a_rerun_of_a_decided_bar_says_nothing_new_was_sent(report: CycleSummary):
    rerun = replace(report, orders={})
    assert "no order sent: the accepted intents were submitted by an earlier run" in (
        render_markdown(rerun)
    )
    idle = replace(rerun, intents={**report.intents, "accepted": 0})
    assert "no order to send" in render_markdown(idle)


def test_unknown_run_is_a_key_error(data_dir: Path):
    lake = build_lake(data_dir, days=1)
    with pytest.raises(KeyError):
        read_cycle_summary(lake.root, "no-such-run")


def test_terminal_text_points_at_the_data_and_next_commands(report: CycleSummary, data_dir: Path):
    text = render_text(report, data_dir=data_dir)
    assert "**" not in text
    assert str(data_dir.resolve()) in text
    assert 'qbtc sql "SELECT * FROM positions"' in text


@pytest.mark.parametrize(
    ("message", "durations"),
    [
        ("stage orders failed: venue account missing", {"ingest": 1.0, "orders": 0.5}),
        ("stage risk failed: boom", {"ingest": 1.0, "risk": 0.5}),
        ("cycle failed: disk full writing /x", {}),
    ],
)
def test_a_failed_cycle_never_claims_an_earlier_run_sent_its_orders(
    report: CycleSummary, message: str, durations: dict[str, float]
):
    failed = replace(report, orders={}, status="failed", message=message, durations=durations)
    text = render_markdown(failed)
    assert "earlier run" not in text
    assert "no order sent: the cycle stopped before its orders went out" in text


def test_the_alerts_of_the_cycle_are_in_its_summary(data_dir: Path):
    import polars as pl

    from qbtc.lake import read_dataset, write_dataset
    from qbtc.schemas import ALERTS

    lake = build_lake(data_dir, days=1)
    run = read_dataset(lake.root, "runs").filter(pl.col("run_id") == "run-2").row(0, named=True)
    rows = [
        ("k1", "run-2", "kill-switch", "kill switch tripped by execution: mismatch"),
        ("k2", "run-2", "stage-failed", "stage orders failed: said in the message already"),
        ("k3", "lake", "corrupt-file", "corrupt Parquet file /x moved to /y"),
        ("k4", "other-run", "kill-switch", "not this cycle"),
    ]
    frame = pl.DataFrame(
        [
            {
                "alert_id": alert_id,
                "run_id": run_id,
                "timestamp": run["timestamp"],
                "kind": kind,
                "severity": "critical",
                "message": message,
                "details": "{}",
            }
            for alert_id, run_id, kind, message in rows
        ],
        schema=ALERTS.schema,
    )
    write_dataset(lake.root, ALERTS, frame)
    text = render_markdown(read_cycle_summary(lake.root, "run-2"))
    assert "- alert: kill switch tripped by execution: mismatch" in text
    assert "- alert: corrupt Parquet file /x moved to /y" in text
    assert "said in the message already" not in text
    assert "not this cycle" not in text


def test_the_summary_says_which_mode_the_cycle_ran_in(report: CycleSummary, data_dir: Path):
    import json

    import polars as pl

    from qbtc.lake import read_dataset, write_dataset
    from qbtc.schemas import RUNS

    assert "- mode: paper: the simulated venue" in render_markdown(report)  # an older manifest
    runs = read_dataset(data_dir / "lake", RUNS).filter(pl.col("run_id") == "run-2")
    parameters = json.loads(runs["parameters"][0]) | {"mode": "dry-run", "exchange": "binanceusdm"}
    write_dataset(
        data_dir / "lake",
        RUNS,
        runs.with_columns(pl.lit(json.dumps(parameters)).alias("parameters")),
    )
    dry = read_cycle_summary(data_dir / "lake", "run-2")
    assert (dry.mode, dry.exchange) == ("dry-run", "binanceusdm")
    assert (
        "- mode: dry-run: real binanceusdm market data, paper fills at its live quotes with its "
        "fees and lots; no order reaches the venue"
    ) in render_markdown(dry)


def test_the_summary_reads_like_a_desk_report(data_dir: Path):
    lake = build_lake(data_dir, days=1)
    report = read_cycle_summary(lake.root, "run-2", drawdown_limit=0.15)
    text = render_markdown(report)
    assert "VaR 99% 1-day 12,000.00" in text  # labelled with its confidence and horizon
    assert f"({report.risk['method']}, after orders)" in text
    assert "(kill switch at 15.00%)" in text
    close = replace(report, risk={**report.risk, "drawdown": 0.144})
    assert "WARNING: within 0.60% of the kill switch" in render_markdown(close)
    beyond = replace(report, risk={**report.risk, "drawdown": 0.16})
    assert "BEYOND THE KILL-SWITCH LEVEL" in render_markdown(beyond)
    for position in report.positions:  # a notional column, USDT
        assert position["notional_usdt"] == pytest.approx(
            abs(position["quantity"] * position["mark_price"])
        )
    typed = render_text(report, data_dir=data_dir, command=".venv/bin/qbtc")
    assert '  .venv/bin/qbtc sql "SELECT * FROM positions"' in typed


def test_order_events_are_listed_in_time_order(data_dir: Path):
    from datetime import UTC, datetime, timedelta

    import polars as pl

    from qbtc.lake import write_dataset
    from qbtc.schemas import ORDER_EVENTS

    lake = build_lake(data_dir, days=1)
    t0 = datetime(2026, 1, 6, tzinfo=UTC)
    rows = [
        ("e1", "reconciled", t0),
        ("e2", "intent", t0 + timedelta(seconds=1)),
        ("e3", "submitted", t0 + timedelta(seconds=2)),
        ("e4", "acknowledged", t0 + timedelta(seconds=2)),
        ("e5", "filled", t0 + timedelta(seconds=3)),
    ]
    frame = pl.DataFrame(
        [
            {
                "event_id": i,
                "client_order_id": "c1",
                "run_id": "run-t",
                "timestamp": at,
                "event": kind,
                "symbol": "BTC/USDT:USDT",
                "side": "buy",
                "quantity": 1.0,
                "filled_quantity": 0.0,
                "price": None,
                "venue_order_id": None,
                "reason": None,
            }
            for i, kind, at in rows
        ],
        schema=ORDER_EVENTS.schema,
    )
    write_dataset(lake.root, ORDER_EVENTS, frame)
    from qbtc.report.summary import _orders

    assert list(_orders(lake.root, "run-t")) == [
        "reconciled",
        "intent",
        "submitted",
        "acknowledged",
        "filled",
    ]


def test_coin_settled_options_show_their_pnl_in_coin(data_dir: Path):
    """A Deribit option held (premium 0.217 BTC, mark 0.2168 BTC): the summary gives its PnL
    in BTC beside the book's USD figures, and the terminal text shows the coin columns."""
    import polars as pl

    from qbtc.execution.pnl import compute_positions
    from qbtc.execution.positions import OptionMark, position_rows
    from qbtc.lake import write_dataset
    from qbtc.schemas import FILLS, POSITIONS

    lake = build_lake(data_dir, days=1)
    plain = render_text(read_cycle_summary(lake.root, "run-2"), data_dir=data_dir)
    assert "pnl_coin" not in plain  # no coin-settled option held: no empty coin columns
    call = "BTC/USD:BTC-261225-100000-C"
    fill = {
        "fill_id": "f-call",
        "client_order_id": "o-call",
        "venue_order_id": "v",
        "portfolio_id": "main",
        "symbol": call,
        "timestamp": lake.last_bar,
        "side": "buy",
        "quantity": 0.5,
        "price": 0.217 * 95_000.0,
        "fee": 0.00015 * 95_000.0,
        "fee_currency": "USD",
        "liquidity": "venue",
        "underlying_price": 95_000.0,
    }
    books = compute_positions(
        pl.DataFrame([fill], schema=FILLS.schema), marks={call: 0.2168 * 96_000.0}
    )
    marks = {call: OptionMark(forward=96_000.0, mark_iv=0.6)}
    rows = position_rows(books, portfolio_id="main", timestamp=lake.last_bar, option_marks=marks)
    write_dataset(lake.root, POSITIONS, rows)
    report = read_cycle_summary(lake.root, "run-2")
    assert report.coin_pnl == {"BTC": pytest.approx(0.5 * (0.2168 - 0.217) - 0.00015)}
    assert "coin-settled options -0.000250 BTC" in render_markdown(report)
    [held] = [p for p in report.positions if p["symbol"] == call]
    assert held["pnl_coin_currency"] == "BTC"
    assert "pnl_coin" in render_text(report, data_dir=data_dir)
