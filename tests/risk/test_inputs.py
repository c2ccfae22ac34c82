from __future__ import annotations

from datetime import timedelta

import polars as pl

from qbtc.lake import write_dataset
from qbtc.risk.inputs import load_signals
from qbtc.schemas import SIGNALS
from tests.risk.lake import AS_OF, BAR, BTC, ETH


def _signal(run_id: str, symbol: str, direction: str, created_minutes: int) -> dict:
    return {
        "signal_id": f"{run_id}|{symbol}",
        "run_id": run_id,
        "symbol": symbol,
        "timestamp": BAR,
        "direction": direction,
        "strength": 0.5 if direction == "long" else -0.5,
        "confidence": 0.7,
        "horizon_minutes": 60,
        "provider": "rules",
        "model": None,
        "rationale": "test",
        "feature_snapshot": "snap",
        "fallback_reason": None,
        "created_at": BAR + timedelta(minutes=created_minutes),
    }


def test_only_the_newest_run_of_the_latest_bar_is_used(lake_dir):
    rows = [
        _signal("older", BTC, "long", 0),
        _signal("older", ETH, "long", 0),
        _signal("newer", BTC, "short", 1),
        _signal("newer", ETH, "short", 1),
    ]
    write_dataset(lake_dir, SIGNALS, pl.DataFrame(rows, schema=SIGNALS.schema))
    chosen = load_signals(lake_dir, AS_OF)
    assert chosen["run_id"].to_list() == ["newer", "newer"]
    assert chosen["symbol"].to_list() == sorted([BTC, ETH])
    assert set(chosen["direction"]) == {"short"}
