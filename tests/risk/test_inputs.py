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


def test_options_past_expiry_are_held_as_closed_until_their_settlement_is_booked() -> None:
    from datetime import UTC, datetime

    import polars as pl

    from qbtc.risk.inputs import close_expired_options
    from qbtc.schemas import POSITIONS

    expiry = datetime(2026, 1, 6, 8, tzinfo=UTC)
    rows = [
        {
            "id": "main:C",
            "symbol": "BTC/USDT:USDT-260106-86500-C",
            "type": "option",
            "side": "short",
            "quantity": -0.91,
            "unrealized_pnl": -22.9,
            "realized_pnl": 0.0,
            "fees": 11.0,
            "expiry": expiry,
        },
        {
            "id": "main:P",
            "symbol": "BTC/USDT:USDT-260107-86500-P",
            "type": "option",
            "side": "long",
            "quantity": 1.0,
            "unrealized_pnl": 5.0,
            "realized_pnl": 0.0,
            "fees": 1.0,
            "expiry": datetime(2026, 1, 7, 8, tzinfo=UTC),
        },
        {
            "id": "main:BTC",
            "symbol": "BTC/USDT:USDT",
            "type": "perp",
            "side": "long",
            "quantity": 0.5,
            "unrealized_pnl": 3.0,
            "realized_pnl": 0.0,
            "fees": 2.0,
            "expiry": None,
        },
    ]
    frame = pl.DataFrame(rows).cast({k: v for k, v in POSITIONS.schema.items() if k in rows[0]})
    after = close_expired_options(frame, datetime(2026, 1, 6, 9, tzinfo=UTC))
    assert after["quantity"].to_list() == [0.0, 1.0, 0.5]
    assert after["unrealized_pnl"].to_list() == [0.0, 5.0, 3.0]
    assert after["side"].to_list() == ["flat", "long", "long"]
    assert after["fees"].to_list() == [11.0, 1.0, 2.0]  # what was paid stays booked
    before = close_expired_options(frame, datetime(2026, 1, 6, 7, tzinfo=UTC))
    assert before["quantity"].to_list() == [-0.91, 1.0, 0.5]
