"""vectorbt on the backtest benchmark's target positions (runs in vectorbt's own venv).

Usage: ``peer_vectorbt.py PATH.npz``. The .npz holds ``closes`` (bars x symbols, USDT),
``rows`` (bar index of each decision), ``targets`` (decisions x symbols, contracts held from
that bar on), ``fee_rate`` (fraction of notional), ``capital`` and ``buffer`` (USDT). Prints
one JSON object: the final value minus ``buffer``, the first call's seconds (numba compiles
then) and the best of two warm calls.

vectorbt has no leverage: a buy needs cash. The backtest's book (margin, up to 3x equity)
gets ``buffer`` of extra cash that only ever sits there; it is subtracted from the final
value, so the figure compares with qbtc's equity to the cent.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main(path: str) -> None:
    import pandas as pd
    import vectorbt as vbt

    data = np.load(path)
    closes, rows, targets = data["closes"], data["rows"], data["targets"]
    size = np.full(closes.shape, np.nan)
    size[rows] = targets
    index = pd.date_range("2026-01-01", periods=closes.shape[0], freq="min")
    close = pd.DataFrame(closes, index=index)
    orders = pd.DataFrame(size, index=index)
    cash = float(data["capital"]) + float(data["buffer"])

    def run() -> float:
        portfolio = vbt.Portfolio.from_orders(
            close=close,
            size=orders,
            size_type="targetamount",
            fees=float(data["fee_rate"]),
            init_cash=cash,
            cash_sharing=True,
            group_by=True,
            call_seq="auto",
            freq="1min",
        )
        return float(portfolio.final_value()) - float(data["buffer"])

    started = time.perf_counter()
    final = run()
    first = time.perf_counter() - started
    warm = []
    for _ in range(2):
        started = time.perf_counter()
        run()
        warm.append(time.perf_counter() - started)
    print(json.dumps({"final_equity": final, "first_call_s": first, "warm_s": min(warm)}))


if __name__ == "__main__":
    main(sys.argv[1])
