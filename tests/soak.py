"""Soak test: many execution cycles under a simulated clock with faults injected at random.

``python -m tests.soak --cycles 500 --seed 7`` (``make soak``). Each cycle plans random
targets against the ledger's book, stores the intents and runs the execution cycle
(reconcile, submit, snapshot) on the simulated venue, recorded in ``runs`` as a pipeline
run is. Faults, drawn reproducibly from the seed: venue 5xx, timeouts and 429s (before the
venue acts, or after it acted and the answer was lost), kill -9 in the middle of a submit
(a child process dies right after the venue's acknowledgement), a corrupt Parquet file, a
full disk during the cycle, and a lost state file (kill switch, circuit or the venue's own
account, which the operator restores from the last backup). A last clean cycle reconciles,
then the invariants are checked and printed:

- no client order id twice at the venue;
- every venue order in the ledger;
- every position: the ledger's equals the sum of its fills and the venue's;
- every run recorded as completed or failed;
- no row stored twice in any dataset.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ccxt
import numpy as np
import polars as pl

import qbtc.lake.writer as writer
from qbtc.diskspace import DiskFullError
from qbtc.execution import submit
from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, run_execution
from qbtc.execution.intents import intents_frame, load_intents
from qbtc.execution.ledger import Ledger
from qbtc.execution.pnl import compute_positions
from qbtc.execution.ruled_intents import rule_intents
from qbtc.execution.venue_rules import amount_to_precision, load_venue_rules
from qbtc.lake import read_dataset, write_dataset
from qbtc.lake.integrity import QUARANTINE_DIR, check_lake
from qbtc.lake.layout import data_files, dataset_dir
from qbtc.manifest import RunManifest, record_run
from qbtc.market.sim import SimExchange
from qbtc.market.sim.trading import SimTrading
from qbtc.portfolio import intents_from_targets
from qbtc.risk.killswitch import KillSwitch
from qbtc.schemas import DATASETS, ORDER_INTENTS, WRITTEN_AT, get_dataset

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 1, 5, 12, tzinfo=UTC)
STEP = timedelta(minutes=5)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT")
SEED = 7
#: Chance of each fault per cycle (venue faults: per venue call).
VENUE_FAULT = 0.03
CRASH, CORRUPT, DISK_FULL, LOST_STATE = 0.04, 0.04, 0.05, 0.05


def venue_at(data_dir: Path, as_of: datetime) -> SimExchange:
    return SimExchange(seed=SEED, as_of=as_of, symbols=SYMBOLS, trading=SimTrading(data_dir))


def execution_config(data_dir: Path) -> ExecutionConfig:
    return ExecutionConfig(
        data_dir / "lake",
        data_dir / "state",
        symbols=SYMBOLS,
        venue_error_threshold=5,
        circuit_cooldown_s=0.5,
    )


class FaultyVenue:
    """The simulated venue, with 5xx, timeouts and 429s raised before or after a call."""

    ERRORS: tuple[Callable[[], Exception], ...] = (
        lambda: ccxt.ExchangeNotAvailable('sim 503 {"code":-1001,"msg":"Service Unavailable"}'),
        lambda: ccxt.RequestTimeout("sim GET timed out after 10000 ms"),
        lambda: ccxt.RateLimitExceeded('sim 429 {"code":-1003,"msg":"Too many requests"}'),
    )

    def __init__(self, venue: SimExchange, rng: np.random.Generator, faults: Counter[str]):
        self.venue, self.rng, self.faults = venue, rng, faults
        self.id = venue.id

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.venue, name)
        if not callable(target) or name in ("milliseconds", "market", "load_markets"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            after = self.rng.random() < 0.5
            fault = self.rng.random() < VENUE_FAULT
            kind = int(self.rng.integers(len(self.ERRORS)))
            if fault and not after:
                self.faults[f"venue_{type(self.ERRORS[kind]()).__name__}"] += 1
                raise self.ERRORS[kind]()
            result = target(*args, **kwargs)
            if fault:  # the venue acted; the answer is lost
                self.faults[f"venue_{type(self.ERRORS[kind]()).__name__}_after_acting"] += 1
                raise self.ERRORS[kind]()
            return result

        return call


@dataclass
class Soak:
    data_dir: Path
    seed: int = SEED
    faults: Counter[str] = field(default_factory=Counter)
    runs: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.config = execution_config(self.data_dir)

    # -- one cycle ---------------------------------------------------------------------------

    def plan(self, cycle: int, as_of: datetime) -> str:
        """Random targets against the ledger's book; the accepted intents stored; their run."""
        venue = venue_at(self.data_dir, as_of)
        books = compute_positions(Ledger(self.config.lake_dir, "main").fills())
        current = {s: b.quantity for s, b in books.items()}
        prices = {s: float(venue.fetch_ticker(s)["last"]) for s in SYMBOLS}
        rules = load_venue_rules(venue, SYMBOLS)
        targets = {
            s: float(self.rng.choice([-1, 0, 1]))
            * amount_to_precision(
                float(self.rng.uniform(200, 3000)) / prices[s], rules[s].amount_step or 1e-8
            )
            for s in SYMBOLS
        }
        run = f"plan-{cycle}"
        planned = intents_from_targets(
            targets,
            current,
            prices,
            run_id=run,
            portfolio_id="main",
            strategy="soak",
            decision_bar=as_of - timedelta(minutes=1),
        )
        ruled = rule_intents([replace(i, status="accepted") for i in planned], rules, prices)
        accepted = [i for i in ruled if i.status == "accepted"]  # on the venue's lots
        if accepted:
            write_dataset(self.config.lake_dir, ORDER_INTENTS, intents_frame(accepted))
        return run

    def cycle(self, cycle: int) -> str:
        """One recorded cycle with the faults drawn for it; returns its status."""
        as_of = START + cycle * STEP
        manifest = RunManifest(
            run_id=f"soak-{cycle}", flow="soak", parameters={}, seed=self.seed, as_of=as_of
        )
        record_run(self.config.lake_dir, manifest)
        KillSwitch(self.config.state_dir).reset()  # the operator resets it after a trip
        draw = self.rng.random(5)
        try:
            if draw[0] < LOST_STATE:
                self.lose_state_file()
            if draw[1] < CORRUPT:
                self.corrupt_a_file()
            run = self.plan(cycle, as_of)
            if draw[2] < CRASH:
                self.crash_in_submit(run, as_of, manifest.run_id)
            elif draw[3] < DISK_FULL:
                with self.full_disk_after(int(self.rng.integers(0, 6))):
                    self.execute(run, as_of, manifest.run_id)
            else:
                self.execute(run, as_of, manifest.run_id)
            status, message = "completed", None
        except Exception as exc:
            status, message = "failed", f"{type(exc).__name__}: {str(exc)[:200]}"
        self.restore_venue_account()
        record_run(self.config.lake_dir, manifest.finish(status, message))
        self.runs[status] += 1
        return status

    def execute(self, run: str, as_of: datetime, run_id: str, *, faults: bool = True) -> None:
        venue = venue_at(self.data_dir, as_of)
        exchange: Any = FaultyVenue(venue, self.rng, self.faults) if faults else venue
        intents = load_intents(self.config.lake_dir, run)
        run_execution(
            Broker(exchange, paper=True),
            self.config,
            intents,
            run_id=run_id,
            kill_switch=KillSwitch(self.config.state_dir),
        )

    # -- faults ------------------------------------------------------------------------------

    def crash_in_submit(self, run: str, as_of: datetime, run_id: str) -> None:
        """kill -9 of a child process right after the venue acknowledged an order."""
        self.faults["kill_9_during_submit"] += 1
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "qbtc-test-pycache")
        args = [str(self.data_dir), run, as_of.isoformat(), run_id]
        done = subprocess.run(
            [sys.executable, "-m", "tests.soak", "--crash-worker", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != -signal.SIGKILL:  # nothing was sent: the cycle just ran
            self.faults["kill_9_during_submit"] -= 1
            if done.returncode != 0:
                raise RuntimeError(f"worker failed: {done.stderr[-500:]}")
            return
        raise RuntimeError("killed (-9) during submit")

    def full_disk_after(self, writes: int) -> Any:
        """A disk that fills after ``writes`` more lake writes (until the block ends)."""
        soak = self
        original = writer._write_file

        class Full:
            def __enter__(self) -> None:
                left = [writes]

                def write(root: Path, frame: pl.DataFrame, target_dir: Path) -> Path:
                    if left[0] <= 0:
                        soak.faults["disk_full"] += 1 if left[0] == 0 else 0
                        left[0] -= 1
                        raise DiskFullError(28, "No space left on device", str(target_dir))
                    left[0] -= 1
                    return original(root, frame, target_dir)

                writer._write_file = write  # type: ignore[assignment]

            def __exit__(self, *exc: object) -> None:
                writer._write_file = original

        return Full()

    def corrupt_a_file(self) -> None:
        """Truncate one Parquet file of a derived dataset (the book's snapshots)."""
        files = data_files(dataset_dir(self.config.lake_dir, get_dataset("positions")))
        if files:
            victim = files[int(self.rng.integers(len(files)))]
            victim.write_bytes(victim.read_bytes()[:64])
            self.faults["corrupt_file"] += 1

    def lose_state_file(self) -> None:
        """Delete the kill switch, circuit or venue account file (the account is backed up)."""
        names = ["state/kill_switch.json", "state/circuit.json", "venue/account.json"]
        path = self.data_dir / names[int(self.rng.integers(len(names)))]
        if path.exists():
            if path.name == "account.json":
                shutil.copy2(path, path.with_suffix(".backup"))
            path.unlink()
            self.faults[f"lost_{path.name}"] += 1

    def restore_venue_account(self) -> None:
        backup = self.data_dir / "venue" / "account.backup"
        if backup.exists():
            os.replace(backup, self.data_dir / "venue" / "account.json")

    # -- the end -----------------------------------------------------------------------------

    def settle(self, cycles: int) -> None:
        """A last clean cycle: reconcile with the venue, no order, no fault."""
        as_of = START + cycles * STEP
        manifest = RunManifest(
            run_id="soak-final", flow="soak", parameters={}, seed=self.seed, as_of=as_of
        )
        record_run(self.config.lake_dir, manifest)
        KillSwitch(self.config.state_dir).reset()
        venue = venue_at(self.data_dir, as_of + timedelta(hours=1))  # resting orders fill
        run_execution(
            Broker(venue, paper=True),
            self.config,
            [],
            run_id=manifest.run_id,
            kill_switch=KillSwitch(self.config.state_dir),
        )
        record_run(self.config.lake_dir, manifest.finish("completed"))
        self.runs["completed"] += 1

    def invariants(self, at: datetime) -> dict[str, list[str]]:
        lake = self.config.lake_dir
        check_lake(lake)  # as any read would: corrupt files aside, with an alert each
        venue_at(self.data_dir, at).trading.publish()  # type: ignore[union-attr]
        book = read_dataset(lake, "sim_venue_orders")
        events = read_dataset(lake, "order_events")
        fills = Ledger(lake, "main").fills()
        out: dict[str, list[str]] = {}
        twice = book.group_by("client_order_id").len().filter(pl.col("len") > 1)
        out["no duplicate client order id at the venue"] = twice["client_order_id"].to_list()
        known = set(events["client_order_id"].to_list())
        out["every venue order in the ledger"] = [
            c for c in book["client_order_id"].to_list() if c not in known
        ]
        out["positions = fills' sum = venue"] = self.position_differences(fills, at)
        runs = read_dataset(lake, "runs")
        out["every run completed or failed"] = runs.filter(
            ~pl.col("status").is_in(["completed", "failed"])
        )["run_id"].to_list()
        out["no row stored twice"] = duplicated_rows(lake)
        corrupt = {p.name for p in (lake / QUARANTINE_DIR).rglob("*.parquet")}
        alerted = read_dataset(lake, "alerts").filter(pl.col("kind") == "corrupt-file")
        out["every corrupt file quarantined with an alert"] = [
            name for name in corrupt if not any(name in m for m in alerted["message"].to_list())
        ]
        return out

    def position_differences(self, fills: pl.DataFrame, at: datetime) -> list[str]:
        books = compute_positions(fills)
        signed = fills.group_by("symbol").agg(
            pl.when(pl.col("side") == "buy")
            .then(pl.col("quantity"))
            .otherwise(-pl.col("quantity"))
            .sum()
            .alias("q")
        )
        sums = dict(signed.iter_rows())
        venue = {
            p["symbol"]: p["contracts"] * (1 if p["side"] == "long" else -1)
            for p in venue_at(self.data_dir, at).fetch_positions()
        }
        wrong = []
        for symbol in sorted(set(books) | set(venue) | set(sums)):
            mine = books[symbol].quantity if symbol in books else 0.0
            values = (mine, float(sums.get(symbol, 0.0)), float(venue.get(symbol, 0.0)))
            if max(values) - min(values) > 1e-9 * max(1.0, *map(abs, values)):
                wrong.append(f"{symbol}: ledger {values[0]}, fills {values[1]}, venue {values[2]}")
        return wrong


def read_file(path: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except Exception as exc:
        raise RuntimeError(f"{path}: {exc}") from exc


def duplicated_rows(lake: Path) -> list[str]:
    """Datasets holding one row (all columns but the write stamp) in more than one copy."""
    found = []
    for name, ds in sorted(DATASETS.items()):
        files = data_files(dataset_dir(lake, ds))
        if not files:
            continue
        raw = pl.concat([read_file(f) for f in files], how="diagonal_relaxed")
        raw = raw.drop(WRITTEN_AT, strict=False)
        copies = raw.height - raw.unique().height
        if copies:
            found.append(f"{name}: {copies} row(s) stored twice")
    return found


@dataclass(frozen=True)
class SoakReport:
    cycles: int
    seconds: float
    runs: dict[str, int]
    faults: dict[str, int]
    invariants: dict[str, list[str]]

    @property
    def violations(self) -> int:
        return sum(len(v) for v in self.invariants.values())

    def render(self) -> str:
        lines = [
            f"soak: {self.cycles} cycles in {self.seconds:.0f} s, runs {dict(self.runs)}",
            f"faults injected: {sum(self.faults.values())} "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())),
        ]
        for name, bad in self.invariants.items():
            verdict = "ok" if not bad else f"VIOLATED ({len(bad)}): {'; '.join(bad[:5])}"
            lines.append(f"  {name}: {verdict}")
        lines.append(f"invariant violations: {self.violations}")
        return "\n".join(lines)


def run_soak(
    data_dir: Path,
    cycles: int,
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
) -> SoakReport:
    """Run ``cycles`` faulty cycles and a clean one, then check the invariants; ``progress``
    gets a line every :data:`PROGRESS_EVERY` cycles (cycles done, time, faults so far)."""
    started = time.perf_counter()
    soak = Soak(data_dir, seed)
    for cycle in range(cycles):
        soak.cycle(cycle)
        done = cycle + 1
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == cycles):
            elapsed = time.perf_counter() - started
            progress(
                f"soak: {done}/{cycles} cycles in {elapsed:.0f} s "
                f"(~{elapsed / done * (cycles - done):.0f} s left), "
                f"{sum(soak.faults.values())} faults injected"
            )
    soak.settle(cycles)
    invariants = soak.invariants(START + cycles * STEP + timedelta(hours=1))
    return SoakReport(
        cycles,
        time.perf_counter() - started,
        dict(soak.runs),
        {k: v for k, v in soak.faults.items() if v},
        invariants,
    )


#: Cycles between two progress lines of ``python -m tests.soak``.
PROGRESS_EVERY = 25


def crash_worker(data_dir: Path, run: str, as_of: str, run_id: str) -> None:
    """A child cycle killed (SIGKILL) right after a venue acknowledgement."""

    def crash(point: str, client_order_id: str) -> None:
        if point == "after_ack":
            os.kill(os.getpid(), signal.SIGKILL)

    submit.fault_hook = crash
    config = execution_config(data_dir)
    venue = venue_at(data_dir, datetime.fromisoformat(as_of))
    run_execution(
        Broker(venue, paper=True),
        config,
        load_intents(config.lake_dir, run),
        run_id=run_id,
        kill_switch=KillSwitch(config.state_dir),
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--crash-worker", nargs=4, metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.crash_worker:
        data_dir, run, as_of, run_id = args.crash_worker
        crash_worker(Path(data_dir), run, as_of, run_id)
        return 0
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="qbtc-soak-"))
    print(f"soak: {args.cycles} cycles, seed {args.seed}, data in {data_dir}", file=sys.stderr)
    report = run_soak(
        data_dir, args.cycles, args.seed, progress=lambda line: print(line, file=sys.stderr)
    )
    print(report.render())
    print(f"data: {data_dir}")
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
