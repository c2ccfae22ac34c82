"""A process that runs one execution cycle and can die at a chosen point (SIGKILL-like).

``python -m tests.execution.crash_worker DATA_DIR INTENTS_RUN [CRASH_POINT]``: with a crash
point (``after_ack``: the venue acknowledged, the ledger does not know yet), the process ends
with ``os._exit(9)`` right there, skipping every ``finally`` and buffered write.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from qbtc.execution import submit
from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, run_execution
from qbtc.execution.intents import load_intents
from qbtc.market.sim import SimExchange
from qbtc.market.sim.trading import SimTrading
from qbtc.risk.killswitch import KillSwitch

AS_OF = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")


def main(data_dir: Path, intents_run: str, crash_point: str | None) -> None:
    if crash_point is not None:

        def crash(point: str, client_order_id: str) -> None:
            if point == crash_point:
                os._exit(9)

        submit.fault_hook = crash
    config = ExecutionConfig(data_dir / "lake", data_dir / "state", symbols=SYMBOLS)
    intents = load_intents(config.lake_dir, intents_run)
    venue = SimExchange(seed=7, as_of=AS_OF, symbols=SYMBOLS, trading=SimTrading(data_dir))
    broker = Broker(venue, paper=True)
    report = run_execution(
        broker,
        config,
        intents,
        run_id=f"cycle-{os.getpid()}",
        kill_switch=KillSwitch(config.state_dir),
    )
    print(",".join(f"{r.action}:{r.status}" for r in report.results))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
