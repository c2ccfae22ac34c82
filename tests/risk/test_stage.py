from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from qbtc.config import load_settings
from qbtc.execution.intents import intents_frame
from qbtc.lake import LakeReader, read_dataset, write_dataset
from qbtc.portfolio.plan import PlanConfig, plan_perps
from qbtc.pricing import black76_price, year_fraction
from qbtc.risk import KillSwitch, check_intents
from qbtc.risk.cycle_inputs import RiskConfig, load_cycle_inputs
from qbtc.risk.cycle_report import assess_cycle
from qbtc.risk.records import risk_metric_rows, summary_rows
from qbtc.risk.stage import enforce_drawdown, pretrade_context
from qbtc.risk.valuation import MissingMarkError
from qbtc.schemas import ORDER_INTENTS, RISK_METRICS
from tests.risk import lake
from tests.risk.lake import AS_OF, BTC, CALL, ETH


def config_for(data_dir: Path, **settings: object) -> RiskConfig:
    base = {"symbols": f"{BTC},{ETH}", "mc_scenarios": 2000, **settings}
    return RiskConfig.from_settings(load_settings(data_dir=data_dir, **base))


def plan_config(config: RiskConfig, sizing: str = "vol_target") -> PlanConfig:
    return PlanConfig(
        portfolio_id="main",
        strategy="qbtc",
        target_vol=config.target_vol,
        max_symbol_notional=config.limits.max_symbol_notional,
        max_gross_notional=config.limits.max_gross_notional,
        max_leverage=config.limits.max_leverage,
        band_usd=config.band_usd,
        max_order_notional=config.limits.max_order_notional,
        sizing=sizing,  # type: ignore[arg-type]
    )


def decide(data_dir: Path, config: RiskConfig, sizing: str = "vol_target"):
    inputs = load_cycle_inputs(config, AS_OF)
    report = assess_cycle(inputs, config)
    valued = report.valued
    proposed = plan_perps(
        inputs.signals,
        valued.book,
        valued.holdings,
        valued.prices,
        report.volatility,
        report.correlation,
        equity=report.equity,
        config=plan_config(config, sizing),
        run_id="run-1",
        decision_bar=lake.BAR,
    ).intents
    return report, check_intents(proposed, pretrade_context(inputs, report, config), config.limits)


@pytest.fixture
def book_lake(lake_dir: Path) -> Path:
    lake.write_lake(lake_dir)
    return lake_dir


def test_book_is_valued_on_the_latest_marks(book_lake, data_dir):
    config = config_for(data_dir)
    report = assess_cycle(load_cycle_inputs(config, AS_OF), config)
    book = report.valued.book
    assert book.underlyings == ("BTC", "ETH")
    assert book.perps.symbols == (BTC,)
    assert book.options.symbols == (CALL,)
    call = float(
        black76_price(lake.FORWARD, 50_000.0, year_fraction(AS_OF, lake.EXPIRY), lake.IV, True)
    )
    # capital + ETH realized 1,500 - fees 100 + funding -20 + BTC 2 x 2,000 + 10 calls
    expected = 1_000_000 + 1_380 + 4_000 + 10 * (call - 4_000)
    assert report.equity == pytest.approx(expected, rel=1e-12)
    assert report.valued.mark_age_s[BTC] == 30.0
    assert 0.3 < report.volatility[BTC] < 1.0  # estimated from the closes (60% a year)
    assert report.assessment.full.var > 0
    assert report.breaches == ()


def test_signals_become_hedged_intents_that_pass_the_checks(book_lake, data_dir):
    report, decided = decide(data_dir, config_for(data_dir))
    assert all(i.status == "accepted" for i in decided), [i.reason for i in decided]
    legs = [(i.symbol, i.leg, i.side, i.reduce_only) for i in decided]
    # BTC flips from +2 to short: the long view (about 3.8 coins) minus the calls' delta
    # (about 5.6 coins); the closing leg goes first, reduce-only
    assert legs == [
        (BTC, "close", "sell", True),
        (BTC, "open", "sell", False),
        (ETH, "increase", "sell", False),
    ]
    btc_view = 0.8 * report.equity * 0.2 / 2**0.5 / report.volatility[BTC] / 50_000.0
    calls_delta = report.assessment.greeks.by_underlying[0].delta_coin - 2.0
    assert decided[0].quantity == 2.0
    assert -decided[1].quantity == pytest.approx(btc_view - calls_delta, rel=1e-6)


def test_stale_marks_refuse_every_intent(lake_dir, data_dir):
    lake.write_lake(lake_dir, marks_age_s=3_600.0)
    _, decided = decide(data_dir, config_for(data_dir))
    assert decided
    assert all(i.status == "refused" for i in decided)
    assert all("stale data" in (i.reason or "") for i in decided)


def test_old_signals_refuse_every_intent(lake_dir, data_dir):
    lake.write_prices(lake_dir)
    lake.write_marks(lake_dir)
    lake.write_positions(lake_dir)
    lake.write_signals(lake_dir, bar=AS_OF - timedelta(hours=2))
    lake.write_gate(lake_dir)
    _, decided = decide(data_dir, config_for(data_dir))
    assert decided
    assert all("signals are 7,200 s old" in (i.reason or "") for i in decided)


def test_a_failed_gate_refuses_every_intent(lake_dir, data_dir):
    lake.write_lake(lake_dir, gate=False)
    lake.write_gate(lake_dir, passed=False, reasons=("ohlcv.gaps: fail (3 of 400)",))
    _, decided = decide(data_dir, config_for(data_dir))
    assert {i.reason for i in decided} == {"quality gate failed: ohlcv.gaps: fail (3 of 400)"}


def test_no_gate_yet_refuses_with_what_to_do(lake_dir, data_dir):
    lake.write_lake(lake_dir, gate=False)
    _, decided = decide(data_dir, config_for(data_dir))
    assert all("run `qbtc ingest` first" in (i.reason or "") for i in decided)


def test_drawdown_beyond_the_limit_trips_the_kill_switch(book_lake, data_dir):
    config = config_for(data_dir)
    inputs = load_cycle_inputs(config, AS_OF)
    report = assess_cycle(inputs, config)
    peak = report.equity / 0.8  # now 20% below an earlier peak
    history = risk_metric_rows(report, config, "earlier", "book")
    history = history.with_columns(
        pl.lit(AS_OF - timedelta(days=1)).cast(history.schema["timestamp"]).alias("timestamp"),
        pl.lit(peak).alias("equity"),
    )
    write_dataset(config.lake_dir, RISK_METRICS, history)
    report = assess_cycle(load_cycle_inputs(config, AS_OF), config)
    assert report.drawdown == pytest.approx(0.2)
    state = enforce_drawdown(report, config)
    assert state is not None
    assert state.reason.startswith("drawdown 20.00% beyond the limit 15.00%")
    # stamped with the cycle's clock, not the wall clock: a replay or backtest reproduces it
    assert state.since == AS_OF
    assert KillSwitch(config.state_dir).status().on
    assert enforce_drawdown(report, config) is None  # already on: no second trip
    _, decided = decide(data_dir, config)
    assert all(i.status == "refused" for i in decided if not i.reduce_only)


def test_a_held_position_without_a_mark_is_a_clear_error(lake_dir, data_dir):
    lake.write_prices(lake_dir)
    lake.write_marks(lake_dir)
    unquoted = "BTC/USDT:USDT-260327-70000-C"
    lake.write_positions(lake_dir, [lake.position(unquoted, 5.0, 100.0, type="option")])
    config = config_for(data_dir)
    with pytest.raises(
        MissingMarkError, match=r"no mark for held position\(s\) \['BTC/USDT:USDT-2603"
    ):
        assess_cycle(load_cycle_inputs(config, AS_OF), config)


def test_a_held_perp_without_price_history_is_a_clear_error(lake_dir, data_dir):
    lake.write_prices(lake_dir)
    lake.write_positions(lake_dir, [lake.position("SOL/USDT:USDT", 5.0, 100.0)])
    with pytest.raises(ValueError, match=r"price history .* \['SOL/USDT:USDT'\].*qbtc ingest"):
        load_cycle_inputs(config_for(data_dir), AS_OF)


def test_rows_match_their_schemas(book_lake, data_dir):
    config = config_for(data_dir)
    report, decided = decide(data_dir, config)
    write_dataset(
        config.lake_dir, RISK_METRICS, risk_metric_rows(report, config, "run-1", "pre_trade")
    )
    write_dataset(config.lake_dir, ORDER_INTENTS, intents_frame(decided))
    stored = read_dataset(config.lake_dir, RISK_METRICS)
    assert sorted(stored["method"]) == [
        "delta_gamma_cf",
        "delta_gamma_mc",
        "delta_normal",
        "historical",
        "monte_carlo",
    ]
    assert stored.filter(pl.col("method") == "monte_carlo")["mc_stderr"][0] > 0
    rows = summary_rows(report, config)
    assert any(r["measure"].startswith("stress crash") for r in rows)
    assert rows[0]["measure"] == "VaR 99% 1-day, Monte Carlo full revaluation"
    # the catalog views: the promised first five columns, then the rest
    reader = LakeReader(config.lake_dir)
    view = reader.query("SELECT * FROM risk_metrics WHERE method = 'monte_carlo'")
    assert view.columns[:5] == ["portfolio_id", "var", "sharpe", "drawdown", "timestamp"]
    assert view["var"][0] == report.assessment.full.var
    intents = reader.query("SELECT status, count(*) AS n FROM order_intents GROUP BY status")
    assert intents.rows() == [("accepted", len(decided))]


def test_mean_variance_sizing_follows_the_signals_within_the_caps(book_lake, data_dir):
    config = config_for(data_dir, max_symbol_notional=100_000.0)
    _, decided = decide(data_dir, config, sizing="mean_variance")
    assert all(i.status == "accepted" for i in decided), [i.reason for i in decided]
    legs = [(i.symbol, i.side, i.leg) for i in decided]
    assert legs == [(BTC, "sell", "close"), (BTC, "sell", "open"), (ETH, "sell", "increase")]
    # the calls' delta asks for a bigger BTC short than the cap: hedged up to the cap only
    assert decided[1].notional == pytest.approx(100_000.0)
    assert decided[2].notional <= 100_000.0 + 1e-6


def test_historical_simulation_var_is_recorded_with_the_other_methods(book_lake, data_dir):
    config = config_for(data_dir)
    report = assess_cycle(load_cycle_inputs(config, AS_OF), config)
    historical = report.assessment.historical
    assert historical is not None
    assert historical.var > 0
    rows = risk_metric_rows(report, config, "run-1", "pre_trade")
    methods = set(rows["method"].to_list())
    assert {"monte_carlo", "delta_normal", "delta_gamma_cf", "historical"} <= methods
    assert rows.filter(pl.col("method") == "historical")["var"].item() == historical.var


def test_sharpe_and_sortino_come_once_a_day_of_hourly_equity_exists():
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from qbtc.risk.cycle_report import RATIO_MIN_RETURNS, _ratios

    end = datetime(2026, 11, 20, tzinfo=UTC)
    rng = np.random.default_rng(3)

    def history(hours: int) -> pl.DataFrame:
        times = [end - timedelta(hours=h) for h in range(hours, 0, -1)]
        equity = 1e6 * np.cumprod(1 + rng.normal(0.0002, 0.002, hours))
        return pl.DataFrame(
            {"timestamp": times, "equity": equity},
            schema={"timestamp": pl.Datetime("us", "UTC"), "equity": pl.Float64},
        )

    assert _ratios(history(RATIO_MIN_RETURNS - 2), end, 1e6) == (None, None)
    sharpe, sortino = _ratios(history(48), end, 1e6)
    assert sharpe is not None
    assert sortino is not None
    # only the last 30 days count: older history does not change the figures
    long = history(24 * 40)
    recent = long.filter(pl.col("timestamp") >= end - timedelta(days=30))
    assert _ratios(long, end, 1e6) == _ratios(recent, end, 1e6)


def test_ratios_take_the_last_equity_of_each_utc_hour_as_polars_group_by_dynamic_does():
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from qbtc.risk.cycle_report import RATIO_WINDOW, _ratios
    from qbtc.risk.ratios import sharpe, sortino

    end = datetime(2026, 11, 20, 13, 25, tzinfo=UTC)
    rng = np.random.default_rng(5)
    # irregular records: several in some hours, none in others, some older than the window
    minutes = np.sort(rng.choice(np.arange(1, 60 * 24 * 33), size=900, replace=False))
    times = [end - timedelta(minutes=int(m)) for m in minutes[::-1]]
    history = pl.DataFrame(
        {"timestamp": times, "equity": 1e6 * np.cumprod(1 + rng.normal(0, 0.002, len(times)))},
        schema={"timestamp": pl.Datetime("us", "UTC"), "equity": pl.Float64},
    )
    now = pl.DataFrame({"timestamp": [end], "equity": [1.01e6]}, schema=history.schema)
    values = (
        pl.concat([history.filter(pl.col("timestamp") >= end - RATIO_WINDOW), now])
        .sort("timestamp")
        .group_by_dynamic("timestamp", every="1h")
        .agg(pl.col("equity").last())["equity"]
        .to_numpy()
    )
    returns = values[1:] / values[:-1] - 1.0
    assert _ratios(history, end, 1.01e6) == (sharpe(returns, 8760.0), sortino(returns, 8760.0))


def test_ratios_read_any_time_unit_as_microseconds():
    """The microsecond column is read as its own integers; other units through polars."""
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from qbtc.risk.cycle_report import _ratios

    end = datetime(2026, 11, 20, 13, 25, tzinfo=UTC)
    rng = np.random.default_rng(8)
    times = [end - timedelta(minutes=37 * k) for k in range(900, 0, -1)]
    history = pl.DataFrame(
        {"timestamp": times, "equity": 1e6 * np.cumprod(1 + rng.normal(0, 0.002, len(times)))},
        schema={"timestamp": pl.Datetime("us", "UTC"), "equity": pl.Float64},
    )
    expected = _ratios(history, end, 1.01e6)
    assert expected[0] is not None
    for unit in ("ms", "ns"):
        other = history.with_columns(pl.col("timestamp").cast(pl.Datetime(unit, "UTC")))
        assert _ratios(other, end, 1.01e6) == expected


def test_the_reports_ratios_are_those_of_its_equity_history(book_lake, data_dir):
    """Sharpe and Sortino come when read, from the history the cycle read, and stay with a
    report copied with more units."""
    import dataclasses

    import numpy as np

    from qbtc.risk.cycle_report import _ratios

    config = config_for(data_dir)
    inputs = load_cycle_inputs(config, AS_OF)
    rng = np.random.default_rng(4)
    times = [AS_OF - timedelta(hours=h) for h in range(72, 0, -1)]
    history = pl.DataFrame(
        {"timestamp": times, "equity": 1e6 * np.cumprod(1 + rng.normal(0, 0.002, 72))},
        schema={"timestamp": pl.Datetime("us", "UTC"), "equity": pl.Float64},
    )
    report = assess_cycle(dataclasses.replace(inputs, equity_history=history), config)
    expected = _ratios(history, AS_OF, report.equity)
    assert expected[0] is not None
    assert (report.sharpe, report.sortino) == expected
    copied = dataclasses.replace(report, units=dict(report.units))
    assert (copied.sharpe, copied.sortino) == expected
