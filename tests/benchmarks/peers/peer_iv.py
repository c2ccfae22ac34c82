"""Time the peer implied-vol solvers on the benchmark grids (runs in the peers' venv).

Usage: ``peer_iv.py GRIDS.npz LBR_SAMPLE``. The .npz holds, per grid ``g``: ``g.price``,
``g.forward``, ``g.strike``, ``g.expiry``, ``g.is_call``, ``g.vol`` (the true vol). Prints one
JSON object: per grid and peer, ns/option (process CPU time, best of repeats) and the max abs
vol error (NaN answers counted apart). Single-threaded: the caller sets *_NUM_THREADS=1.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time

import numpy as np


def best_cpu_seconds(run, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.process_time()
        result = run()
        best = min(best, time.process_time() - started)
    return best, result


def errors(vol: np.ndarray, truth: np.ndarray) -> dict[str, object]:
    vol = np.asarray(vol, dtype=np.float64)
    finite = np.isfinite(vol)
    error = np.abs(vol[finite] - truth[finite])
    return {
        "max_abs_vol_error": float(error.max()) if error.size else None,
        "nan_answers": int((~finite).sum()),
    }


def vectorized(grid: dict[str, np.ndarray]) -> dict[str, object]:
    from py_vollib_vectorized import vectorized_implied_volatility_black

    flag = np.where(grid["is_call"], "c", "p")

    def run(sl=slice(None)):
        return vectorized_implied_volatility_black(
            grid["price"][sl],
            grid["forward"][sl],
            grid["strike"][sl],
            0.0,
            grid["expiry"][sl],
            flag[sl],
            return_as="numpy",
            on_error="ignore",
        )

    run(slice(0, 100))  # numba compiles on the first call: not timed
    seconds, vol = best_cpu_seconds(run, 3)
    return {"ns_per_option": seconds / grid["price"].size * 1e9, **errors(vol, grid["vol"])}


def lets_be_rational(grid: dict[str, np.ndarray], sample: int) -> dict[str, object]:
    from py_lets_be_rational import implied_volatility_from_a_transformed_rational_guess as iv

    n = min(sample, grid["price"].size)
    args = [
        (
            float(grid["price"][i]),
            float(grid["forward"][i]),
            float(grid["strike"][i]),
            float(grid["expiry"][i]),
            1.0 if grid["is_call"][i] else -1.0,
        )
        for i in range(n)
    ]

    def run():
        out = np.empty(n)
        for i, a in enumerate(args):
            try:
                out[i] = iv(*a)
            except Exception:  # the library raises below intrinsic / above maximum
                out[i] = np.nan
        return out

    run_small = args[:10]
    for a in run_small:  # warm-up (numba, if it jits anything)
        with contextlib.suppress(Exception):
            iv(*a)
    seconds, vol = best_cpu_seconds(run, 1)
    return {"ns_per_option": seconds / n * 1e9, "options_timed": n, **errors(vol, grid["vol"][:n])}


def main(path: str, sample: int) -> dict[str, object]:
    data = np.load(path)
    names = sorted({key.split(".")[0] for key in data.files})
    report: dict[str, object] = {"numpy": np.__version__}
    for name in names:
        grid = {key.split(".", 1)[1]: data[key] for key in data.files if key.startswith(name + ".")}
        entry: dict[str, object] = {}
        for peer, solve in (
            ("py_vollib_vectorized", lambda g: vectorized(g)),
            ("py_lets_be_rational", lambda g: lets_be_rational(g, sample)),
        ):
            try:
                entry[peer] = solve(grid)
            except Exception as exc:  # report and go on with the next peer
                entry[peer] = {"error": f"{type(exc).__name__}: {exc}"}
        report[name] = entry
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
