"""``/api/backtests``: the list, one backtest in full, its tear sheet, clear 404s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qbtc.api import create_app
from qbtc.backtest.runner import BacktestOutcome, execute_backtest
from qbtc.backtest.window import load_window
from qbtc.signals import RulesProvider
from tests.api.conftest import make_settings
from tests.backtest.helpers import MAX_GAP, config, risk
from tests.backtest.lake import sim_frames, write_frames


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BacktestOutcome]:
    data_dir = tmp_path_factory.mktemp("bt-api") / "data"
    lake = data_dir / "lake"
    write_frames(lake, sim_frames())
    cfg = config()
    outcome = execute_backtest(
        cfg,
        load_window(lake, cfg, max_gap=MAX_GAP),
        RulesProvider(symbols=cfg.symbols),
        risk(lake),
        lake_dir=lake,
        reports_dir=data_dir / "reports" / "backtests",
    )
    return data_dir, outcome


@pytest.fixture(scope="module")
def api(stored) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(stored[0]))) as client:
        yield client


def test_the_list_has_the_backtest_with_its_headline_metrics(api, stored):
    outcome = stored[1]
    body = api.get("/api/backtests").json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["backtest_id"] == outcome.run.backtest_id
    assert item["strategy"] == "rules"
    assert item["total_return"] == pytest.approx(outcome.metric("total_return"))
    assert item["max_drawdown"] == pytest.approx(outcome.metric("max_drawdown"))
    assert item["parameters"]["interval"] == "1h"
    assert api.get("/api/backtests", params={"provider": "gemini"}).json()["total"] == 0


def test_one_backtest_has_its_metrics_equity_and_trades(api, stored):
    outcome = stored[1]
    body = api.get(f"/api/backtests/{outcome.run.backtest_id}").json()
    assert {m["metric"] for m in body["metrics"]} >= {"sharpe", "sortino", "calmar", "hit_rate"}
    assert len(body["equity"]) == len(outcome.run.decisions)
    assert body["equity"][-1]["equity"] == pytest.approx(outcome.run.final_equity)
    assert len(body["trades"]) == len(outcome.run.fills)


def test_the_tear_sheet_is_served_as_html(api, stored):
    response = api.get(f"/api/backtests/{stored[1].run.backtest_id}/tear-sheet")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<svg" in response.text


def test_an_unknown_backtest_is_a_clear_404(api):
    response = api.get("/api/backtests/btnothing")
    assert response.status_code == 404
    assert response.json()["detail"] == "unknown backtest btnothing: see /api/backtests"
    assert api.get("/api/backtests/btnothing/tear-sheet").status_code == 404
    assert api.get("/api/backtests/bad%20id").status_code == 422
