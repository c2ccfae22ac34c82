"""The options leg end to end: ``qbtc run --as-of`` cycles on the simulated venue across an
option expiry, as a user runs them (one process per cycle, a fresh data dir).

The sequence (BTC and ETH perps, the venue's standard chains, short-dated straddles so an expiry
falls inside it):

1. 1 Dec 12:00: straddles opened on both underlyings (expiry 3 Dec 08:00), perps hedge them;
2. 2 Dec 12:00: the structures are kept;
3. 3 Dec 09:00: the venue settled them at 08:00 (a ledger event, not a fill): each settlement
   pays the payoff at the delivery price (the mean index of 07:30-08:00), the position is
   flat and its realised PnL is ``(settlement - entry) x quantity``; new straddles open;
4. 3 Dec 20:00, rolling 48 h before expiry: the new structures are rolled (reduce-only
   ``roll`` legs closing them, new structures opened further out).

After every cycle each option underlying's net delta (perps plus options) is inside the
hedge band of the target the cycle planned.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from qbtc.lake import read_dataset
from qbtc.market.contracts import parse_option_symbol
from qbtc.market.sim import SimExchange
from tests.e2e.helpers import run_qbtc

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
SYMBOLS = "BTC/USDT:USDT,ETH/USDT:USDT"
CYCLES = (
    ("2026-12-01T12:00:00Z", 0),
    ("2026-12-02T12:00:00Z", 0),
    ("2026-12-03T09:00:00Z", 0),
    ("2026-12-03T20:00:00Z", 48),
)


def run_cycle(data_dir: Path, as_of: str, roll_hours: int) -> str:
    env = {
        **os.environ,
        "QBTC_DATA_DIR": str(data_dir),
        "PREFECT_HOME": str(data_dir.parent / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "QBTC_OPTION_MIN_EXPIRY_DAYS": "0.5",
        "QBTC_OPTION_MAX_EXPIRY_DAYS": "3",
        "QBTC_OPTION_TARGET_EXPIRY_DAYS": "2",
        "QBTC_OPTION_VOL_THRESHOLD": "0.05",
        "QBTC_OPTION_VEGA_BUDGET": "0.0001",
        "QBTC_OPTION_ROLL_HOURS": str(roll_hours),
    }
    env.pop("PREFECT_API_URL", None)
    args = ["run", "--symbols", SYMBOLS, "--days", "2", "--as-of", as_of, "--seed", "7"]
    return run_qbtc(*args, env=env, timeout=900)


def latest_run(lake: Path) -> str:
    return str(read_dataset(lake, "runs").sort("timestamp")["run_id"][-1])


def assert_hedged_inside_the_band(lake: Path, run_id: str) -> None:
    rows = read_dataset(lake, "book_greeks").filter(pl.col("run_id") == run_id)
    planned = rows.filter((pl.col("phase") == "pre_trade") & pl.col("hedge_perp").is_not_null())
    after = rows.filter(pl.col("phase") == "book")
    assert planned.height, "the cycle planned a hedge"
    for row in planned.iter_rows(named=True):
        held = after.filter(pl.col("underlying") == row["underlying"]).row(0, named=True)
        gap = abs(held["delta_coin"] - row["directional_coin"]) * held["spot"]
        assert gap <= row["band_usd"], (run_id, row["underlying"], gap)


def test_options_open_hedge_settle_and_roll_across_an_expiry(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    lake = data_dir / "lake"
    outputs, runs = [], []
    for as_of, roll_hours in CYCLES:
        outputs.append(run_cycle(data_dir, as_of, roll_hours))
        runs.append(latest_run(lake))
        assert_hedged_inside_the_band(lake, runs[-1])
        if len(runs) == 2:
            before_expiry = read_dataset(lake, "positions").sort("timestamp")

    structures = read_dataset(lake, "option_structures")
    intents = read_dataset(lake, "order_intents")

    # 1: straddles opened, every leg tagged with its structure and traced to a vol view
    first = structures.filter(pl.col("run_id") == runs[0])
    assert set(first["action"]) == {"open"}
    assert first["view_id"].null_count() == 0
    legs = intents.filter((pl.col("run_id") == runs[0]) & pl.col("structure_id").is_not_null())
    assert legs.height >= 2
    assert set(legs["structure_id"]) <= set(first["structure_id"])
    assert "- options: " in outputs[0]
    views = read_dataset(lake, "vol_views").filter(pl.col("run_id") == runs[0])
    assert set(first["view_id"]) <= set(views["view_id"])

    # 2: kept
    assert set(structures.filter(pl.col("run_id") == runs[1])["action"]) == {"keep"}

    # 3: settled at expiry with the right PnL, then new structures
    settled = read_dataset(lake, "settlements")
    assert settled.height >= 2
    venue = SimExchange(seed=7, as_of=datetime(2026, 12, 3, 9, tzinfo=UTC))
    held = before_expiry.group_by("symbol", maintain_order=True).last()
    positions = read_dataset(lake, "positions").sort("timestamp")
    latest = positions.group_by("symbol", maintain_order=True).last()
    for row in settled.iter_rows(named=True):
        contract = parse_option_symbol(row["symbol"])
        expiry_ms = int(contract.expiry.timestamp() * 1000)
        delivery = venue.delivery_price(contract.base, expiry_ms)
        assert row["delivery_price"] == pytest.approx(delivery, rel=1e-9)
        payoff = max(delivery - contract.strike, 0.0)
        if not contract.is_call:
            payoff = max(contract.strike - delivery, 0.0)
        assert row["settlement_price"] == pytest.approx(payoff, abs=1e-6)
        before = held.filter(pl.col("symbol") == row["symbol"]).row(0, named=True)
        after = latest.filter(pl.col("symbol") == row["symbol"]).row(0, named=True)
        assert after["quantity"] == 0
        expected = (row["settlement_price"] - before["entry_price"]) * before["quantity"]
        gained = after["realized_pnl"] - before["realized_pnl"]
        assert gained == pytest.approx(expected, rel=1e-6, abs=1e-6)
    third = structures.filter(pl.col("run_id") == runs[2])
    assert "open" in set(third["action"])  # the expired legs asked for no order
    expired = set(settled["symbol"])
    assert intents.filter(
        (pl.col("run_id") == runs[2]) & pl.col("symbol").is_in(list(expired))
    ).is_empty()

    # 4: rolled 48 h before the new expiry: reduce-only roll legs, new structures further out
    fourth = structures.filter(pl.col("run_id") == runs[3])
    assert {"roll", "open"} <= set(fourth["action"])
    rolls = intents.filter((pl.col("run_id") == runs[3]) & (pl.col("leg") == "roll"))
    assert rolls.height >= 2
    assert rolls["reduce_only"].all()
    assert set(rolls["status"]) == {"accepted"}
    opened = fourth.filter(pl.col("action") == "open")
    rolled = fourth.filter(pl.col("action") == "roll")
    assert opened["expiry"].min() > rolled["expiry"].max()
