from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qbtc.backtest.config import BacktestInputError
from qbtc.backtest.window import load_window
from qbtc.schemas import FUNDING_RATES
from qbtc.signals import RulesProvider
from tests.backtest.helpers import MAX_GAP, config, run
from tests.backtest.lake import START, SYMBOLS, sim_frames, spike_after, write_frames


def _decisions(result):
    return [
        (
            d.at,
            [(i.client_order_id, i.side, i.quantity, i.status, i.reason) for i in d.intents],
            [(f.fill_id, f.price, f.fee) for f in d.fills],
            d.equity,
        )
        for d in result.decisions
    ]


def test_a_backtest_decides_at_every_interval_and_trades(sim_lake: Path):
    result = run(sim_lake)
    assert [d.at for d in result.decisions] == [START + timedelta(hours=h) for h in range(6)]
    assert result.fills, "the rules should trade over five hours of three perps"
    accepted = {i.client_order_id for i in result.intents if i.status == "accepted"}
    assert {f.intent.client_order_id for f in result.fills} == accepted
    assert all(np.isfinite(d.equity) and d.var >= 0 for d in result.decisions)


def test_the_same_backtest_twice_decides_and_fills_identically(sim_lake: Path):
    assert _decisions(run(sim_lake)) == _decisions(run(sim_lake))


def test_bars_fills_take_the_last_close_with_slippage_and_the_fee_rate(sim_lake: Path, sim_data):
    cfg = config(slippage_bps=10.0, fee_rate=0.001)
    result = run(sim_lake, cfg)
    bars = sim_data["ohlcv"]
    for fill in result.fills:
        close = bars.filter(
            (pl.col("symbol") == fill.intent.symbol)
            & (pl.col("timestamp") == fill.timestamp - timedelta(minutes=1))
        )["close"].item()
        sign = 1 if fill.intent.side == "buy" else -1
        assert fill.price == pytest.approx(close * (1 + sign * 0.001))
        assert fill.fee == pytest.approx(fill.quantity * fill.price * 0.001)


def test_a_price_spike_cannot_change_a_decision_made_before_it(lake_dir: Path, sim_data, tmp_path):
    """Point in time: a spike planted at 03:00 (bars and tickers) leaves the decisions at
    00:00-02:00 untouched, and the decision at 03:00, which may see it, does change."""
    write_frames(lake_dir, sim_data)
    planted = tmp_path / "planted" / "lake"
    write_frames(planted, spike_after(START + timedelta(hours=3))(sim_data))
    before, after = _decisions(run(lake_dir)), _decisions(run(planted))
    assert any(intents for _, intents, _, _ in before[:3]), "need trades before the spike"
    assert after[:3] == before[:3]
    assert after[3] != before[3]


def test_funding_is_paid_at_its_timestamps_on_the_position_held_then(sim_lake: Path):
    result = run(sim_lake, config(end=START + timedelta(hours=9)))
    assert result.funding[-1] != 0.0  # a settlement at 08:00 on the book held then


def test_a_symbol_without_history_is_refused_in_one_line(sim_lake: Path):
    cfg = config(symbols=(*SYMBOLS, "XRP/USDT:USDT"))
    with pytest.raises(BacktestInputError, match=r"XRP/USDT:USDT has no 1m bars.*qbtc ingest"):
        load_window(sim_lake, cfg, max_gap=MAX_GAP)


def test_a_window_beyond_the_lake_is_refused(sim_lake: Path):
    cfg = config(end=START + timedelta(days=2))
    with pytest.raises(BacktestInputError, match="has bars only from"):
        load_window(sim_lake, cfg, max_gap=MAX_GAP)


def test_a_gap_in_the_bars_is_refused_with_where_it_is(lake_dir: Path, sim_data):
    gap = (pl.col("timestamp") >= START + timedelta(hours=1)) & (
        pl.col("timestamp") < START + timedelta(hours=2)
    )
    holed = sim_data["ohlcv"].filter(~(gap & (pl.col("symbol") == "ETH/USDT:USDT")))
    write_frames(lake_dir, {**sim_data, "ohlcv": holed, "funding_rates": FUNDING_RATES.empty()})
    with pytest.raises(
        BacktestInputError, match=r"ETH/USDT:USDT has a gap in its bars from .*00:59"
    ):
        load_window(lake_dir, config(), max_gap=MAX_GAP)


def test_a_higher_volatility_target_trades_larger_positions(sim_lake: Path):
    def traded(result) -> float:
        return sum(abs(f.quantity * f.price) for f in result.fills)

    assert traded(run(sim_lake, config(target_vol=0.4))) > traded(
        run(sim_lake, config(target_vol=0.1))
    )


@dataclass(frozen=True)
class OneSnapshotAtATime:
    """The rules, asked at each decision time (not an instance of ``RulesProvider``)."""

    rules: RulesProvider

    @property
    def name(self) -> str:
        return self.rules.name

    def propose(self, snapshot, *, run_id: str):
        return self.rules.propose(snapshot, run_id=run_id)


@pytest.mark.parametrize("chains", [False, True], ids=["perps", "with-option-chains"])
def test_rules_for_all_decision_times_at_once_decide_as_asked_at_each_time(
    lake_dir: Path, sim_data, chains: bool
):
    write_frames(lake_dir, sim_frames(chains=True) if chains else sim_data)
    cfg = config()
    at_each_time = run(lake_dir, cfg, OneSnapshotAtATime(RulesProvider(symbols=cfg.symbols)))
    assert _decisions(run(lake_dir, cfg)) == _decisions(at_each_time)


def test_the_equity_history_frames_are_the_rows_recorded_so_far():
    """Each decision's history frame equals one built from its rows, with the lake's schema,
    and appending later rows leaves a frame already handed out unchanged."""
    from datetime import UTC, datetime

    from qbtc.backtest.loop_state import EquityHistory
    from qbtc.schemas import TS

    history = EquityHistory(3)
    assert history.frame().schema == pl.Schema({"timestamp": TS, "equity": pl.Float64()})
    assert history.frame().is_empty()
    times = [datetime(2026, 1, 1, h, tzinfo=UTC) for h in range(3)]
    values = [1e6, 1.01e6, 0.99e6]
    frames = []
    for at, equity in zip(times, values, strict=True):
        history.append(at, equity)
        frames.append(history.frame())
    for k, frame in enumerate(frames, start=1):
        expected = pl.DataFrame(
            {"timestamp": times[:k], "equity": values[:k]},
            schema={"timestamp": TS, "equity": pl.Float64()},
        )
        assert frame.equals(expected)
