"""Build the peers' own virtual environments for the benchmarks (idempotent).

``python -m tests.benchmarks.peers.build_env [VENV_DIR]`` creates ``data/bench/peers-venv``
(by default) with the pinned ``requirements.txt`` and checks that the peers import. The
peers never enter qbtc's own environment: py_vollib_vectorized needs numpy 2.0 and numba 0.60.
:data:`VECTORBT` is the backtest benchmark's peer (``vectorbt-requirements.txt``), in its own
venv the same way.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
DEFAULT_VENV = Path("data/bench/peers-venv")
IMPORT_CHECK = (
    "import py_vollib_vectorized, py_lets_be_rational, numba, numpy; print(numpy.__version__)"
)


@dataclass(frozen=True)
class PeerSpec:
    """A peer environment: where it lives, its pinned requirements, what must import."""

    venv: Path
    requirements: Path
    import_check: str


IV_PEERS = PeerSpec(DEFAULT_VENV, REQUIREMENTS, IMPORT_CHECK)
VECTORBT = PeerSpec(
    Path("data/bench/vectorbt-venv"),
    HERE / "vectorbt-requirements.txt",
    "import vectorbt, numba, numpy, pandas; print(vectorbt.__version__)",
)


@dataclass(frozen=True)
class PeerEnvironment:
    """Result of ``ensure_peer_environment``: the interpreter to use, or why there is none."""

    python: Path | None
    error: str | None = None


def single_thread_env() -> dict[str, str]:
    """Environment that keeps every numeric library on one thread."""
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[key] = "1"
    return env


def ensure_peer_environment(
    venv: Path = DEFAULT_VENV, timeout_s: float = 900.0, spec: PeerSpec = IV_PEERS
) -> PeerEnvironment:
    """Create or reuse ``venv`` with the pinned peers; never raises, reports the failure."""
    python = venv / "bin" / "python"
    stamp = venv / ".requirements.sha256"
    wanted = hashlib.sha256(spec.requirements.read_bytes()).hexdigest()
    try:
        if not python.exists():
            _run([sys.executable, "-m", "venv", str(venv)], timeout_s)
        if not stamp.exists() or stamp.read_text().strip() != wanted:
            command = [str(python), "-m", "pip", "install", "-q", "-r", str(spec.requirements)]
            _run(command, timeout_s)
            stamp.write_text(wanted)
        _run([str(python), "-c", spec.import_check], 300.0)
    except (OSError, subprocess.SubprocessError) as exc:
        return PeerEnvironment(python=None, error=f"peer environment unavailable: {exc}")
    return PeerEnvironment(python=python)


def _run(command: list[str], timeout_s: float) -> None:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout_s, env=single_thread_env()
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise subprocess.SubprocessError(f"{' '.join(command[:4])} failed: {' | '.join(tail)}")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_VENV
    result = ensure_peer_environment(target)
    print(result.error or f"peers ready: {result.python}")
    sys.exit(1 if result.error else 0)
