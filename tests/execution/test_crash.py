"""A process killed between the venue's acknowledgement and the ledger write loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, run_execution
from qbtc.execution.intents import intents_frame, load_intents
from qbtc.execution.ledger import Ledger
from qbtc.lake import read_dataset, write_dataset
from qbtc.risk.killswitch import KillSwitch
from tests.execution.conftest import SYMBOLS, make_intent, open_venue

ROOT = Path(__file__).resolve().parents[2]


def run_worker(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The checkout runs with PYTHONDONTWRITEBYTECODE: without a byte-code cache every child
    # would compile ccxt from source (seconds). The cache lives outside the source tree.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "qbtc-test-pycache")
    return subprocess.run(
        [sys.executable, "-m", "tests.execution.crash_worker", str(data_dir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_crash_after_the_ack_and_a_rerun_leave_exactly_one_order(data_dir: Path) -> None:
    intent = make_intent(quantity=0.25)
    write_dataset(data_dir / "lake", "order_intents", intents_frame([intent]))

    crashed = run_worker(data_dir, "risk-run-1", "after_ack")
    assert crashed.returncode == 9, crashed.stderr[-2000:]
    on_venue = open_venue(data_dir).fetch_order(
        "", intent.symbol, {"clientOrderId": intent.client_order_id}
    )
    assert on_venue["status"] == "closed"
    venue = read_dataset(data_dir / "lake", "sim_venue_orders")
    assert venue["client_order_id"].to_list() == [intent.client_order_id]
    ledger = Ledger(data_dir / "lake", "main")
    assert ledger.order_state(intent.client_order_id).status == "submitted"  # type: ignore[union-attr]
    assert ledger.fills().is_empty()

    # The re-run (here, in this process): reconciliation recovers the order, nothing is resent.
    intents = load_intents(data_dir / "lake", "risk-run-1")
    report = run_execution(
        Broker(open_venue(data_dir), paper=True),
        ExecutionConfig(data_dir / "lake", data_dir / "state", symbols=SYMBOLS),
        intents,
        run_id="rerun",
        kill_switch=KillSwitch(data_dir / "state"),
    )
    assert [(r.action, r.status) for r in report.results] == [("none", "filled")]
    assert not report.reconciliation.tripped
    venue = read_dataset(data_dir / "lake", "sim_venue_orders")
    assert venue.height == 1
    events = ledger.events().filter(pl.col("client_order_id") == intent.client_order_id)
    assert events["event"].to_list().count("submitted") == 1
    assert {"acknowledged", "filled", "reconciled"} <= set(events["event"].to_list())
    fills = ledger.fills()
    assert fills.height == 1
    assert fills["quantity"][0] == venue["filled"][0] == 0.25
    assert fills["price"][0] == venue["average"][0]
