"""The whole cycle end to end on the simulated venue, under the session Prefect harness."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from flows.pipeline import PipelineParameters, pipeline
from flows.pipeline_outcome import answering_model
from qbtc.lake import read_dataset
from qbtc.market.contracts import is_option_symbol
from qbtc.portfolio.flatten import open_positions
from qbtc.report import read_cycle_summary, render_markdown
from qbtc.symbols import base_currency

SYMBOLS = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "LINK/USDT:USDT"]
AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PARAMS = PipelineParameters(symbols=SYMBOLS, seed=11, as_of=AS_OF, backfill_days=2)


def run_pipeline_once(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, params: PipelineParameters = PARAMS
):
    monkeypatch.setenv("QBTC_DATA_DIR", str(data_dir))
    state = pipeline(params, return_state=True)
    return state, str(state.state_details.flow_run_id)


def decisions(lake: Path) -> dict[str, pl.DataFrame]:
    """What must be identical between two runs (run ids and wall-clock stamps dropped)."""
    signals = read_dataset(lake, "signals").drop("run_id", "created_at").sort("symbol")
    intents = read_dataset(lake, "order_intents").drop("run_id").sort("client_order_id")
    risk = read_dataset(lake, "risk_metrics").drop("run_id").sort("method", "phase")
    venue = (
        read_dataset(lake, "fills")
        .select("client_order_id", "symbol", "side", "quantity", "price", "fee")
        .sort("client_order_id", "quantity")
    )
    return {"signals": signals, "intents": intents, "risk": risk, "fills": venue}


@pytest.fixture(scope="module")
def first_cycle(prefect_harness, tmp_path_factory):
    with pytest.MonkeyPatch.context() as monkeypatch:
        data_dir = tmp_path_factory.mktemp("cycle-a")
        state, run_id = run_pipeline_once(data_dir, monkeypatch)
        yield data_dir, state, run_id


def test_a_cycle_runs_every_stage_and_traces_orders_to_its_run(first_cycle):
    data_dir, state, run_id = first_cycle
    assert state.is_completed(), state.message
    lake = data_dir / "lake"
    run = read_dataset(lake, "runs").filter(pl.col("run_id") == run_id).row(0, named=True)
    assert run["status"] == "completed"
    assert run["as_of"] == AS_OF
    assert run["seed"] == 11
    durations = json.loads(run["stage_durations"])
    stages = {"ingest", "features", "signals", "risk", "orders", "hedge", "hedge_orders", "book"}
    assert set(durations) == {*stages, "catalog"}
    assert len(run["code_version"].removesuffix("-dirty")) == 40
    assert run["llm_model"] is None
    assert json.loads(run["parameters"])["symbols"] == SYMBOLS
    signals = read_dataset(lake, "signals")
    assert sorted(signals["symbol"]) == sorted(SYMBOLS)
    risk = read_dataset(lake, "risk_metrics").filter(pl.col("method") == "monte_carlo")
    # What the pre-trade checks saw and the book after the orders, both kept.
    assert sorted(risk["phase"]) == ["book", "pre_trade"]
    assert set(risk["run_id"]) == {run_id}
    assert set(signals["run_id"]) == {run_id}
    intents = read_dataset(lake, "order_intents")
    assert set(intents["run_id"]) == {run_id}
    events = read_dataset(lake, "order_events").filter(pl.col("event") == "submitted")
    assert set(events["run_id"]) == {run_id}
    assert set(events["client_order_id"]) <= set(intents["client_order_id"])
    assert read_dataset(lake, "risk_metrics").height > 0
    assert (data_dir / "qbtc.duckdb").is_file()


def test_rerunning_the_same_cycle_sends_no_order_twice(first_cycle, monkeypatch):
    data_dir, _, first_run = first_cycle
    lake = data_dir / "lake"
    intents_before = read_dataset(lake, "order_intents").sort("client_order_id")
    venue_before = read_dataset(lake, "sim_venue_orders")["client_order_id"].sort().to_list()
    pre_trade = read_dataset(lake, "risk_metrics").filter(pl.col("phase") == "pre_trade")
    state, _ = run_pipeline_once(data_dir, monkeypatch)
    assert state.is_completed(), state.message
    venue_after = read_dataset(lake, "sim_venue_orders")["client_order_id"]
    assert venue_after.n_unique() == venue_after.len()
    assert venue_after.sort().to_list() == venue_before
    submitted = read_dataset(lake, "order_events").filter(pl.col("event") == "submitted")
    assert submitted["client_order_id"].n_unique() == submitted.height
    # The decision's pre-trade risk stands: the re-run did not re-assess a traded book.
    after = read_dataset(lake, "risk_metrics").filter(pl.col("phase") == "pre_trade")
    assert after.sort("method").equals(pre_trade.sort("method"))
    # Lineage: an intent's run and decision never change once written (no re-stamping).
    intents_after = read_dataset(lake, "order_intents").sort("client_order_id")
    assert intents_after.drop("_written_at", strict=False).equals(
        intents_before.drop("_written_at", strict=False)
    )
    assert set(intents_after["run_id"]) == {first_run}
    traced = read_dataset(lake, "signals").filter(pl.col("run_id") == first_run)
    perps = {s for s in intents_after["symbol"] if not is_option_symbol(s)}
    assert perps <= set(traced["symbol"])  # a perp traces to its directional signal
    # An option leg traces to its structure, and the structure to its volatility view.
    legs = intents_after.filter(pl.col("symbol").map_elements(is_option_symbol, pl.Boolean))
    structures = read_dataset(lake, "option_structures")
    assert set(legs["structure_id"]) <= set(structures["structure_id"])
    views = read_dataset(lake, "vol_views")
    chosen = structures.filter(pl.col("structure_id").is_in(legs["structure_id"].to_list()))
    assert set(chosen["view_id"]) <= set(views["view_id"])


def test_same_seed_and_as_of_in_a_fresh_data_dir_gives_identical_decisions(
    first_cycle, tmp_path, monkeypatch
):
    data_dir, _, _ = first_cycle
    state, _ = run_pipeline_once(tmp_path / "cycle-b", monkeypatch)
    assert state.is_completed(), state.message
    first, second = decisions(data_dir / "lake"), decisions(tmp_path / "cycle-b" / "lake")
    # The first data dir also holds the re-run of the same cycle: it must not change them.
    for name in first:
        assert first[name].equals(second[name]), name


# Runs after the comparison above: it adds a later cycle to the first data dir.
def test_a_run_on_a_subset_trades_only_its_symbols_and_leaves_the_rest(first_cycle, monkeypatch):
    data_dir, _, _ = first_cycle
    lake = data_dir / "lake"
    before = open_positions(lake, "main")
    assert set(before["symbol"]) - {"BTC/USDT:USDT"}, "the first cycle should hold other perps"
    later = AS_OF + timedelta(minutes=5)
    params = PARAMS.model_copy(update={"symbols": ["BTC/USDT:USDT"], "as_of": later})
    state, run_id = run_pipeline_once(data_dir, monkeypatch, params)
    assert state.is_completed(), state.message
    events = read_dataset(lake, "order_events").filter(pl.col("run_id") == run_id)
    sent = events.filter(pl.col("event").is_in(["intent", "submitted"]))
    # The BTC perp and options on BTC are the run's; no order on another underlying is sent.
    # (Reconciliation still books fills of option orders an earlier cycle left resting.)
    assert {base_currency(s) for s in sent["symbol"]} <= {"BTC"}
    after = open_positions(lake, "main")
    others = (pl.col("symbol").str.split("/").list.first() != "BTC") & (pl.col("type") == "perp")
    quantities = ["symbol", "quantity"]
    assert after.filter(others).select(quantities).equals(before.filter(others).select(quantities))
    # The whole book was valued on fresh marks: the held perps' data was fetched too.
    tickers = read_dataset(lake, "tickers").filter(pl.col("timestamp") == later)
    held_perps = {s for s in before["symbol"] if not is_option_symbol(s)}
    assert held_perps <= set(tickers["symbol"])
    report = read_cycle_summary(lake, run_id)
    assert report.left_alone == sorted(s for s in before["symbol"] if base_currency(s) != "BTC")
    assert "left as they are" in render_markdown(report)


def test_a_failed_stage_stops_the_stages_after_it(prefect_harness, tmp_path, monkeypatch):
    params = PARAMS.model_copy(update={"symbols": ["NOPE/USDT:USDT"], "signal_provider": "gemini"})
    state, _ = run_pipeline_once(tmp_path / "bad", monkeypatch, params)
    assert state.is_failed()
    assert "stage ingest failed" in (state.message or "")
    lake = tmp_path / "bad" / "lake"
    run = read_dataset(lake, "runs").row(0, named=True)
    assert run["status"] == "failed"
    assert run["message"].startswith("stage ingest failed")
    assert run["llm_model"] is None  # the model was configured, but no LLM answered
    assert read_dataset(lake, "signals").is_empty()
    assert read_dataset(lake, "order_intents").is_empty()
    alerts = read_dataset(lake, "alerts")
    assert "stage-failed" in alerts["kind"].to_list()


@pytest.mark.parametrize(
    ("summary", "model"),
    [
        ({"requested": "rules", "provider": "rules", "model": "rules-v1"}, None),
        ({"requested": "gemini", "provider": "rules", "model": "rules-v1"}, None),  # fallback
        (
            {"requested": "gemini", "provider": "gemini", "model": "gemini-2.5-flash"},
            "gemini-2.5-flash",
        ),
        (
            {"requested": "replay", "provider": "replay", "model": "gemini-2.5-flash"},
            "gemini-2.5-flash",
        ),
        (None, None),  # the signals stage did not run
    ],
)
def test_the_manifest_names_the_model_that_answered(summary, model):
    assert answering_model(summary) == model


def copy_of(first_cycle, tmp_path: Path) -> Path:
    import shutil

    data_dir, _, _ = first_cycle
    target = tmp_path / "copy"
    shutil.copytree(data_dir, target, ignore=shutil.ignore_patterns("*.lock", "prefect"))
    return target


def test_a_cycle_that_trips_the_kill_switch_or_skips_a_corrupt_file_says_so(
    first_cycle, tmp_path, monkeypatch
):
    from qbtc.lake.layout import data_files, dataset_dir
    from qbtc.market.sim import SimExchange
    from qbtc.market.sim.trading import SimTrading
    from qbtc.schemas import get_dataset

    data_dir = copy_of(first_cycle, tmp_path)
    venue = SimExchange(seed=11, as_of=AS_OF, symbols=tuple(SYMBOLS), trading=SimTrading(data_dir))
    venue.create_order(SYMBOLS[0], "market", "buy", 0.5, None, {"clientOrderId": "by-hand"})
    victim = data_files(dataset_dir(data_dir / "lake", get_dataset("ohlcv")))[0]
    victim.write_bytes(victim.read_bytes()[:100])
    state, run_id = run_pipeline_once(data_dir, monkeypatch)
    assert state.is_completed(), state.message
    run = read_dataset(data_dir / "lake", "runs").filter(pl.col("run_id") == run_id)
    message = run["message"][0]
    assert run["status"][0] == "completed"
    assert message.startswith("completed with warnings: ")
    assert "reconciliation mismatch" in message
    assert f"corrupt Parquet file {victim}" in message


def test_a_lost_venue_account_fails_the_cycle_and_names_the_file(
    first_cycle, tmp_path, monkeypatch
):
    data_dir = copy_of(first_cycle, tmp_path)
    (data_dir / "venue" / "account.json").unlink()
    state, run_id = run_pipeline_once(data_dir, monkeypatch)
    assert state.is_failed()
    run = read_dataset(data_dir / "lake", "runs").filter(pl.col("run_id") == run_id)
    assert run["status"][0] == "failed"
    assert "account.json is missing" in run["message"][0]
    assert not (data_dir / "venue" / "account.json").exists()  # no fresh account invented
