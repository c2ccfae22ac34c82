"""Pricing: implied vol against py_vollib_vectorized and py_lets_be_rational, and Black-76.

Three grids of 100k options (random; wide wings and short expiries; ATM-dense), priced to a
few ulps with the normalised Black function, then inverted by each solver. Times are process
CPU seconds (best of several runs, one thread), so a busy machine inflates them less than
wall time; every solver is timed the same way in the same run. The peers run in their own
venv (``tests/benchmarks/peers``), built on first use; if it cannot be built, the report says
why and still gives qbtc's figures.

Accuracy: the max abs vol error over all options, and over those where vega is not
negligible, i.e. where one ulp of the price moves the vol by less than 1e-13
(``eps * price / vega <= 1e-13``).
"""

from __future__ import annotations

import os

for _key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_key] = "1"

import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from scipy import special  # noqa: E402

from qbtc.pricing import black76_price, greeks, implied_vol  # noqa: E402
from qbtc.pricing.normalised import normalised_black_call  # noqa: E402
from tests.benchmarks.peers.build_env import ensure_peer_environment, single_thread_env  # noqa: E402

OPTIONS = 100_000
SEED = 20_261_124
FORWARD = 60_000.0
LBR_SAMPLE = 20_000  # py_lets_be_rational is a scalar Python loop: time a sample
OUT_DIR = Path("data/bench")
PEER_SCRIPT = Path(__file__).resolve().parent / "peers" / "peer_iv.py"
EPS = float(np.finfo(np.float64).eps)

Grid = dict[str, np.ndarray]


def build_grids(n: int = OPTIONS, seed: int = SEED) -> dict[str, Grid]:
    """The three grids: log-moneyness in units of vol·sqrt(T), expiries in years."""
    rng = np.random.default_rng(seed)
    year, day, hour = 1.0, 1 / 365, 1 / 8760

    def log_uniform(low: float, high: float) -> np.ndarray:
        return np.exp(rng.uniform(np.log(low), np.log(high), n))

    random_depth = rng.uniform(-3.0, 3.0, n)
    random = _grid(log_uniform(day, 2 * year), rng.uniform(0.05, 3.0, n), random_depth, rng)
    wing_depth = rng.uniform(3.0, 8.0, n) * rng.choice([-1.0, 1.0], n)
    wings = _grid(log_uniform(hour, 7 * day), rng.uniform(0.05, 3.0, n), wing_depth, rng, otm=True)
    atm_depth = np.where(rng.random(n) < 0.1, 0.0, rng.uniform(-0.1, 0.1, n))
    atm = _grid(log_uniform(day, 2 * year), rng.uniform(0.05, 3.0, n), atm_depth, rng)
    return {"random": random, "wings_short": wings, "atm_dense": atm}


def _grid(expiry, vol, depth, rng, *, otm: bool = False) -> Grid:
    strike = FORWARD * np.exp(depth * vol * np.sqrt(expiry))
    is_call = strike >= FORWARD if otm else rng.random(expiry.size) < 0.5
    # Out-of-the-money part to a few ulps, intrinsic value added in price space.
    x = -np.abs(np.log(FORWARD / strike))
    otm = np.sqrt(FORWARD * strike) * normalised_black_call(x, vol * np.sqrt(expiry))
    price = np.maximum(np.where(is_call, FORWARD - strike, strike - FORWARD), 0.0) + otm
    forward = np.full(expiry.size, FORWARD)
    return {
        "price": price,
        "forward": forward,
        "strike": strike,
        "expiry": expiry,
        "is_call": is_call,
        "vol": vol,
    }


def best_cpu_ns(run: Callable[[], object], count: int, repeats: int) -> float:
    """Best process CPU time of ``repeats`` runs, in ns per option."""
    run()
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best / count * 1e9


def qbtc_iv_figures(grid: Grid) -> dict[str, object]:
    args = (grid["price"], grid["forward"], grid["strike"], grid["expiry"], grid["is_call"])
    ns = best_cpu_ns(lambda: implied_vol(*args), grid["price"].size, 7)
    vol = implied_vol(*args)
    error = np.abs(vol - grid["vol"])
    vega = greeks(
        grid["forward"], grid["strike"], grid["expiry"], grid["vol"], grid["is_call"]
    ).vega
    with np.errstate(divide="ignore"):
        conditioned = EPS * grid["price"] / vega <= 1e-13
    return {
        "ns_per_option": round(ns, 1),
        "max_abs_vol_error": float(np.nanmax(error)),
        "max_abs_vol_error_vega_not_negligible": float(np.nanmax(error[conditioned])),
        "share_vega_negligible": round(float(1 - conditioned.mean()), 4),
        "nan_answers": int(np.isnan(vol).sum()),
    }


def bare_black76(forward, strike, expiry, vol, theta):
    """Textbook numpy Black-76 (calls and puts), no validation: the speed reference."""
    total = vol * np.sqrt(expiry)
    d1 = (np.log(forward / strike) + 0.5 * total * total) / total
    d2 = d1 - total
    return theta * (forward * special.ndtr(theta * d1) - strike * special.ndtr(theta * d2))


def black76_figures(grid: Grid) -> dict[str, object]:
    f, k, t, v, call = (grid[key] for key in ("forward", "strike", "expiry", "vol", "is_call"))
    theta = np.where(call, 1.0, -1.0)
    ours = best_cpu_ns(lambda: black76_price(f, k, t, v, call), f.size, 11)
    bare = best_cpu_ns(lambda: bare_black76(f, k, t, v, theta), f.size, 11)
    difference = np.abs(black76_price(f, k, t, v, call) - bare_black76(f, k, t, v, theta))
    return {
        "black76 qbtc ns/option": round(ours, 1),
        "black76 bare numpy kernel ns/option": round(bare, 1),
        "black76 qbtc / bare": round(ours / bare, 3),
        "black76 max abs difference to bare (USDT, F=60000)": float(difference.max()),
    }


def peer_figures(grids: dict[str, Grid]) -> dict[str, Any]:
    """Run peer_iv.py in the peers' venv; ``{"error": ...}`` if that is not possible."""
    environment = ensure_peer_environment()
    if environment.python is None:
        return {"error": environment.error}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / "pricing-grids.npz"
    arrays: dict[str, Any] = {
        f"{name}.{key}": array for name, grid in grids.items() for key, array in grid.items()
    }
    np.savez(path, **arrays)
    done = subprocess.run(
        [str(environment.python), str(PEER_SCRIPT), str(path), str(LBR_SAMPLE)],
        capture_output=True,
        text=True,
        timeout=1800,
        env=single_thread_env(),
    )
    if done.returncode != 0:
        return {"error": f"peer run failed: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> dict[str, object]:
    grids = build_grids()
    figures: dict[str, object] = {"timing": "process CPU time, best of repeats, one thread"}
    ours = {name: qbtc_iv_figures(grid) for name, grid in grids.items()}
    peers = peer_figures(grids)
    if "error" in peers:
        figures["peers"] = peers["error"]
    for name in grids:
        for key, value in ours[name].items():
            figures[f"iv {name} qbtc {key}"] = value
        for peer in ("py_vollib_vectorized", "py_lets_be_rational"):
            entry = peers.get(name, {}).get(peer, {}) if "error" not in peers else {}
            for key, value in entry.items():
                figures[f"iv {name} {peer} {key}"] = value
            if "ns_per_option" in entry:
                speedup = entry["ns_per_option"] / ours[name]["ns_per_option"]
                figures[f"iv {name} qbtc speed-up vs {peer}"] = round(speedup, 2)
    figures.update(black76_figures(grids["random"]))
    return figures
