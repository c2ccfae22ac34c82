"""The risk stage's fast paths give the general paths' figures bit for bit.

A backtest assesses the book at every decision, so the risk stage shares work between its
figures (one partial sort per P&L array, one PSD check per covariance, one plan per book),
caches what does not change (the Monte Carlo normals) and revalues one-coin perp books
together. Each test here holds one of them to the general computation it replaces, on
random books (perps and options).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from qbtc.risk import Book, OptionLegs, PerpLegs, draws, factor_model
from qbtc.risk._checks import check_psd, check_psd_eigh
from qbtc.risk.assessment import _perp_unit_risks, _unit_risk, assess_book, unit_risks
from qbtc.risk.book import one_coin_perps
from qbtc.risk.cycle_report import spot_model
from qbtc.risk.draws import BLOCK_SCENARIOS, _cached_normal_blocks, simulate_factor_moves
from qbtc.risk.exposure import exposure, portfolio_greeks
from qbtc.risk.factors import FactorModel, estimate_spot_risk, sample_covariance
from qbtc.risk.historical import historical_scenarios
from qbtc.risk.inputs import Marks, PriceHistory
from qbtc.risk.montecarlo import (
    _linear_indexes,
    _linear_quantile,
    quantile_stderr,
    revalue_scenarios,
    scenario_pnl,
    shortfall_stderr,
    simulate_scenarios,
    summarise,
)
from qbtc.risk.revaluation import (
    delta_gamma_pnl,
    option_values,
    plan_revaluation,
    revalue,
    sensitivities,
)
from qbtc.risk.stress import STANDARD_SCENARIOS, StressScenario, stress_test
from qbtc.risk.valuation import unit_book, value_book
from qbtc.risk.var import (
    _cornish_fisher_var,
    cvar_historical,
    var_delta_gamma,
    var_delta_normal,
    var_historical,
)
from qbtc.symbols import base_currency
from tests.risk.books import SPOT, UNDERLYINGS, model, option_book, perp_book


def _same(a: object, b: object) -> bool:
    """Equal to the bit: floats by repr, arrays by bytes, dataclasses field by field."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | np.floating):
        return repr(float(a)) == repr(float(b))
    return bool(a == b)


def _random_pnl(rng: np.random.Generator, n: int) -> np.ndarray:
    pnl = rng.standard_t(3, n) * 10 ** rng.uniform(0, 6)
    if rng.random() < 0.3:
        # ties, zeros of one sign as revaluation gives them (its P&L starts from +0.0; with
        # -0.0 and +0.0 both present, which of the equal zeros a partial sort puts first
        # is the sort's choice)
        pnl = np.round(pnl, -2) + 0.0
    return pnl


def test_summarise_gives_the_figures_of_the_separate_estimators():
    rng = np.random.default_rng(0)
    for n in (2, 3, 4, 7, 10, 99, 200, 1000, 1439, 2048):
        for confidence in (0.9, 0.95, 0.975, 0.99, 0.999):
            pnl = _random_pnl(rng, n)
            result = summarise(pnl, confidence, 1.0, "m")
            var = var_historical(pnl, confidence)
            assert _same(result.var, var)
            assert _same(result.cvar, cvar_historical(pnl, confidence))
            assert _same(result.var_stderr, quantile_stderr(-pnl, confidence))
            assert _same(result.cvar_stderr, shortfall_stderr(-pnl, confidence, var))
            assert result.pnl is pnl
            assert result.scenarios == n


def test_linear_quantile_is_numpys_arithmetic():
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(1, 400))
        values = _random_pnl(rng, n)
        for q in (*rng.random(4), 0.0, 1.0, 0.5, 0.99, 1 - 1e-12):
            at = sorted({*_linear_indexes(n, q)})
            ordered = np.partition(values, at)
            assert _same(_linear_quantile(ordered, n, q), np.quantile(values, q))


def _fresh_draw(covariance: np.ndarray, scenarios: int, seed: int) -> np.ndarray:
    """The draw from new generators every time (what the cached normals replace)."""
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2.0)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    children = np.random.SeedSequence(seed).spawn(-(-scenarios // BLOCK_SCENARIOS))
    out = np.empty((scenarios, root.shape[0]))
    for b, child in enumerate(children):
        start = b * BLOCK_SCENARIOS
        size = min(BLOCK_SCENARIOS, scenarios - start)
        z = np.random.Generator(np.random.PCG64(child)).standard_normal((size // 2, root.shape[0]))
        out[start : start + size] = np.concatenate([z, -z]) @ root.T
    return out


@pytest.mark.parametrize(("scenarios", "factors", "seed"), [(200, 4, 7), (2 * 1024 + 10, 6, 3)])
def test_cached_normals_give_the_draw_of_fresh_generators(scenarios, factors, seed):
    rng = np.random.default_rng(seed)
    for _ in range(3):  # the first call draws, the next ones read the cache
        a = rng.normal(size=(factors, factors))
        covariance = a @ a.T * 1e-3
        moves = simulate_factor_moves(covariance, scenarios, seed)
        assert _same(moves, _fresh_draw(covariance, scenarios, seed))
    for block in _cached_normal_blocks(seed, scenarios, factors):
        with pytest.raises(ValueError, match="WRITEABLE"):
            block.flags.writeable = True  # backed by bytes: no caller can change the draw


def test_a_draw_too_big_to_keep_is_drawn_afresh_with_the_same_figures(monkeypatch):
    rng = np.random.default_rng(5)
    a = rng.normal(size=(4, 4))
    covariance = a @ a.T * 1e-3
    kept = simulate_factor_moves(covariance, 300, 9)
    monkeypatch.setattr(draws, "CACHED_NORMALS_MAX", 100)
    _cached_normal_blocks.cache_clear()
    assert _same(simulate_factor_moves(covariance, 300, 9), kept)
    assert _cached_normal_blocks.cache_info().currsize == 0


def _one_coin(symbol: str, underlying: int, price: float, quantity: float = 1.0) -> Book:
    return Book(UNDERLYINGS, SPOT, PerpLegs((symbol,), [underlying], [quantity], [price]))


def _random_units(rng: np.random.Generator) -> dict[str, Book]:
    units: dict[str, Book] = {}
    for k in range(8):
        quantity = float(rng.choice([1.0, 1.0, -2.5, 0.0, 1e-3]))
        units[f"P{k}"] = _one_coin(f"P{k}", int(rng.integers(0, 2)), rng.uniform(1, 9e4), quantity)
    options = option_book(6, seed=int(rng.integers(100)))
    for k, symbol in enumerate(options.options.symbols):
        legs = options.options
        one = OptionLegs(
            (symbol,),
            legs.underlying[k : k + 1],
            [1.0],
            legs.forward[k : k + 1],
            legs.strike[k : k + 1],
            legs.expiry[k : k + 1],
            legs.vol[k : k + 1],
            legs.is_call[k : k + 1],
        )
        units[symbol] = Book(UNDERLYINGS, SPOT, options=one)
    units["TWO"] = perp_book()  # two legs: the general path
    return dict(sorted(units.items(), key=lambda _: rng.random()))


def test_perp_unit_risks_equal_the_general_path_on_random_books():
    rng = np.random.default_rng(2)
    for seed in range(4):
        units = _random_units(rng)
        scenarios = simulate_scenarios(model(), UNDERLYINGS, 1.0, 600, seed)
        risks = unit_risks(units, scenarios, threads=2)
        assert list(risks) == list(units)
        for symbol, unit in units.items():
            assert _same(risks[symbol], _unit_risk(symbol, unit, scenarios, threads=1))
        fast = _perp_unit_risks({s: u for s, u in units.items() if s.startswith("P")}, scenarios)
        assert len(fast) == 8
        # a row of the shared P&L array cannot be written over
        with pytest.raises(ValueError, match="read-only"):
            fast["P0"].pnl[0] = 1.0


def test_one_coin_perps_are_the_books_built_one_by_one():
    symbols, index, prices = ["A", "B", "C"], [0, 1, 0], [50_000.0, 3_000.0, 1.5]
    books = one_coin_perps(symbols, index, prices, UNDERLYINGS, SPOT)
    for book, symbol, i, price in zip(books, symbols, index, prices, strict=True):
        assert _same(book, _one_coin(symbol, i, price))
        assert book.perps.quantity.dtype == np.float64
        assert book.perps.underlying.dtype == np.int64
    bad = [([1.0, -3.0, 2.0], SPOT, "positive"), ([1.0, np.nan, 2.0], SPOT, "finite")]
    bad.append(([1.0, 2.0, 3.0], np.array([1.0, 0.0]), "spot prices must be positive"))
    for marks, spot, message in bad:
        with pytest.raises(ValueError, match=message):
            one_coin_perps(symbols, index, marks, UNDERLYINGS, spot)
    with pytest.raises(ValueError, match="unknown underlying"):
        one_coin_perps(["A"], [2], [1.0], UNDERLYINGS, SPOT)


def test_perps_only_revaluation_in_one_piece_equals_the_chunks():
    book = perp_book(3.7, -0.2)
    shocks = simulate_scenarios(model(), UNDERLYINGS, 1.0, 3000, 5)
    plan = plan_revaluation(book, 1.0)
    chunks = [
        revalue(plan, shocks.spot_returns[i : i + 7], shocks.vol_shifts[i : i + 7])
        for i in range(0, 3000, 7)
    ]
    assert _same(
        revalue_scenarios(plan, shocks.spot_returns, shocks.vol_shifts, 7, threads=2),
        np.concatenate(chunks),
    )


def _wide_model():
    """Three underlyings: books of two of them use a part of the covariance."""
    return factor_model(
        ("BTC", "ETH", "SOL"),
        [0.6, 0.8, 1.1],
        [[1.0, 0.7, 0.5], [0.7, 1.0, 0.6], [0.5, 0.6, 1.0]],
    )


def _prices(rng: np.random.Generator) -> PriceHistory:
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0, 1e-3, (400, 2)), axis=0))
    return PriceHistory(("BTC/USDT:USDT", "ETH/USDT:USDT"), closes, 525_600.0)


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("make", [perp_book, option_book])
def test_assess_book_gives_the_figures_of_the_separate_functions(make, wide):
    """Every figure of the assessment as the public functions compute it one by one."""
    book, factors = make(), _wide_model() if wide else model()
    history = historical_scenarios(_prices(np.random.default_rng(3)), UNDERLYINGS, 1.0)
    a = assess_book(book, factors, scenarios=2000, seed=9, history=history)
    shocks = simulate_scenarios(factors, UNDERLYINGS, 1.0, 2000, 9)
    assert _same(a.scenarios, shocks)
    full = scenario_pnl(book, shocks, "full", chunk_size=256, threads=2)
    assert _same(a.full, summarise(full, 0.99, 1.0, "monte_carlo"))
    approx = scenario_pnl(book, shocks, "delta_gamma")
    assert _same(a.delta_gamma, summarise(approx, 0.99, 1.0, "delta_gamma_mc"))
    past = scenario_pnl(book, history, "full", threads=2)
    assert _same(a.historical, summarise(past, 0.99, 1.0, "historical"))
    assert _same(a.greeks, portfolio_greeks(book))
    assert _same(a.exposure, exposure(book))
    assert _same(a.state.by_symbol, exposure(book).by_symbol)
    assert _same(a.stress, stress_test(book))
    # the analytic VaRs on the book's part of the covariance, checked there
    sens = sensitivities(book)
    idx = [factors.index(u) for u in UNDERLYINGS]
    cols = idx + [len(factors.underlyings) + i for i in idx]
    cov = factors.covariance(1.0)[np.ix_(cols, cols)]
    delta = np.concatenate([sens.delta, sens.vega])
    gamma = np.diag(np.concatenate([sens.gamma, np.zeros_like(sens.gamma)]))
    drift = float(sens.theta.sum()) / 365.0
    assert _same(a.delta_normal_var, var_delta_normal(delta, cov, 0.99, drift=drift))
    assert _same(a.cornish_fisher_var, var_delta_gamma(delta, gamma, cov, 0.99, drift=drift))


def test_assess_book_refuses_a_covariance_that_is_not_psd():
    bad = dataclasses.replace(model())
    object.__setattr__(bad, "annual_covariance", np.diag([1.0, 1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="not positive semi-definite"):
        assess_book(perp_book(), bad, scenarios=200)


AS_OF = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _marks(rng: np.random.Generator) -> Marks:
    # a symbol twice: its last row counts, at the place of its first
    perps = ["BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USDC:USDC", "SOL/USDT:USDT", "BTC/USDT:USDT"]
    perp_frame = pl.DataFrame(
        {
            "symbol": perps,
            "timestamp": [AS_OF - timedelta(seconds=float(s)) for s in rng.uniform(0, 90, 5)],
            "mark": rng.uniform(10, 9e4, 5),
        }
    )
    n = 12
    underlying = np.array(["BTC", "ETH", "DOGE", *rng.choice(["BTC", "ETH", "DOGE"], n - 3)])
    forward = rng.uniform(0.1, 9e4, n)
    options = pl.DataFrame(
        {
            "symbol": [f"{u}/USD:{u}-2603{k:02d}-C" for k, u in enumerate(underlying)],
            "timestamp": [AS_OF - timedelta(seconds=float(s)) for s in rng.uniform(0, 90, n)],
            "underlying": underlying.tolist(),
            "underlying_price": forward,
            "strike": forward * rng.uniform(0.8, 1.2, n),
            "expiry": [AS_OF + timedelta(days=float(d)) for d in rng.uniform(1, 90, n)],
            "mark_iv": rng.uniform(0.3, 1.2, n),
            "option_type": rng.choice(["call", "put"], n).tolist(),
        }
    )
    return Marks(AS_OF, perp_frame, options)


def _value_book_row_by_row(positions: pl.DataFrame, marks: Marks, perp_symbols: list[str]):
    """The valuation row by row through ``unit_book`` (what the column reads replace)."""
    holdings = {s: q for s, q in zip(positions["symbol"], positions["quantity"], strict=True) if q}
    perp_rows = {r["symbol"]: r for r in marks.perps.iter_rows(named=True)}
    option_rows = {r["symbol"]: r for r in marks.options.iter_rows(named=True)}
    underlyings = tuple(dict.fromkeys(base_currency(s) for s in [*perp_symbols, *holdings]))
    spot = []
    for base in underlyings:
        perps = [r for s, r in perp_rows.items() if base_currency(s) == base and s in perp_symbols]
        perps = perps or [r for s, r in perp_rows.items() if base_currency(s) == base]
        forwards = [r["underlying_price"] for r in option_rows.values() if r["underlying"] == base]
        spot.append(float(perps[0]["mark"]) if perps else float(np.median(forwards)))
    spots = np.array(spot)
    tradable = [s for s in perp_symbols if s in perp_rows] + [
        s for s in holdings if s not in perp_symbols
    ]
    instruments, prices, ages = {}, {}, {}
    for symbol in dict.fromkeys(tradable):
        row = perp_rows.get(symbol) or option_rows[symbol]
        instruments[symbol] = unit_book(symbol, row, underlyings, spots, AS_OF)
        prices[symbol] = float(row["mark"] if symbol in perp_rows else row["underlying_price"])
        ages[symbol] = (AS_OF - row["timestamp"]).total_seconds()
    return underlyings, spots, instruments, prices, ages


def test_value_book_reads_the_marks_of_the_row_by_row_valuation():
    rng = np.random.default_rng(4)
    for _ in range(5):
        marks = _marks(rng)
        options = marks.options["symbol"].to_list()
        held = [*rng.choice(options, 3, replace=False), "SOL/USDT:USDT", "BTC/USDC:USDC"]
        positions = pl.DataFrame(
            {
                "symbol": held,
                "quantity": [1.5, -2.0, 0.0, 3.0, -1.0],
                "entry_price": rng.uniform(1, 100, 5),
                "realized_pnl": rng.normal(0, 100, 5),
                "fees": rng.uniform(0, 5, 5),
                "funding": [None, *rng.normal(0, 10, 4)],
            }
        )
        perp_symbols = ["ETH/USDT:USDT", "BTC/USDT:USDT", "DOGE/USDT:USDT"]
        valued = value_book(positions, marks, perp_symbols)
        underlyings, spots, instruments, prices, ages = _value_book_row_by_row(
            positions, marks, perp_symbols
        )
        assert valued.book.underlyings == underlyings
        assert _same(valued.book.spot, spots)
        assert _same(dict(valued.instruments), instruments)
        assert _same(dict(valued.prices), prices)
        assert _same(dict(valued.mark_age_s), ages)
        booked = positions.select(
            (pl.col("realized_pnl") - pl.col("fees") + pl.col("funding")).sum()
        ).item()
        unrealized = 0.0
        for symbol, quantity, entry in positions.select("symbol", "quantity", "entry_price").rows():
            if quantity:
                legs = instruments[symbol].options
                unit = (
                    instruments[symbol].perps.price[0]
                    if instruments[symbol].perps.size
                    else option_values(
                        legs.forward, legs.strike, legs.expiry, legs.vol, legs.is_call
                    )[0]
                )
                unrealized += quantity * (unit - entry)
        assert _same(valued.equity(1e6, positions), float(1e6 + booked + unrealized))


def _revalue_loop(plan, spot_returns, vol_shifts):
    """Full revaluation one underlying at a time (what the array of all moves replaces)."""
    from qbtc.risk.kernel import group_value

    pnl = np.zeros(spot_returns.shape[0])
    for u in range(plan.underlyings):
        if plan.perp_exposure[u] != 0.0:
            pnl += spot_returns[:, u] * plan.perp_exposure[u]
    for group, expiry_after, value_now in plan.groups:
        u = group.underlying
        pnl += group_value(group, 1.0 + spot_returns[:, u], vol_shifts[:, u], expiry_after)
        pnl -= value_now
    return pnl


def _delta_gamma_loop(sens, spot_returns, vol_shifts, horizon_days):
    pnl = np.full(spot_returns.shape[0], float(sens.theta.sum()) * horizon_days / 365.0)
    for u in range(sens.delta.size):
        r = spot_returns[:, u]
        pnl += sens.delta[u] * r + 0.5 * sens.gamma[u] * r * r + sens.vega[u] * vol_shifts[:, u]
    return pnl


@pytest.mark.parametrize("make", [perp_book, option_book, lambda: perp_book(0.0, 2.0)])
def test_revaluation_and_delta_gamma_of_all_underlyings_at_once_equal_the_loops(make):
    book = make()
    # up to ONE_ARRAY_ROWS scenarios the perps' moves are one array, above a column at a time
    for seed, horizon, n in ((1, 1.0, 998), (2, 10.0, 2048), (3, 0.25, 3000)):
        shocks = simulate_scenarios(model(), UNDERLYINGS, horizon, n, seed)
        plan = plan_revaluation(book, horizon)
        assert _same(
            revalue(plan, shocks.spot_returns, shocks.vol_shifts),
            _revalue_loop(plan, shocks.spot_returns, shocks.vol_shifts),
        )
        sens = sensitivities(book)
        assert _same(
            delta_gamma_pnl(sens, shocks.spot_returns, shocks.vol_shifts, horizon),
            _delta_gamma_loop(sens, shocks.spot_returns, shocks.vol_shifts, horizon),
        )


@pytest.mark.parametrize("make", [perp_book, option_book])
def test_stress_on_the_kept_shocks_equals_a_fresh_revaluation(make):
    book = make()
    for _ in range(2):  # made, then kept
        results = stress_test(book)
        spot = np.array([[r.spot_shift] * 2 for r in results])
        vol = np.array([[r.vol_shift] * 2 for r in results])
        expected = _revalue_loop(plan_revaluation(book, 0.0), spot, vol)
        assert _same(tuple(r.pnl for r in results), tuple(expected.tolist()))
    with pytest.raises(ValueError, match="above -100%"):
        stress_test(book, (StressScenario("wipe-out", -1.0, 0.0),))
    # any sequence of scenarios, not only a tuple
    as_list = stress_test(book, list(STANDARD_SCENARIOS))
    assert _same(tuple(r.pnl for r in as_list), tuple(r.pnl for r in stress_test(book)))


@pytest.mark.parametrize("make", [perp_book, option_book])
def test_greeks_per_underlying_are_the_element_wise_figures(make):
    book = make()
    greeks = portfolio_greeks(book)
    sens = sensitivities(book)
    for i, row in enumerate(greeks.by_underlying):
        assert row.underlying == book.underlyings[i]
        assert _same(row.spot, float(book.spot[i]))
        assert _same(row.delta_coin, float(sens.delta[i] / book.spot[i]))
        assert _same(row.delta_usd, float(sens.delta[i]))
        assert _same(row.gamma_usd, float(sens.gamma[i] * 0.01))
        assert _same(row.vega_usd, float(sens.vega[i] * 0.01))
        assert _same(row.theta_usd, float(sens.theta[i] / 365.0))
    assert portfolio_greeks(book, per_underlying=False).by_underlying == ()


@pytest.mark.parametrize("order", [("BTC", "ETH"), ("ETH", "BTC"), ("ETH",)])
def test_spot_model_and_history_of_all_perps_in_order_equal_the_picked_columns(order):
    prices = _prices(np.random.default_rng(5))
    model_, vols, correlation = spot_model(prices, order)
    vol, corr = estimate_spot_risk(prices.closes, prices.periods_per_year)
    idx = [("BTC", "ETH").index(u) for u in order]
    expected = factor_model(order, vol[idx], corr[np.ix_(idx, idx)])
    assert _same(model_, expected)
    assert _same(vols, {s: float(vol[i]) for i, s in enumerate(prices.symbols)})
    assert _same(
        correlation,
        {
            a: {b: float(corr[i, j]) for j, b in enumerate(prices.symbols)}
            for i, a in enumerate(prices.symbols)
        },
    )
    closes = prices.closes[:, idx]
    moves = np.clip((closes[1:] / closes[:-1] - 1.0) * np.sqrt(1440.0), -0.99, None)
    assert _same(historical_scenarios(prices, order, 1.0).spot_returns, moves)


def test_a_factor_covariance_must_still_be_symmetric():
    cov = np.diag([0.1, 0.2, 0.3, 0.4])
    cov[0, 1] = 1e-3
    with pytest.raises(ValueError, match="symmetric"):
        FactorModel(("A", "B"), cov)
    cov[1, 0] = 1e-3 * (1 + 1e-12)  # equal up to rounding: accepted as before
    assert FactorModel(("A", "B"), cov).annual_covariance is not None


def _psd_verdict(check, matrix):
    try:
        return check(matrix)
    except ValueError as exc:
        return str(exc)


def test_the_psd_check_with_eigh_gives_check_psds_verdict_and_matrix():
    rng = np.random.default_rng(6)
    for k in range(60):
        n = int(rng.integers(1, 12))
        a = rng.normal(size=(n, n))
        values, vectors = np.linalg.eigh(a @ a.T)
        # smallest eigenvalue around the limit (-1e-10 of the largest), well inside, past it
        values[0] = values[-1] * float(
            rng.choice([-1e-10 * (1 + 1e-6), -1e-10 * (1 - 1e-6), -3e-11, -7e-11, 1e-3, -1e-3, 0.0])
        )
        matrix = (vectors * values) @ vectors.T + (
            rng.normal(size=(n, n)) * 1e-18 if k % 2 else 0.0
        )
        expected = _psd_verdict(check_psd, matrix)
        got = _psd_verdict(check_psd_eigh, matrix)
        if isinstance(expected, str):
            assert got == expected
        else:
            sym, eigenvalues, eigenvectors = got
            assert _same(sym, expected)
            reference = np.linalg.eigh(expected)
            assert _same(eigenvalues, reference[0])
            assert _same(eigenvectors, reference[1])


def test_delta_gamma_var_of_a_zero_gamma_equals_the_general_formula():
    rng = np.random.default_rng(7)
    for k in range(200):
        n = int(rng.integers(1, 9))
        a = rng.normal(size=(n, n)) * rng.choice([1e-3, 1.0])
        cov = a @ a.T
        if k % 5 == 0:
            cov[0, :] = cov[:, 0] = 0.0  # a factor that never moves
        delta = rng.normal(size=n) * 10 ** rng.uniform(0, 6) * (k % 7 != 0)  # some all zero
        drift = float(rng.choice([0.0, -0.0, rng.normal() * 100]))
        level = float(rng.choice([0.5, 0.9, 0.99, 0.999]))
        zero = np.zeros((n, n))
        assert _same(
            var_delta_gamma(delta, zero, cov, level, drift=drift),
            _cornish_fisher_var(delta, zero, check_psd(cov), level, drift),
        )


def test_sample_covariance_is_numpys_cov():
    rng = np.random.default_rng(8)
    for rows, columns in ((2, 1), (2, 3), (3, 1), (50, 4), (1439, 20), (300, 41)):
        observations = rng.normal(0, 1e-3, (rows, columns)) * rng.uniform(0.1, 10, columns)
        expected = np.cov(observations, rowvar=False, ddof=1)
        assert _same(sample_covariance(observations.copy()), expected)


def test_factor_model_quadrants_are_the_kronecker_product():
    rng = np.random.default_rng(9)
    for u in (1, 2, 5, 20):
        a = rng.normal(size=(u, u + 3))
        cov = a @ a.T
        corr = cov / np.outer(np.sqrt(np.diag(cov)), np.sqrt(np.diag(cov)))
        vols, vov, rho = rng.uniform(0.2, 1.5, u), rng.uniform(0.1, 1.0, u), -0.4
        names = tuple(f"U{i}" for i in range(u))
        block = np.array([[1.0, rho], [rho, 1.0]])
        scale = np.concatenate([vols, vov])
        expected = np.kron(block, corr) * np.outer(scale, scale)
        got = factor_model(names, vols, corr, vol_of_vol=vov, spot_vol_correlation=rho)
        assert _same(got.annual_covariance, expected)
