"""``make bench``: run every ``tests/benchmarks/bench_*.py`` and report its figures.

Each module has ``run() -> dict[str, object]``; figures are printed and written to
``data/bench/<name>.json``. Pass module names to run only some:
``python -m tests.benchmarks lake pricing``.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if names:
        modules = [m for m in modules if m.removeprefix("bench_") in names or m in names]
    out_dir = Path("data/bench")
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in modules:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            figures = importlib.import_module(f"tests.benchmarks.{name}").run()
        except Exception as exc:  # report and go on with the other benchmarks
            print(f"FAILED: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        figures["bench_wall_s"] = round(time.perf_counter() - started, 2)
        for key, value in figures.items():
            print(f"  {key:<48} {value}")
        (out_dir / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str))
    print(f"\nreports in {out_dir}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
